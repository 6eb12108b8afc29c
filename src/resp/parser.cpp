#include "uredis/resp/parser.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "uredis/error.hpp"

namespace uredis::resp {
namespace {

// Parses [+-]digits into a signed 64-bit integer; false on anything else, overflow included.
bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
  if (s.empty()) return false;
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;
  }
  // Accumulate as a negative number: its range is one larger, so INT64_MIN parses too.
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t value = 0;
  for (; i < s.size(); ++i) {
    const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
    if (digit > 9) return false;
    if (value < (min + digit) / 10) return false;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == min) return false;
    value = -value;
  }
  out = value;
  return true;
}

// A RESP3 double: [+-]digits[.digits][e[+-]digits], or inf, -inf, nan.
bool parse_double(std::string_view s, double& out) noexcept {
  if (s == "inf" || s == "+inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "nan" || s == "-nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  // from_chars would also take "infinity" and hex forms, which RESP does not allow: only plain
  // decimal digits, a point and an exponent get through to it.
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' ||
                    c == 'E';
    if (!ok) return false;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  // A value out of double's range is still a number: keep from_chars' ±inf/0 rather than fail.
  return end == s.data() + s.size() && (ec == std::errc{} || ec == std::errc::result_out_of_range);
}

bool is_big_number(std::string_view s) noexcept {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The kind of payload that follows a type marker.
enum class shape : std::uint8_t { line, bulk, aggregate, invalid };

struct marker {
  resp::type type;
  resp::shape shape;
};

constexpr marker classify(char c) noexcept {
  switch (c) {
    case '+': return {type::simple_string, shape::line};
    case '-': return {type::simple_error, shape::line};
    case ':': return {type::integer, shape::line};
    case '_': return {type::null, shape::line};
    case '#': return {type::boolean, shape::line};
    case ',': return {type::double_, shape::line};
    case '(': return {type::big_number, shape::line};
    case '$': return {type::bulk_string, shape::bulk};
    case '!': return {type::bulk_error, shape::bulk};
    case '=': return {type::verbatim_string, shape::bulk};
    case '*': return {type::array, shape::aggregate};
    case '%': return {type::map, shape::aggregate};
    case '~': return {type::set, shape::aggregate};
    case '|': return {type::attribute, shape::aggregate};
    case '>': return {type::push, shape::aggregate};
    default: return {type::null, shape::invalid};
  }
}

}  // namespace

parser::parser(const resp::limits& lim) noexcept : limits_(lim) {
  assert(limits_.max_depth <= resp::limits::depth_capacity);
  if (limits_.max_depth > resp::limits::depth_capacity)
    limits_.max_depth = resp::limits::depth_capacity;
}

void parser::reset() noexcept {
  depth_ = 0;
  attribute_depth_ = 0;
  scanned_ = 0;
  done_ = false;
  error_.clear();
}

step parser::fail(std::error_code ec) noexcept {
  error_ = ec;
  done_ = false;
  return {outcome::error, 0};
}

step parser::next(std::string_view input, node& out) noexcept {
  done_ = false;
  if (error_) return {outcome::error, 0};
  if (input.empty()) return {outcome::need_more, 0};

  const marker m = classify(input[0]);
  if (m.shape == shape::invalid) return fail(errc::invalid_type_byte);

  // Find the LF that ends the header line, resuming where the last call stopped looking.
  const std::size_t from = scanned_ > 1 ? scanned_ : 1;
  const void* found =
      from < input.size() ? std::memchr(input.data() + from, '\n', input.size() - from) : nullptr;
  if (found == nullptr) {
    if (input.size() > limits_.max_line_length) return fail(errc::line_too_long);
    scanned_ = input.size();
    return {outcome::need_more, 0};
  }
  const std::size_t lf = static_cast<const char*>(found) - input.data();
  if (lf > limits_.max_line_length) return fail(errc::line_too_long);
  if (input[lf - 1] != '\r') return fail(errc::missing_crlf);  // lf >= 1: never the marker
  // Remember the line end: if a bulk payload is still incomplete, the next call finds it at once.
  scanned_ = lf;
  const std::string_view line = input.substr(1, lf - 2);
  std::size_t consumed = lf + 1;

  node n;
  n.type = m.type;
  n.depth = depth_;
  n.in_attribute = attribute_depth_ > 0 || m.type == type::attribute;

  switch (m.shape) {
    case shape::line:
      n.value = line;
      switch (m.type) {
        case type::integer:
          if (!parse_int64(line, n.integer)) return fail(errc::invalid_integer);
          break;
        case type::null:
          if (!line.empty()) return fail(errc::invalid_null);
          break;
        case type::boolean:
          if (line != "t" && line != "f") return fail(errc::invalid_boolean);
          n.integer = line[0] == 't';
          break;
        case type::double_:
          if (!parse_double(line, n.real)) return fail(errc::invalid_double);
          break;
        case type::big_number:
          if (!is_big_number(line)) return fail(errc::invalid_big_number);
          break;
        default:  // simple string and simple error: any bytes but CR and LF
          break;
      }
      break;

    case shape::bulk: {
      std::int64_t length = 0;
      if (!parse_int64(line, length) || length < -1) return fail(errc::invalid_length);
      if (length == -1) {
        // RESP2's null bulk string; RESP3 has no null bulk error or verbatim string.
        if (m.type != type::bulk_string) return fail(errc::invalid_length);
        n.type = type::null;
        break;
      }
      if (static_cast<std::uint64_t>(length) > limits_.max_bulk_length)
        return fail(errc::bulk_too_large);
      const std::size_t len = static_cast<std::size_t>(length);
      if (input.size() - consumed < len + 2) return {outcome::need_more, 0};
      if (input[consumed + len] != '\r' || input[consumed + len + 1] != '\n')
        return fail(errc::missing_crlf);
      n.value = input.substr(consumed, len);
      consumed += len + 2;
      if (m.type == type::verbatim_string) {
        if (len < 4 || n.value[3] != ':') return fail(errc::invalid_verbatim);
        n.format = n.value.substr(0, 3);
        n.value.remove_prefix(4);
      }
      break;
    }

    case shape::aggregate: {
      std::int64_t count = 0;
      if (!parse_int64(line, count) || count < -1) return fail(errc::invalid_length);
      if (count == -1) {
        // RESP2's null array; the RESP3 aggregates have no null form.
        if (m.type != type::array) return fail(errc::invalid_length);
        n.type = type::null;
        break;
      }
      if (static_cast<std::uint64_t>(count) > limits_.max_aggregate_size)
        return fail(errc::aggregate_too_large);
      n.size = static_cast<std::uint64_t>(count);
      break;
    }

    case shape::invalid:
      break;  // handled above
  }

  if (is_aggregate(n.type) && n.size > 0) {
    if (depth_ >= limits_.max_depth) return fail(errc::nesting_too_deep);
    stack_[depth_++] = frame{child_count(n.type, n.size), n.type == type::attribute};
    attribute_depth_ += n.type == type::attribute;
  } else {
    // A scalar or an empty aggregate is complete at once. An attribute is not an element of
    // its parent: it decorates the element that follows.
    complete(n.type != type::attribute);
  }

  scanned_ = 0;
  out = n;
  return {outcome::node, consumed};
}

void parser::complete(bool counts) noexcept {
  while (counts && depth_ > 0) {
    frame& top = stack_[depth_ - 1];
    if (--top.remaining != 0) return;
    // The aggregate on top is complete: it is one element of the frame below it.
    --depth_;
    attribute_depth_ -= top.attribute;
    counts = !top.attribute;
  }
  done_ = counts && depth_ == 0;
}

}  // namespace uredis::resp
