#pragma once
// Descriptors for the hash commands: HGET, HSET, HDEL, HGETALL, HINCRBY. (descriptor.hpp states
// the contract; arguments.hpp the lifetimes.)
//
// HSET takes one field/value pair or many: cmd::hset{"h", {"f", "v"}},
// cmd::hset{"h", {{"f", "v"}, {"n", 1}}}, cmd::hset{"h", fields} for a std::map or any forward
// range of pairs. HDEL takes one field or many, like DEL.
//
// HGETALL answers a std::unordered_map: fields are unique, callers look fields up by name, and
// the adapter reads both of Redis' shapes into it (RESP2's flat array, RESP3's map). A caller who
// wants the order the server sent, or no hashing, can exec cmd::raw<std::vector<std::pair<
// std::string, std::string>>>{"HGETALL", key} instead.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// HGET key field -> the value, or nullopt when there is no such field or key.
struct hget {
  std::string_view key{};
  arg field{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("HGET");
    e.arg(key);
    field.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// HSET key field value... -> how many fields were added (not those overwritten).
struct hset {
  std::string_view key{};
  pair_list fields{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(2 + 2 * fields.size());
    e.arg("HSET");
    e.arg(key);
    fields.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// HDEL key field... -> how many fields were removed.
struct hdel {
  std::string_view key{};
  arg_list fields{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { encode_key_and_list(e, "HDEL", key, fields); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// HGETALL key -> every field and its value (empty when there is no such key).
struct hgetall {
  std::string_view key{};

  using response = std::unordered_map<std::string, std::string>;
  void encode(resp::encoder& e) const { e.command("HGETALL", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// HINCRBY key field increment -> the field's new value.
struct hincrby {
  std::string_view key{};
  arg field{};
  std::int64_t increment = 1;

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(4);
    e.arg("HINCRBY");
    e.arg(key);
    field.encode(e);
    e.arg(increment);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

}  // namespace uredis::cmd
