#pragma once
// Adapters turn the nodes of one RESP element straight into a C++ value, with no tree in
// between: adapter<T> references a T and fills it as the parser's nodes arrive, in pre-order.
//
//   adapter<T> a{out};
//   for each node n of the element:  a.on_node(n, ec);   // ec set once, on the first mismatch
//   a.done()                                              // true after the element's last node
//
// An adapter sees one element: a whole reply, or one element of an aggregate (composite
// adapters build their children's adapters). The driver never feeds attribute nodes
// (node::in_attribute) and turns a top-level error reply into a server_error itself.
//
// Errors: errc::type_mismatch (the node's type cannot become a T), errc::unexpected_null (a null
// where the target is not a std::optional), errc::unexpected_server_error (an error nested inside
// an aggregate). After the first error an adapter ignores the data but keeps counting nodes, so
// done() still turns true exactly at the end of the element and the driver stays in step with
// the byte stream. The target is overwritten (containers are cleared first); after an error its
// contents are unspecified but valid.
//
// What each target accepts:
//   std::string       simple, bulk and verbatim strings (the text after "txt:"), and the text of
//                     integers, doubles and big numbers as sent, as redis-py's decode would. Not
//                     booleans: "t"/"f" is not the value's text anywhere in Redis.
//   std::string_view  the same, as a view into the read buffer: valid only until the driver
//                     discards those bytes (for a connection, during the completion callback).
//   integers          integer replies, and strings or big numbers holding a decimal integer
//                     (Redis answers GET of a counter with a bulk string). Out of the target's
//                     range: type_mismatch. Not doubles, not booleans.
//   floating point    doubles, integers, big numbers, and strings holding a number ("3.5",
//                     "inf", "-inf", "nan", as ZSCORE and INCRBYFLOAT send them in RESP2).
//   bool              booleans, and the integers 0 and 1. Nothing else: not "OK", not "1".
//   std::optional<T>  null as std::nullopt, anything else as T.
//   std::vector<T>    arrays, sets and pushes, one T per element. A map gives one T per key and
//                     per value (key, value, key, value...), or one T per entry if T is a pair.
//   std::pair<A, B>   an array of exactly two elements; inside a vector or map, also one map
//                     entry or two consecutive elements of a flat array.
//   std::map, std::unordered_map   a RESP3 map; a RESP2 flat array of even size (HGETALL); an
//                     array of two-element arrays (RESP3 ZRANGE ... WITHSCORES). A repeated key
//                     keeps its last value.
//   ignore_t          anything, errors included.
// A vector or pair reading an array decides its layout at the array's first element: an
// aggregate there means "an array of pairs", a scalar means "a flat array" (so a pair whose
// first half is an aggregate cannot be read from a flat array).
//
// An adapter points at its target and, once fed, into its own members: construct it where it
// will live (it may be moved only before its first node), and keep the target alive until done().
//
// Containers reserve at most min(size, 1024) elements up front: an aggregate's size comes from
// the peer and must not make the client allocate gigabytes before any element has arrived.
// Scalars and std::string_view never allocate; std::string and containers allocate what they
// hold.

#include <algorithm>
#include <cassert>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/type.hpp"
#include "uredis/result.hpp"

namespace uredis::resp {

/// Fills a T from the nodes of one element. Specialized below for the std types, in reply.hpp
/// for resp::reply; a user may specialize it for their own types.
template <class T, class Enable = void>
class adapter;

/// A target that accepts any element and keeps nothing (for replies only their arrival
/// matters, e.g. the OK of SET when pipelining).
struct ignore_t {};
inline constexpr ignore_t ignore{};

namespace detail {

/// Counts the elements still to come. In pre-order one counter is enough: each node is one
/// element and announces child_count() more, so the element is whole when the count hits zero.
class element_counter {
 public:
  explicit element_counter(std::uint64_t elements = 1) noexcept : pending_(elements) {}

  void count(const node& n) noexcept {
    assert(pending_ > 0 && "a node after the end of the element");
    assert(!n.in_attribute && "drivers skip attribute nodes");
    started_ = true;
    --pending_;
    if (is_aggregate(n.type)) pending_ += child_count(n.type, n.size);
  }

  bool started() const noexcept { return started_; }
  bool done() const noexcept { return pending_ == 0; }

 private:
  std::uint64_t pending_;
  bool started_ = false;
};

/// Aggregates accepted by a sequence target.
constexpr bool is_sequence(type t) noexcept {
  return t == type::array || t == type::set || t == type::push;
}

/// The check every scalar target makes first: errc{} when `n` may be a scalar at all.
constexpr errc scalar_check(const node& n) noexcept {
  if (is_error(n.type)) return errc::unexpected_server_error;
  if (n.type == type::null) return errc::unexpected_null;
  if (is_aggregate(n.type)) return errc::type_mismatch;
  return errc{};
}

/// The check every aggregate target makes first.
constexpr errc aggregate_check(const node& n) noexcept {
  if (is_error(n.type)) return errc::unexpected_server_error;
  if (n.type == type::null) return errc::unexpected_null;
  if (!is_aggregate(n.type)) return errc::type_mismatch;
  return errc{};
}

constexpr bool is_string(type t) noexcept {
  return t == type::simple_string || t == type::bulk_string || t == type::verbatim_string;
}

/// Caps an up-front reserve: see the header comment.
constexpr std::size_t reserve_cap(std::uint64_t size) noexcept {
  constexpr std::uint64_t cap = 1024;
  return static_cast<std::size_t>(std::min(size, cap));
}

template <class T>
inline constexpr bool is_integer_target_v =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
    !std::is_same_v<T, char32_t>;

template <class T>
struct is_pair : std::false_type {};
template <class A, class B>
struct is_pair<std::pair<A, B>> : std::true_type {};

/// The whole of `text` as a decimal integer of type T.
template <class T>
errc parse_integer(std::string_view text, T& out) noexcept {
  if (text.empty()) return errc::type_mismatch;
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return errc::type_mismatch;
  out = value;
  return errc{};
}

/// The whole of `text` as a number in the form Redis writes them: [+-]digits[.digits][e[+-]d],
/// inf, -inf or nan (from_chars alone would also take "infinity" and hex floats).
template <class F>
errc parse_real(std::string_view text, F& out) noexcept {
  if (text == "inf" || text == "+inf") {
    out = std::numeric_limits<F>::infinity();
    return errc{};
  }
  if (text == "-inf") {
    out = -std::numeric_limits<F>::infinity();
    return errc{};
  }
  if (text == "nan" || text == "-nan") {
    out = std::numeric_limits<F>::quiet_NaN();
    return errc{};
  }
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  if (text.empty()) return errc::type_mismatch;
  for (const char c : text) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return errc::type_mismatch;
  }
  F value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return errc::type_mismatch;
  out = value;
  return errc{};
}

/// Shared by every scalar target: the first node is the element (a mismatched aggregate's
/// children are only counted). `Convert::apply(n, out)` returns errc{} or the error.
template <class T, class Convert>
class scalar_adapter {
 public:
  explicit scalar_adapter(T& out) noexcept : out_(&out) {}

  void on_node(const node& n, std::error_code& ec) {
    const bool first = !counter_.started();
    counter_.count(n);
    if (!first) return;
    errc e = scalar_check(n);
    if (e == errc{}) e = Convert::apply(n, *out_);
    if (e != errc{}) ec = e;
  }

  bool done() const noexcept { return counter_.done(); }

 private:
  T* out_;
  element_counter counter_;
};

struct string_conversion {
  template <class S>
  static errc apply(const node& n, S& out) {
    switch (n.type) {
      case type::simple_string:
      case type::bulk_string:
      case type::verbatim_string:
      case type::integer:
      case type::double_:
      case type::big_number:
        // assign() reuses the capacity a std::string already has; a temporary would not.
        if constexpr (std::is_same_v<S, std::string_view>) {
          out = n.value;
        } else {
          out.assign(n.value.data(), n.value.size());
        }
        return errc{};
      default:
        return errc::type_mismatch;
    }
  }
};

struct integer_conversion {
  template <class I>
  static errc apply(const node& n, I& out) noexcept {
    if (n.type == type::integer) {
      if (!std::in_range<I>(n.integer)) return errc::type_mismatch;
      out = static_cast<I>(n.integer);
      return errc{};
    }
    if (is_string(n.type)) return parse_integer(n.value, out);
    if (n.type == type::big_number) {
      std::string_view text = n.value;
      if (!text.empty() && text[0] == '+') text.remove_prefix(1);
      return parse_integer(text, out);
    }
    return errc::type_mismatch;
  }
};

struct real_conversion {
  template <class F>
  static errc apply(const node& n, F& out) noexcept {
    switch (n.type) {
      case type::double_:
        out = static_cast<F>(n.real);
        return errc{};
      case type::integer:
        out = static_cast<F>(n.integer);
        return errc{};
      case type::big_number:
      case type::simple_string:
      case type::bulk_string:
      case type::verbatim_string:
        return parse_real(n.value, out);
      default:
        return errc::type_mismatch;
    }
  }
};

struct bool_conversion {
  static errc apply(const node& n, bool& out) noexcept {
    if (n.type == type::boolean ||
        (n.type == type::integer && (n.integer == 0 || n.integer == 1))) {
      out = n.integer != 0;
      return errc{};
    }
    return errc::type_mismatch;
  }
};

/// How the pairs of a pair-of-elements target are laid out in the aggregate.
enum class pair_layout : std::uint8_t {
  undecided,  // an array whose first element has not arrived yet
  nested,     // each element is a two-element array
  flat,       // each pair is two consecutive elements (a map, or a RESP2 flat array)
};

/// Tells adapter<std::pair> it is fed one map entry (two elements) rather than a 2-array.
struct entry_tag {};

/// Shared by the targets that read a sequence of children (vector, map): checks the aggregate,
/// decides the pair layout, and runs one child adapter per child element.
/// `Policy` provides: using child_adapter; static constexpr bool pairs; bool accepts(type);
///   void start(const node&); child_adapter& make_child(pair_layout); void finish_child().
template <class Policy>
class sequence_driver : private Policy {
 public:
  template <class... A>
  explicit sequence_driver(A&&... a) noexcept : Policy(std::forward<A>(a)...) {}

  void on_node(const node& n, std::error_code& ec) {
    const bool first = !counter_.started();
    counter_.count(n);
    if (failed_) return;
    if (first) {
      errc e = aggregate_check(n);
      if (e == errc{} && !Policy::accepts(n.type)) e = errc::type_mismatch;
      if (e != errc{}) return fail(ec, e);
      size_ = n.size;
      if constexpr (Policy::pairs)
        layout_ = n.type == type::map ? pair_layout::flat : pair_layout::undecided;
      Policy::start(n);
      return;
    }
    if (!child_) {
      if constexpr (Policy::pairs) {
        if (layout_ == pair_layout::undecided) {
          layout_ = is_aggregate(n.type) ? pair_layout::nested : pair_layout::flat;
          // A flat array of pairs must pair up exactly.
          if (layout_ == pair_layout::flat && size_ % 2 != 0) return fail(ec, errc::type_mismatch);
        }
      }
      child_ = &Policy::make_child(layout_);
    }
    std::error_code child_ec;
    child_->on_node(n, child_ec);
    if (child_ec) return fail(ec, child_ec);
    if (child_->done()) {
      Policy::finish_child();
      child_ = nullptr;
    }
  }

  bool done() const noexcept { return counter_.done(); }

 private:
  void fail(std::error_code& ec, std::error_code e) {
    ec = e;
    failed_ = true;
  }

  element_counter counter_;
  typename Policy::child_adapter* child_ = nullptr;
  std::uint64_t size_ = 0;
  pair_layout layout_ = pair_layout::flat;
  bool failed_ = false;
};

template <class Vector>
class vector_policy {
 protected:
  using value_type = typename Vector::value_type;
  using child_adapter = adapter<value_type>;
  static constexpr bool pairs = is_pair<value_type>::value;

  explicit vector_policy(Vector& out) noexcept : out_(&out) {}

  static constexpr bool accepts(type t) noexcept { return is_sequence(t) || t == type::map; }

  void start(const node& n) {
    out_->clear();
    const std::uint64_t elements = (!pairs && n.type == type::map) ? 2 * n.size : n.size;
    out_->reserve(reserve_cap(elements));
  }

  child_adapter& make_child(pair_layout layout) {
    value_type& element = out_->emplace_back();
    if constexpr (pairs) {
      if (layout == pair_layout::flat) return child_.emplace(element, entry_tag{});
    }
    (void)layout;
    return child_.emplace(element);
  }

  void finish_child() noexcept { child_.reset(); }

 private:
  Vector* out_;
  std::optional<child_adapter> child_;
};

template <class Map>
class map_policy {
 protected:
  using entry = std::pair<typename Map::key_type, typename Map::mapped_type>;
  using child_adapter = adapter<entry>;
  static constexpr bool pairs = true;

  explicit map_policy(Map& out) noexcept : out_(&out) {}

  static constexpr bool accepts(type t) noexcept { return t == type::map || t == type::array; }

  void start(const node& n) {
    out_->clear();
    if constexpr (requires(Map & m) { m.reserve(std::size_t{}); }) {
      out_->reserve(reserve_cap(n.type == type::map ? n.size : n.size / 2));
    }
  }

  child_adapter& make_child(pair_layout layout) {
    entry_ = entry{};
    if (layout == pair_layout::flat) return child_.emplace(entry_, entry_tag{});
    return child_.emplace(entry_);
  }

  void finish_child() {
    child_.reset();
    out_->insert_or_assign(std::move(entry_.first), std::move(entry_.second));
  }

 private:
  Map* out_;
  entry entry_{};
  std::optional<child_adapter> child_;
};

}  // namespace detail

template <>
class adapter<std::string> : public detail::scalar_adapter<std::string, detail::string_conversion> {
 public:
  using scalar_adapter::scalar_adapter;
};

template <>
class adapter<std::string_view>
    : public detail::scalar_adapter<std::string_view, detail::string_conversion> {
 public:
  using scalar_adapter::scalar_adapter;
};

template <class T>
class adapter<T, std::enable_if_t<detail::is_integer_target_v<T>>>
    : public detail::scalar_adapter<T, detail::integer_conversion> {
 public:
  using detail::scalar_adapter<T, detail::integer_conversion>::scalar_adapter;
};

template <class T>
class adapter<T, std::enable_if_t<std::is_floating_point_v<T>>>
    : public detail::scalar_adapter<T, detail::real_conversion> {
 public:
  using detail::scalar_adapter<T, detail::real_conversion>::scalar_adapter;
};

template <>
class adapter<bool> : public detail::scalar_adapter<bool, detail::bool_conversion> {
 public:
  using scalar_adapter::scalar_adapter;
};

template <>
class adapter<ignore_t> {
 public:
  explicit adapter(ignore_t& /*out*/) noexcept {}
  void on_node(const node& n, std::error_code& /*ec*/) noexcept { counter_.count(n); }
  bool done() const noexcept { return counter_.done(); }

 private:
  detail::element_counter counter_;
};

template <class T>
class adapter<std::optional<T>> {
 public:
  explicit adapter(std::optional<T>& out) noexcept : out_(&out) {}

  void on_node(const node& n, std::error_code& ec) {
    if (inner_ == nullptr) {
      if (n.type == type::null) {
        out_->reset();
        null_ = true;
        return;
      }
      inner_ = &storage_.emplace(out_->emplace());
    }
    inner_->on_node(n, ec);
  }

  bool done() const noexcept { return null_ || (inner_ != nullptr && inner_->done()); }

 private:
  std::optional<T>* out_;
  std::optional<adapter<T>> storage_;
  // Set once storage_ holds the adapter. (Testing storage_ itself trips GCC 12's
  // -Wmaybe-uninitialized once on_node is inlined.)
  adapter<T>* inner_ = nullptr;
  bool null_ = false;
};

template <class T, class Alloc>
class adapter<std::vector<T, Alloc>>
    : public detail::sequence_driver<detail::vector_policy<std::vector<T, Alloc>>> {
 public:
  explicit adapter(std::vector<T, Alloc>& out) noexcept
      : detail::sequence_driver<detail::vector_policy<std::vector<T, Alloc>>>(out) {}
};

template <class K, class V, class Compare, class Alloc>
class adapter<std::map<K, V, Compare, Alloc>>
    : public detail::sequence_driver<detail::map_policy<std::map<K, V, Compare, Alloc>>> {
 public:
  explicit adapter(std::map<K, V, Compare, Alloc>& out) noexcept
      : detail::sequence_driver<detail::map_policy<std::map<K, V, Compare, Alloc>>>(out) {}
};

template <class K, class V, class Hash, class Equal, class Alloc>
class adapter<std::unordered_map<K, V, Hash, Equal, Alloc>>
    : public detail::sequence_driver<
          detail::map_policy<std::unordered_map<K, V, Hash, Equal, Alloc>>> {
 public:
  explicit adapter(std::unordered_map<K, V, Hash, Equal, Alloc>& out) noexcept
      : detail::sequence_driver<detail::map_policy<std::unordered_map<K, V, Hash, Equal, Alloc>>>(
            out) {}
};

template <class A, class B>
class adapter<std::pair<A, B>> {
 public:
  /// Reads a two-element array.
  explicit adapter(std::pair<A, B>& out) noexcept : out_(&out) {}
  /// Reads two consecutive elements (a map entry, or a pair in a flat array).
  adapter(std::pair<A, B>& out, detail::entry_tag) noexcept
      : out_(&out), counter_(2), entry_(true) {}

  void on_node(const node& n, std::error_code& ec) {
    const bool first = !counter_.started();
    counter_.count(n);
    if (failed_) return;
    if (first && !entry_) {
      errc e = detail::aggregate_check(n);
      if (e == errc{} && (n.type != type::array || n.size != 2)) e = errc::type_mismatch;
      if (e != errc{}) fail(ec, e);
      return;
    }
    std::error_code child_ec;
    if (!first_done_) {
      if (!first_) first_.emplace(out_->first);
      first_->on_node(n, child_ec);
      first_done_ = first_->done();
    } else {
      if (!second_) second_.emplace(out_->second);
      second_->on_node(n, child_ec);
    }
    if (child_ec) fail(ec, child_ec);
  }

  bool done() const noexcept { return counter_.done(); }

 private:
  void fail(std::error_code& ec, std::error_code e) {
    ec = e;
    failed_ = true;
  }

  std::pair<A, B>* out_;
  detail::element_counter counter_;
  std::optional<adapter<A>> first_;
  std::optional<adapter<B>> second_;
  bool entry_ = false;
  bool first_done_ = false;
  bool failed_ = false;
};

/// Parses exactly one reply from the front of `bytes` into a T, with a fresh parser configured
/// by `lim`; attributes are skipped. Outcomes:
///   a T                   `*consumed` (if given) is the reply's length in bytes
///   a server_error        the reply is a top-level error; `*consumed` as above
///   errc::type_mismatch, unexpected_null, unexpected_server_error
///                         the reply does not fit T; `*consumed` as above
///   errc::incomplete_reply  `bytes` ends inside the reply; `*consumed` is 0
///   a protocol errc       the bytes are not valid RESP; `*consumed` is 0
/// For T = std::string_view the value views into `bytes`.
template <class T>
result<T> read_reply(std::string_view bytes, std::size_t* consumed = nullptr,
                     const limits& lim = {}) {
  if (consumed != nullptr) *consumed = 0;
  parser p(lim);
  T value{};
  adapter<T> a(value);
  std::error_code ec;
  std::optional<std::string_view> top_error;
  std::size_t offset = 0;
  node n;
  do {
    const step s = p.next(bytes.substr(offset), n);
    if (s.status == outcome::need_more) return errc::incomplete_reply;
    if (s.status == outcome::error) return p.error();
    offset += s.consumed;
    if (n.in_attribute) continue;
    if (n.depth == 0 && is_error(n.type)) {
      top_error = n.value;
    } else {
      a.on_node(n, ec);
    }
  } while (!p.done());
  if (consumed != nullptr) *consumed = offset;
  if (top_error) return server_error::parse(*top_error);
  if (ec) return ec;
  assert(a.done());
  return result<T>(std::move(value));
}

}  // namespace uredis::resp
