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
using detail::digit_value;
using detail::length_header;
using detail::max_digits;

bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > max_digits) return false;
  std::uint64_t magnitude = 0;
  for (const char c : s) {
    const unsigned d = digit_value(c);
    if (d > 9) return false;
    magnitude = magnitude * 10 + d;
  }
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > max + negative) return false;
  out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
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
    const bool ok = digit_value(c) <= 9 || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
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
    if (digit_value(c) > 9) return false;
  return true;
}

}  // namespace

namespace detail {

length_header read_negative_length(std::string_view in) noexcept {
  if (in.size() < 3) return {length_header::need_more};
  if (in[2] != '1') return {length_header::invalid};  // "-0", "-2", "-x": all invalid
  if (in.size() < 4) return {length_header::need_more};
  if (in[3] != '\r') return {length_header::invalid};
  if (in.size() < 5) return {length_header::need_more};
  if (in[4] != '\n') return {length_header::bad_crlf};
  return {length_header::ok, -1, 5};
}

}  // namespace detail

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

step parser::next_line(std::string_view input, type t, node& out) noexcept {
  // Find the LF that ends the line, resuming where the last call stopped looking.
  const std::size_t from = scanned_ > 1 ? scanned_ : 1;
  const void* found =
      from < input.size() ? std::memchr(input.data() + from, '\n', input.size() - from) : nullptr;
  if (found == nullptr) {
    if (input.size() > limits_.max_line_length) return fail(errc::line_too_long);
    scanned_ = input.size();
    return {outcome::need_more, 0};
  }
  const auto lf = static_cast<std::size_t>(static_cast<const char*>(found) - input.data());
  if (lf > limits_.max_line_length) return fail(errc::line_too_long);
  if (input[lf - 1] != '\r') return fail(errc::missing_crlf);  // lf >= 1: never the marker

  const std::string_view line = input.substr(1, lf - 2);
  out.value = line;
  out.format = {};
  out.size = 0;
  out.integer = 0;
  out.real = 0;
  out.depth = depth_;
  out.type = t;
  out.in_attribute = attribute_depth_ > 0;
  switch (t) {
    case type::integer:
      if (!parse_int64(line, out.integer)) return fail(errc::invalid_integer);
      break;
    case type::null:
      if (!line.empty()) return fail(errc::invalid_null);
      break;
    case type::boolean:
      if (line != "t" && line != "f") return fail(errc::invalid_boolean);
      out.integer = line[0] == 't';
      break;
    case type::double_:
      if (!parse_double(line, out.real)) return fail(errc::invalid_double);
      break;
    case type::big_number:
      if (!is_big_number(line)) return fail(errc::invalid_big_number);
      break;
    default:  // simple string and simple error: any bytes but CR and LF
      break;
  }
  scanned_ = 0;
  element_complete(t);
  return {outcome::node, lf + 1};
}

step parser::header_outcome(std::uint8_t status) noexcept {
  switch (status) {
    case length_header::need_more:
      return {outcome::need_more, 0};
    case length_header::bad_crlf:
      return fail(errc::missing_crlf);
    default:
      return fail(errc::invalid_length);
  }
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
