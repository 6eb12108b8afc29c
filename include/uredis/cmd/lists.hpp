#pragma once
// Descriptors for the list commands: LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN. (descriptor.hpp
// states the contract; arguments.hpp the lifetimes.)
//
// LPOP and RPOP are two descriptors each, because the count changes the reply's shape:
//   cmd::lpop{"l"}           LPOP l     -> std::optional<std::string>
//   cmd::lpop_count{"l", 3}  LPOP l 3   -> std::optional<std::vector<std::string>>
// nullopt means there is no such key; otherwise lpop_count answers 1 to `count` elements.
// LPUSH and RPUSH take one value or many: cmd::lpush{"l", "v"}, cmd::lpush{"l", {"a", "b"}},
// cmd::lpush{"l", values}.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// LPUSH key value... -> the list's length after the push. The values are pushed one after the
/// other, so the last one ends up first.
struct lpush {
  std::string_view key{};
  arg_list values{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { encode_key_and_list(e, "LPUSH", key, values); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// RPUSH key value... -> the list's length after the push.
struct rpush {
  std::string_view key{};
  arg_list values{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { encode_key_and_list(e, "RPUSH", key, values); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// LPOP key -> the first element, or nullopt when there is no such key.
struct lpop {
  std::string_view key{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { e.command("LPOP", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// LPOP key count -> up to `count` elements from the head, or nullopt when there is no such key.
struct lpop_count {
  std::string_view key{};
  std::uint64_t count = 1;

  using response = std::optional<std::vector<std::string>>;
  void encode(resp::encoder& e) const { e.command("LPOP", key, count); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// A blocking pop's server-side timeout as BLPOP/BRPOP take it: seconds, with decimals.
namespace detail {
inline double blocking_seconds(std::chrono::milliseconds timeout) noexcept {
  return static_cast<double>(timeout.count()) / 1000.0;
}
}  // namespace detail

/// BLPOP key timeout -> {key, element} popped from the head, waiting up to `timeout` for one
/// (0: forever); nullopt when the time ran out. A blocking command: its deadline is `timeout`
/// plus connection_config::blocking_timeout_margin (none when 0), not the default.
struct blpop {
  std::string_view key{};
  std::chrono::milliseconds timeout{0};

  using response = std::optional<std::pair<std::string, std::string>>;
  void encode(resp::encoder& e) const {
    e.command("BLPOP", key, detail::blocking_seconds(timeout));
  }
  std::chrono::milliseconds blocking_timeout() const noexcept { return timeout; }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// BRPOP key timeout -> {key, element} popped from the tail; otherwise as blpop.
struct brpop {
  std::string_view key{};
  std::chrono::milliseconds timeout{0};

  using response = std::optional<std::pair<std::string, std::string>>;
  void encode(resp::encoder& e) const {
    e.command("BRPOP", key, detail::blocking_seconds(timeout));
  }
  std::chrono::milliseconds blocking_timeout() const noexcept { return timeout; }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// RPOP key -> the last element, or nullopt when there is no such key.
struct rpop {
  std::string_view key{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { e.command("RPOP", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// RPOP key count -> up to `count` elements from the tail (last first), or nullopt when there is
/// no such key.
struct rpop_count {
  std::string_view key{};
  std::uint64_t count = 1;

  using response = std::optional<std::vector<std::string>>;
  void encode(resp::encoder& e) const { e.command("RPOP", key, count); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// LRANGE key start stop -> the elements from start to stop, both included (negative indexes
/// count from the tail: 0 -1 is the whole list).
struct lrange {
  std::string_view key{};
  std::int64_t start = 0;
  std::int64_t stop = -1;

  using response = std::vector<std::string>;
  void encode(resp::encoder& e) const { e.command("LRANGE", key, start, stop); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// LLEN key -> the list's length (0 when there is no such key).
struct llen {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("LLEN", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

}  // namespace uredis::cmd
