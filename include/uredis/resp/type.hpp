#pragma once
// The RESP2/RESP3 data types, one per type marker byte.
//
// RESP2's null bulk string ("$-1") and null array ("*-1") both parse as `type::null`, the same
// as RESP3's "_": every consumer treats them alike.

#include <cstdint>
#include <string_view>

namespace uredis::resp {

enum class type : std::uint8_t {
  simple_string,    // '+'
  simple_error,     // '-'
  integer,          // ':'
  bulk_string,      // '$'
  array,            // '*'
  null,             // '_', "$-1", "*-1"
  boolean,          // '#'
  double_,          // ','
  big_number,       // '('
  bulk_error,       // '!'
  verbatim_string,  // '='
  map,              // '%'  (size counts pairs)
  set,              // '~'
  attribute,        // '|'  (size counts pairs; decorates the element that follows it)
  push,             // '>'  (out-of-band data: never the reply to a command)
};

/// Aggregates are followed by `size` child elements (2 * size for maps and attributes).
constexpr bool is_aggregate(type t) noexcept {
  return t == type::array || t == type::map || t == type::set || t == type::attribute ||
         t == type::push;
}

/// Simple and bulk errors: the server said no.
constexpr bool is_error(type t) noexcept {
  return t == type::simple_error || t == type::bulk_error;
}

/// The number of child elements that follow an aggregate of `size`.
constexpr std::uint64_t child_count(type t, std::uint64_t size) noexcept {
  return (t == type::map || t == type::attribute) ? 2 * size : size;
}

/// A readable name for messages and tests ("bulk_string").
std::string_view to_string(type t) noexcept;

}  // namespace uredis::resp
