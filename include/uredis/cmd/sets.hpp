#pragma once
// Descriptors for the set commands: SADD, SREM, SMEMBERS, SISMEMBER. (descriptor.hpp states the
// contract; arguments.hpp the lifetimes.)
//
// SADD and SREM take one member or many: cmd::sadd{"s", "m"}, cmd::sadd{"s", {"a", "b"}},
// cmd::sadd{"s", members}. SMEMBERS answers a std::vector in the server's (unspecified) order:
// RESP3 sends a set, RESP2 an array, and the adapter reads both.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// SADD key member... -> how many members were added (not those already there).
struct sadd {
  std::string_view key{};
  arg_list members{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { encode_key_and_list(e, "SADD", key, members); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SREM key member... -> how many members were removed.
struct srem {
  std::string_view key{};
  arg_list members{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { encode_key_and_list(e, "SREM", key, members); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SMEMBERS key -> every member (empty when there is no such key).
struct smembers {
  std::string_view key{};

  using response = std::vector<std::string>;
  void encode(resp::encoder& e) const { e.command("SMEMBERS", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SISMEMBER key member -> whether member is in the set.
struct sismember {
  std::string_view key{};
  arg member{};

  using response = bool;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("SISMEMBER");
    e.arg(key);
    member.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

}  // namespace uredis::cmd
