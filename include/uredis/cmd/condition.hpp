#pragma once
// The conditions a write may carry, as enums whose every value is a valid combination, so an
// invalid one (NX with XX, GT with LT, NX with GT) cannot be written at all.
//
//   set_condition      SET:            [NX | XX]
//   update_condition   EXPIRE, ZADD:   [NX | XX | GT | LT | XX GT | XX LT]
//
// Redis 7 refuses NX together with XX, GT or LT, and GT together with LT (for both EXPIRE and
// ZADD); XX may go with GT or LT. `always` sends no word.

#include <cstddef>
#include <cstdint>

#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

enum class set_condition : std::uint8_t {
  always,
  nx,  // only if the key does not exist
  xx,  // only if the key exists
};

enum class update_condition : std::uint8_t {
  always,
  nx,     // only if there is no expiry / no such member yet
  xx,     // only if there is one
  gt,     // only if the new value is greater than the current one
  lt,     // only if the new value is less than the current one
  xx_gt,  // xx and gt
  xx_lt,  // xx and lt
};

namespace detail {

/// How many words the condition adds to a command.
constexpr std::size_t word_count(set_condition c) noexcept {
  return c == set_condition::always ? 0 : 1;
}

constexpr std::size_t word_count(update_condition c) noexcept {
  switch (c) {
    case update_condition::always:
      return 0;
    case update_condition::xx_gt:
    case update_condition::xx_lt:
      return 2;
    default:
      return 1;
  }
}

/// Appends the condition's words to the command `e` has begun.
inline void encode(resp::encoder& e, set_condition c) {
  if (c == set_condition::nx) e.arg("NX");
  if (c == set_condition::xx) e.arg("XX");
}

inline void encode(resp::encoder& e, update_condition c) {
  switch (c) {
    case update_condition::always:
      break;
    case update_condition::nx:
      e.arg("NX");
      break;
    case update_condition::xx:
      e.arg("XX");
      break;
    case update_condition::gt:
      e.arg("GT");
      break;
    case update_condition::lt:
      e.arg("LT");
      break;
    case update_condition::xx_gt:
      e.arg("XX");
      e.arg("GT");
      break;
    case update_condition::xx_lt:
      e.arg("XX");
      e.arg("LT");
      break;
  }
}

}  // namespace detail
}  // namespace uredis::cmd
