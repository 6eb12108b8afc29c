#pragma once
// The request encoder: appends commands, as RESP arrays of bulk strings, to an output buffer it
// references (a connection's). It owns no memory and allocates nothing: once the buffer has
// grown to the working size, encoding a command is a few memcpy calls.
//
//   encoder{buf}.command("SET", "k", 42)   appends   *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n
//
// Arguments are strings (anything convertible to std::string_view; its bytes are sent as they
// are, binary included), integers (decimal) and floating-point numbers (the shortest decimal
// text that reads back to the same value; inf and -inf as "inf" and "-inf", which Redis
// accepts; NaN as "nan", which Redis rejects). `bool` and the character types are compile
// errors: Redis has no boolean argument ("1"? "true"?) and a `char` might mean a digit or a
// byte, so the caller spells out which.
//
// A command whose argument count is known only at run time is written as begin(argc) followed
// by exactly argc arguments through arg() / args(); debug builds assert the count. Every
// argument is written as soon as it is given, so nothing is measured twice and nothing is
// buffered on the side. A string literal converts through `const char*`: bytes after an
// embedded '\0' need a std::string_view with an explicit size.

#include <cassert>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <limits>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "uredis/util/byte_buffer.hpp"

namespace uredis::resp {

namespace detail {

template <class T>
inline constexpr bool is_character_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <class T>
struct is_argument_pair : std::false_type {};
template <class A, class B>
struct is_argument_pair<std::pair<A, B>> : std::true_type {};

}  // namespace detail

/// Types written as their bytes.
template <class T>
concept string_argument = std::convertible_to<const T&, std::string_view>;

/// Types written as decimal integers: every integer type but bool and the character types.
template <class T>
concept integer_argument = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool> &&
                           !detail::is_character_v<std::remove_cv_t<T>>;

/// Types written as the shortest round-trip decimal.
template <class T>
concept float_argument = std::floating_point<T>;

/// Types written as numbers: integers and floating point.
template <class T>
concept number_argument = integer_argument<T> || float_argument<T>;

/// Anything the encoder takes as one command argument.
template <class T>
concept argument = string_argument<T> || integer_argument<T> || float_argument<T>;

/// Ranges args() accepts: of arguments, or of pairs of arguments (a std::map for HSET or MSET
/// appends key, value, key, value...).
template <class R>
concept argument_range = std::ranges::input_range<R> &&
    (argument<std::ranges::range_value_t<R>> ||
     (detail::is_argument_pair<std::ranges::range_value_t<R>>::value &&
      argument<typename std::ranges::range_value_t<R>::first_type> &&
      argument<typename std::ranges::range_value_t<R>::second_type>));

/// Room for the text of any number argument: the longest shortest round-trip text of a float,
/// double or long double (binary128: 42 chars), with margin.
inline constexpr std::size_t max_number_text = 64;

/// The text the encoder sends for the number `value`, written into `out` (a view into it):
/// decimal for integers; for floating point the shortest text that reads back to the same
/// value, with infinities as "inf" and "-inf".
template <number_argument T>
std::string_view number_text(T value, std::span<char, max_number_text> out) noexcept {
  if constexpr (integer_argument<T>) {
    static_assert(std::numeric_limits<T>::digits10 + 2 <= max_number_text);
  } else {
    if (value == std::numeric_limits<T>::infinity()) return "inf";
    if (value == -std::numeric_limits<T>::infinity()) return "-inf";
  }
  const auto r = std::to_chars(out.data(), out.data() + out.size(), value);
  assert(r.ec == std::errc{});
  return {out.data(), static_cast<std::size_t>(r.ptr - out.data())};
}

class encoder {
 public:
  /// Appends to `out`, which must outlive the encoder.
  explicit encoder(util::byte_buffer& out) noexcept : out_(&out) {}

  /// Appends one whole command.
  // Inlined into each descriptor's encode(), where a literal name is a constant: its length
  // and bytes fold into a few stores instead of a strlen and a copy.
  template <argument... Args>
  [[gnu::always_inline]] void command(const Args&... args) {
    assert(pending_ == 0 && "command() inside an unfinished begin()");
    if constexpr (sizeof...(Args) > 0 && (string_argument<Args> && ...)) {
      // Strings only (GET k, HGET k f...): measured once, written through one pointer with
      // one prepare() and one commit().
      // Each argument is read where it is, its size and pointer as two words: copied into an
      // array of views first, GCC read each view as one 16-byte word, which the CPU cannot
      // forward from the two 8-byte stores that had just built it (a stall per argument).
      std::size_t size = max_prefix + sizeof...(Args) * (max_prefix + 2);
      ((size += std::string_view(args).size()), ...);
      char* const begin = out_->prepare(size).data();
      char* p = begin;
      *p++ = '*';
      p = write_size(p, sizeof...(Args));
      ((p = write_bulk_at(p, std::string_view(args).data(), std::string_view(args).size())), ...);
      out_->commit(static_cast<std::size_t>(p - begin));
    } else {
      write_header(sizeof...(Args));
      (write(args), ...);
    }
  }

  /// Starts a command of `argc` arguments, to be given through arg() and args().
  void begin(std::size_t argc) {
    assert(pending_ == 0 && "begin() inside an unfinished begin()");
    write_header(argc);
    pending_ = argc;
  }

  /// Appends one argument of the command begun last.
  template <argument T>
  void arg(const T& value) {
    assert(pending_ > 0 && "more arguments than begin() announced");
    --pending_;
    write(value);
  }

  /// Appends every element of `range` as arguments (both halves of each pair for ranges of
  /// pairs), counting each against begin()'s argc.
  template <argument_range R>
  void args(R&& range) {
    for (auto&& element : range) {
      if constexpr (argument<std::ranges::range_value_t<R>>) {
        arg(element);
      } else {
        arg(element.first);
        arg(element.second);
      }
    }
  }

  /// Arguments begin() announced that have not been given yet (0 between commands).
  std::size_t pending_args() const noexcept { return pending_; }

  /// The buffer commands are appended to.
  util::byte_buffer& buffer() const noexcept { return *out_; }

  // arg(true) would only fail the `argument` concept; this makes the error name bool. (char
  // converts to bool too, and is refused here the same way.)
  void arg(bool) = delete;

 private:
  // "$" + size_t digits + CRLF. A size_t has at most 20 decimal digits.
  static constexpr std::size_t max_prefix = 1 + 20 + 2;

  void write_header(std::size_t argc) {
    char* const begin = out_->prepare(max_prefix).data();
    char* p = begin;
    *p++ = '*';
    p = write_size(p, argc);
    out_->commit(static_cast<std::size_t>(p - begin));
  }

  void write_bulk(std::string_view bytes) {
    char* const begin = out_->prepare(max_prefix + bytes.size() + 2).data();
    out_->commit(static_cast<std::size_t>(write_bulk_at(begin, bytes) - begin));
  }

  // $<size>\r\n<bytes>\r\n at `p`, which has room for it; returns the end.
  static char* write_bulk_at(char* p, std::string_view bytes) noexcept {
    return write_bulk_at(p, bytes.data(), bytes.size());
  }
  static char* write_bulk_at(char* p, const char* bytes, std::size_t n) noexcept {
    *p++ = '$';
    p = write_size(p, n);
    copy(p, bytes, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
  }

  // `n` in decimal, then CRLF. Most counts and lengths have one or two digits: those skip
  // to_chars' general loop.
  static char* write_size(char* p, std::size_t n) noexcept {
    if (n < 10) {
      *p++ = static_cast<char>('0' + n);
    } else if (n < 100) {
      *p++ = static_cast<char>('0' + n / 10);
      *p++ = static_cast<char>('0' + n % 10);
    } else {
      p = std::to_chars(p, p + 20, n).ptr;
    }
    *p++ = '\r';
    *p++ = '\n';
    return p;
  }

  // memcpy, with arguments of up to 16 bytes (names, most keys) copied inline as two words
  // that may overlap: a library call costs more than the copy itself there.
  static void copy(char* to, const char* from, std::size_t n) noexcept {
    if (n > 16) {
      std::memcpy(to, from, n);
    } else if (n >= 8) {
      copy_pair<8>(to, from, n);
    } else if (n >= 4) {
      copy_pair<4>(to, from, n);
    } else if (n > 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  // The first and the last `Word` bytes of `n` (Word <= n <= 2 * Word).
  template <std::size_t Word>
  static void copy_pair(char* to, const char* from, std::size_t n) noexcept {
    char head[Word];
    char tail[Word];
    std::memcpy(head, from, Word);
    std::memcpy(tail, from + n - Word, Word);
    std::memcpy(to, head, Word);
    std::memcpy(to + n - Word, tail, Word);
  }

  template <class T>
  void write(const T& value) {
    if constexpr (string_argument<T>) {
      write_bulk(std::string_view(value));
    } else {
      char text[max_number_text];
      write_bulk(number_text(value, text));
    }
  }

  util::byte_buffer* out_;
  std::size_t pending_ = 0;
};

}  // namespace uredis::resp
