#pragma once
// How command descriptors hold their arguments without owning or allocating anything.
//
//   arg        one argument: a string (viewed, not copied), a signed or unsigned integer, or a
//              float or double. Built implicitly from anything resp::encoder takes as one argument,
//              so a descriptor field of type arg accepts "v", std::string, 42, 2.5 alike.
//   arg_list   zero, one or many arguments: a single argument (stored inline), a braced list
//              {"a", "b", 3} (viewed), or any forward range of arguments (viewed): a vector of
//              strings, a std::span, a C array, a view.
//   pair_list  zero, one or many pairs of arguments (field/value, key/value, score/member): a
//              single pair {"f", "v"} (stored inline), a braced list {{"f", "v"}, {"g", 2}}
//              (viewed), or any forward range whose elements have `.first` and `.second` (a
//              std::map, a vector of std::pair) (viewed).
//
// Lifetime: these are views, like std::string_view. Whatever they view must outlive the encoding,
// which happens inside exec(): build a descriptor in the exec() expression itself and every
// temporary in it (a std::string, a braced list, a vector) lives long enough. A descriptor kept
// in a variable must not view a temporary; a braced list of several elements is such a temporary
// (its backing array dies at the end of the declaration), so it can only be used inline:
//
//   conn.exec(cmd::del{{"a", "b"}}, cb);       // fine: the list lives until exec() returns
//   cmd::del d{{"a", "b"}};  conn.exec(d, cb);  // dangling: the list died with the declaration
//   cmd::del d{keys};  conn.exec(d, cb);        // fine: `keys` is a named array or vector
//
// A range is walked twice (once to count its elements for the RESP array header, once to write
// them), so it must be a forward range; a range of anything but arguments (chars, bools, nested
// ranges) does not compile.
//
// Besides encode(), arg_list and pair_list hand their elements, as args, to a callback
// (for_each), and arg::bytes() gives an argument's exact bytes on the wire: that is how a
// descriptor lists its keys (descriptor.hpp) without encoding or allocating anything.

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// One argument of a command.
class arg {
 public:
  enum class kind : std::uint8_t { text, signed_integer, unsigned_integer, real, real_float };

  /// The empty string.
  constexpr arg() noexcept : text_() {}

  template <resp::string_argument S>
  constexpr arg(const S& text) noexcept : text_(std::string_view(text)) {}

  template <resp::integer_argument I>
  constexpr arg(I value) noexcept {
    if constexpr (std::is_signed_v<I>) {
      kind_ = kind::signed_integer;
      signed_ = value;
    } else {
      kind_ = kind::unsigned_integer;
      unsigned_ = value;
    }
  }

  constexpr arg(double value) noexcept : kind_(kind::real), real_(value) {}
  // Kept a float, so it is written as the encoder writes floats: 0.1f as "0.1", not as the
  // double nearest to it. (long double is refused: a double may not hold it exactly.)
  constexpr arg(float value) noexcept : kind_(kind::real_float), float_(value) {}

  // See resp/encoder.hpp: Redis has no boolean argument, and a char might be a digit or a byte.
  arg(bool) = delete;
  arg(char) = delete;
  arg(long double) = delete;

  constexpr kind type() const noexcept { return kind_; }
  /// Precondition: type() == kind::text.
  constexpr std::string_view text() const noexcept {
    assert(kind_ == kind::text);
    return text_;
  }

  /// The bytes encode() sends: the text itself, or a number's text written into `scratch` (then
  /// the view is into scratch).
  constexpr std::string_view bytes(std::span<char, resp::max_number_text> scratch) const noexcept {
    switch (kind_) {
      case kind::text:
        break;
      case kind::signed_integer:
        return resp::number_text(signed_, scratch);
      case kind::unsigned_integer:
        return resp::number_text(unsigned_, scratch);
      case kind::real:
        return resp::number_text(real_, scratch);
      case kind::real_float:
        return resp::number_text(float_, scratch);
    }
    return text_;
  }

  /// Appends this argument to the command `e` has begun.
  void encode(resp::encoder& e) const {
    switch (kind_) {
      case kind::text:
        e.arg(text_);
        break;
      case kind::signed_integer:
        e.arg(signed_);
        break;
      case kind::unsigned_integer:
        e.arg(unsigned_);
        break;
      case kind::real:
        e.arg(real_);
        break;
      case kind::real_float:
        e.arg(float_);
        break;
    }
  }

 private:
  kind kind_ = kind::text;
  union {
    std::string_view text_;
    std::int64_t signed_;
    std::uint64_t unsigned_;
    double real_;
    float float_;
  };
};

/// Two arguments that go together (a hash field and its value, a score and its member).
struct arg_pair {
  arg first{};
  arg second{};
};

namespace detail {

template <class T>
concept single_argument = std::convertible_to<const T&, arg> && !std::same_as<T, bool>;

template <class R>
concept forward_argument_range =
    std::ranges::forward_range<R> && !single_argument<std::remove_cvref_t<R>> &&
    single_argument<std::remove_cvref_t<std::ranges::range_reference_t<R>>>;

template <class P>
concept argument_pair = requires(const P& p) {
  { p.first } -> single_argument;
  { p.second } -> single_argument;
};

template <class R>
concept forward_pair_range = std::ranges::forward_range<R> &&
    argument_pair<std::remove_cvref_t<std::ranges::range_reference_t<R>>>;

// Element writers: the argument types the encoder knows go to it directly; cmd::arg encodes
// itself.
template <class T>
void encode_one(resp::encoder& e, const T& value) {
  if constexpr (resp::argument<T>) {
    e.arg(value);
  } else {
    arg(value).encode(e);
  }
}

template <class R>
R& range_at(const void* range) noexcept {
  // The range was given as R& (possibly non-const: some views iterate only when non-const).
  return *static_cast<R*>(const_cast<void*>(range));
}

// for_each's callback, with its type erased for the walkers of viewed ranges (which know the
// range's type but not the callback's): take(context, element) calls the callback.
struct arg_sink {
  void* context;
  void (*take)(void* context, const arg& element);
};

struct pair_sink {
  void* context;
  void (*take)(void* context, const arg& first, const arg& second);
};

template <class F>
void* context_of(F& f) noexcept {
  // Cast back to F* (with F's own constness) by the sink's take().
  return const_cast<void*>(static_cast<const void*>(std::addressof(f)));
}

}  // namespace detail

/// Zero, one or many arguments (see the header comment for what each form views).
class arg_list {
 public:
  /// No arguments.
  constexpr arg_list() noexcept = default;

  /// One argument, stored inline.
  template <detail::single_argument A>
  constexpr arg_list(const A& one) noexcept : one_(one), size_(1) {}

  /// The arguments of a braced list, viewed.
  constexpr arg_list(std::initializer_list<arg> many) noexcept
      : range_(many.begin()), size_(many.size()), walk_(&walk_array) {}

  /// The elements of a forward range, viewed.
  template <detail::forward_argument_range R>
  constexpr arg_list(R&& range) noexcept
      : range_(std::addressof(range)),
        size_(static_cast<std::size_t>(std::ranges::distance(range))),
        walk_(&walk_range<std::remove_reference_t<R>>) {}

  /// How many arguments encode() appends.
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }

  /// Appends the arguments to the command `e` has begun.
  void encode(resp::encoder& e) const {
    if (walk_ != nullptr) {
      walk_(range_, size_, &e, nullptr);
    } else if (size_ == 1) {
      one_.encode(e);
    }
  }

  /// Calls f(const arg&) once per argument, in order (size() times).
  template <class F>
  constexpr void for_each(F&& f) const {
    if (walk_ != nullptr) {
      const detail::arg_sink sink{detail::context_of(f), [](void* context, const arg& element) {
                                    (*static_cast<std::remove_reference_t<F>*>(context))(element);
                                  }};
      walk_(range_, size_, nullptr, &sink);
    } else if (size_ == 1) {
      f(one_);
    }
  }

 private:
  // The one operation on a viewed range, so the list holds one pointer for it: with an encoder,
  // append every element to it (encode); without, hand every element to `sink` (for_each).
  using walk_fn = void (*)(const void* range, std::size_t size, resp::encoder* e,
                           const detail::arg_sink* sink);

  // A braced list's backing array: contiguous, `size` elements.
  static void walk_array(const void* range, std::size_t size, resp::encoder* e,
                         const detail::arg_sink* sink) {
    const arg* const first = static_cast<const arg*>(range);
    if (e != nullptr) {
      for (std::size_t i = 0; i < size; ++i)
        first[i].encode(*e);
    } else {
      for (std::size_t i = 0; i < size; ++i)
        sink->take(sink->context, first[i]);
    }
  }

  template <class R>
  static void walk_range(const void* range, std::size_t /*size*/, resp::encoder* e,
                         const detail::arg_sink* sink) {
    if (e != nullptr) {
      for (auto&& element : detail::range_at<R>(range))
        detail::encode_one(*e, element);
    } else {
      for (auto&& element : detail::range_at<R>(range))
        sink->take(sink->context, arg(element));
    }
  }

  arg one_{};
  const void* range_ = nullptr;
  std::size_t size_ = 0;
  // Null for the inline forms (none or one).
  walk_fn walk_ = nullptr;
};

/// Zero, one or many pairs of arguments (see the header comment for what each form views).
class pair_list {
 public:
  /// No pairs.
  constexpr pair_list() noexcept = default;

  /// One pair, stored inline: {"field", "value"}.
  template <detail::single_argument A, detail::single_argument B>
  constexpr pair_list(const A& first, const B& second) noexcept
      : one_{arg(first), arg(second)}, size_(1) {}

  /// The pairs of a braced list, viewed: {{"f", "v"}, {"g", 2}}.
  constexpr pair_list(std::initializer_list<arg_pair> many) noexcept
      : range_(many.begin()), size_(many.size()), walk_(&walk_array) {}

  /// The elements of a forward range of pairs, viewed.
  template <detail::forward_pair_range R>
  constexpr pair_list(R&& range) noexcept
      : range_(std::addressof(range)),
        size_(static_cast<std::size_t>(std::ranges::distance(range))),
        walk_(&walk_range<std::remove_reference_t<R>>) {}

  /// How many pairs there are; encode() appends twice as many arguments.
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }

  /// Appends first, second, first, second... to the command `e` has begun.
  void encode(resp::encoder& e) const {
    if (walk_ != nullptr) {
      walk_(range_, size_, &e, nullptr);
    } else if (size_ == 1) {
      one_.first.encode(e);
      one_.second.encode(e);
    }
  }

  /// Calls f(const arg& first, const arg& second) once per pair, in order (size() times).
  template <class F>
  constexpr void for_each(F&& f) const {
    if (walk_ != nullptr) {
      const detail::pair_sink sink{
          detail::context_of(f), [](void* context, const arg& first, const arg& second) {
            (*static_cast<std::remove_reference_t<F>*>(context))(first, second);
          }};
      walk_(range_, size_, nullptr, &sink);
    } else if (size_ == 1) {
      f(one_.first, one_.second);
    }
  }

 private:
  // As arg_list's: encode with an encoder, otherwise hand every pair to `sink`.
  using walk_fn = void (*)(const void* range, std::size_t size, resp::encoder* e,
                           const detail::pair_sink* sink);

  static void walk_array(const void* range, std::size_t size, resp::encoder* e,
                         const detail::pair_sink* sink) {
    const arg_pair* const first = static_cast<const arg_pair*>(range);
    if (e != nullptr) {
      for (std::size_t i = 0; i < size; ++i) {
        first[i].first.encode(*e);
        first[i].second.encode(*e);
      }
    } else {
      for (std::size_t i = 0; i < size; ++i)
        sink->take(sink->context, first[i].first, first[i].second);
    }
  }

  template <class R>
  static void walk_range(const void* range, std::size_t /*size*/, resp::encoder* e,
                         const detail::pair_sink* sink) {
    if (e != nullptr) {
      for (auto&& element : detail::range_at<R>(range)) {
        detail::encode_one(*e, element.first);
        detail::encode_one(*e, element.second);
      }
    } else {
      for (auto&& element : detail::range_at<R>(range))
        sink->take(sink->context, arg(element.first), arg(element.second));
    }
  }

  arg_pair one_{};
  const void* range_ = nullptr;
  std::size_t size_ = 0;
  walk_fn walk_ = nullptr;
};

namespace detail {

/// Calls f(std::string_view) with the bytes of each argument of `keys` as they go on the wire; a
/// number's text is on the stack, so each view lives only during its call. (How a descriptor
/// whose keys are an arg_list lists them.)
template <class F>
constexpr void for_each_key_in(const arg_list& keys, F& f) {
  keys.for_each([&f](const arg& key) {
    char scratch[resp::max_number_text];
    f(key.bytes(scratch));
  });
}

/// The same for key/value pairs (MSET): the first of each pair is the key.
template <class F>
constexpr void for_each_key_in(const pair_list& pairs, F& f) {
  pairs.for_each([&f](const arg& key, const arg& /*value*/) {
    char scratch[resp::max_number_text];
    f(key.bytes(scratch));
  });
}

}  // namespace detail

/// `NAME key arg...`: the shape of SADD, SREM, HDEL, LPUSH, RPUSH and friends.
inline void encode_key_and_list(resp::encoder& e, std::string_view name, std::string_view key,
                                const arg_list& rest) {
  e.begin(2 + rest.size());
  e.arg(name);
  e.arg(key);
  rest.encode(e);
}

}  // namespace uredis::cmd
