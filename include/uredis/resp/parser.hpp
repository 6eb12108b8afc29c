#pragma once
// An incremental RESP2/RESP3 parser that never copies and never allocates.
//
// The parser owns no bytes. The caller keeps a contiguous read buffer and calls next() with the
// unconsumed part of it; each call has one of three outcomes:
//
//   need_more  the next element is not complete in `input`: append bytes and call again with
//              the same start (the parser remembers how far it scanned, so a long line fed one
//              byte at a time costs linear time, not quadratic)
//   node       `out` holds the next element, viewing into `input`; drop `consumed` bytes
//   error      the bytes are not valid RESP or break a limit: error() says which. The parser
//              stays failed until reset(); the connection cannot be trusted any more.
//
// Aggregates are tracked on a fixed stack (no recursion, no heap), so hostile nesting is a
// bounded error, never a stack overflow. done() turns true on the node that completes a
// top-level reply; an attribute alone never completes one.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

#include "uredis/error.hpp"
#include "uredis/resp/node.hpp"

namespace uredis::resp {
namespace detail {

// At most 19 decimal digits always fit in a uint64_t, so digit loops need no per-digit
// overflow check: they count digits instead.
constexpr std::size_t max_digits = 19;

constexpr unsigned digit_value(char c) noexcept {
  return static_cast<unsigned>(static_cast<unsigned char>(c)) - '0';  // > 9 when not a digit
}

// The kind of payload that follows a type marker.
enum class shape : std::uint8_t { line, bulk, aggregate, invalid };

struct marker {
  resp::type type;
  detail::shape shape;
};

constexpr marker classify_marker(char c) noexcept {
  switch (c) {
    case '+':
      return {type::simple_string, shape::line};
    case '-':
      return {type::simple_error, shape::line};
    case ':':
      return {type::integer, shape::line};
    case '_':
      return {type::null, shape::line};
    case '#':
      return {type::boolean, shape::line};
    case ',':
      return {type::double_, shape::line};
    case '(':
      return {type::big_number, shape::line};
    case '$':
      return {type::bulk_string, shape::bulk};
    case '!':
      return {type::bulk_error, shape::bulk};
    case '=':
      return {type::verbatim_string, shape::bulk};
    case '*':
      return {type::array, shape::aggregate};
    case '%':
      return {type::map, shape::aggregate};
    case '~':
      return {type::set, shape::aggregate};
    case '|':
      return {type::attribute, shape::aggregate};
    case '>':
      return {type::push, shape::aggregate};
    default:
      return {type::null, shape::invalid};
  }
}

// One load per element instead of a branchy switch: the parser's hottest decision.
inline constexpr std::array<marker, 256> marker_table = [] {
  std::array<marker, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[c] = classify_marker(static_cast<char>(c));
  return table;
}();

// The header of a bulk string or an aggregate: "-1" or up to 19 digits, then CRLF. Read
// directly, without searching for the line end first: these headers are short and hot.
struct length_header {
  enum status_t : std::uint8_t { ok, need_more, invalid, bad_crlf } status;
  std::int64_t value = 0;  // -1, or the length
  std::size_t size = 0;    // bytes of the header, CRLF included
};

// "-1\r\n" cut short, and anything else starting with '-': rare, so kept out of line.
length_header read_negative_length(std::string_view in) noexcept;

inline length_header read_length_header(std::string_view in) noexcept {
  const char* const begin = in.data();
  const char* const end = begin + in.size();
  const char* p = begin + 1;  // after the type marker
  if (p != end && *p == '-') [[unlikely]] {
    // A whole RESP2 null ("$-1\r\n", "*-1\r\n": what GET of a missing key returns) is
    // read here, one 4-byte compare, not by a call that spills the caller's registers.
    if (in.size() >= 5 && std::memcmp(p, "-1\r\n", 4) == 0) return {length_header::ok, -1, 5};
    return read_negative_length(in);
  }
  // Stop after max_digits + 1 digits: one more than max_digits can only be invalid.
  const char* const digits_end = end - p > std::ptrdiff_t{max_digits} ? p + max_digits + 1 : end;
  std::uint64_t value = 0;
  const char* const first_digit = p;
  for (; p != digits_end; ++p) {
    const unsigned d = digit_value(*p);
    if (d > 9) break;
    value = value * 10 + d;
  }
  if (p == end) return {length_header::need_more};
  if (p == first_digit || *p != '\r' || p - first_digit > std::ptrdiff_t{max_digits})
    return {length_header::invalid};
  if (p + 1 == end) return {length_header::need_more};
  if (p[1] != '\n') return {length_header::bad_crlf};
  return {length_header::ok, static_cast<std::int64_t>(value),
          static_cast<std::size_t>(p + 2 - begin)};
}

}  // namespace detail

struct limits {
  /// The parser's stack capacity; `max_depth` may not exceed it.
  static constexpr std::uint32_t depth_capacity = 128;

  /// Aggregates nested deeper than this are an error. Redis replies rarely pass 7; scripts can
  /// build deeper ones, so leave room.
  std::uint32_t max_depth = 32;
  /// Redis' own proto-max-bulk-len default.
  std::uint64_t max_bulk_length = 512ull * 1024 * 1024;
  /// Elements in one aggregate (hiredis' limit). Adapters never reserve more than they have seen.
  std::uint64_t max_aggregate_size = (1ull << 32) - 1;
  /// A '+', '-', ':' ... line that has no CRLF within this many bytes is an error, so a peer
  /// cannot make the caller buffer an endless line.
  std::size_t max_line_length = 64 * 1024;
};

enum class outcome : std::uint8_t { need_more, node, error };

struct step {
  outcome status = outcome::need_more;
  std::size_t consumed = 0;  // bytes of `input` the node occupied (0 unless status == node)
};

class parser {
 public:
  explicit parser(const limits& lim = {}) noexcept;

  /// Parses the next element at the start of `input` (see the header comment).
  step next(std::string_view input, node& out) noexcept;

  /// True when the node returned last completed a top-level reply.
  bool done() const noexcept { return done_; }
  /// Aggregates still open: 0 between replies.
  std::uint32_t depth() const noexcept { return depth_; }
  /// The error after outcome::error; empty otherwise.
  std::error_code error() const noexcept { return error_; }
  const resp::limits& limits() const noexcept { return limits_; }

  /// Forgets any partial reply and a previous error.
  void reset() noexcept;

 private:
  struct frame {
    std::uint64_t remaining;  // children still to come
    bool attribute;
  };

  step next_line(std::string_view input, resp::type t, node& out) noexcept;
  step fail(std::error_code ec) noexcept;
  step header_outcome(std::uint8_t status) noexcept;
  void element_complete(resp::type t) noexcept;
  void complete(bool counts) noexcept;

  resp::limits limits_;
  std::array<frame, resp::limits::depth_capacity> stack_{};
  std::uint32_t depth_ = 0;
  std::uint32_t attribute_depth_ = 0;  // open frames that are attributes
  std::size_t scanned_ = 0;            // line bytes already searched for LF in this element
  bool done_ = false;
  std::error_code error_;
};

// The hot path is inline, so a caller's read loop compiles into one tight loop: bulk strings
// and aggregates, the bulk of every reply. Lines, errors and limits go out of line.

inline step parser::next(std::string_view input, node& out) noexcept {
  done_ = false;
  if (error_) [[unlikely]]
    return {outcome::error, 0};
  if (input.empty()) return {outcome::need_more, 0};

  const detail::marker m = detail::marker_table[static_cast<unsigned char>(input[0])];
  if (m.shape == detail::shape::line) return next_line(input, m.type, out);
  if (m.shape == detail::shape::invalid) [[unlikely]]
    return fail(errc::invalid_type_byte);

  const detail::length_header h = detail::read_length_header(input);
  if (h.status != detail::length_header::ok) [[unlikely]]
    return header_outcome(h.status);
  std::size_t consumed = h.size;
  out.value = {};
  out.format = {};
  out.size = 0;
  out.integer = 0;
  out.real = 0;
  out.depth = depth_;
  out.type = m.type;
  out.in_attribute = attribute_depth_ > 0 || m.type == type::attribute;

  if (h.value == -1) {
    // RESP2's null bulk string and null array; RESP3 types have no null form of their own.
    if (m.type != type::bulk_string && m.type != type::array) return fail(errc::invalid_length);
    out.type = type::null;
  } else if (m.shape == detail::shape::bulk) {
    if (static_cast<std::uint64_t>(h.value) > limits_.max_bulk_length)
      return fail(errc::bulk_too_large);
    const auto len = static_cast<std::size_t>(h.value);
    if (input.size() - consumed < len + 2) return {outcome::need_more, 0};
    if (input[consumed + len] != '\r' || input[consumed + len + 1] != '\n')
      return fail(errc::missing_crlf);
    out.value = std::string_view(input.data() + consumed, len);
    consumed += len + 2;
    if (m.type == type::verbatim_string) {
      if (len < 4 || out.value[3] != ':') return fail(errc::invalid_verbatim);
      out.format = out.value.substr(0, 3);
      out.value.remove_prefix(4);
    }
  } else {
    const auto count = static_cast<std::uint64_t>(h.value);
    if (count > limits_.max_aggregate_size) return fail(errc::aggregate_too_large);
    out.size = count;
    if (count > 0) {
      if (depth_ >= limits_.max_depth) return fail(errc::nesting_too_deep);
      stack_[depth_++] = frame{child_count(m.type, count), m.type == type::attribute};
      attribute_depth_ += m.type == type::attribute;
      return {outcome::node, consumed};  // its children complete it
    }
  }
  element_complete(m.type);
  return {outcome::node, consumed};
}

inline void parser::element_complete(type t) noexcept {
  // A scalar or an empty aggregate is complete at once. An attribute is not an element of its
  // parent: it decorates the element that follows.
  const bool counts = t != type::attribute;
  if (depth_ == 0) {
    done_ = counts;  // a top-level element: the reply (a pipeline's common case)
  } else if (stack_[depth_ - 1].remaining > 1 && counts) {
    --stack_[depth_ - 1].remaining;  // not the last element of its aggregate (the common case)
  } else {
    complete(counts);
  }
}

}  // namespace uredis::resp
