#pragma once
// Descriptors for the generic key commands: DEL, UNLINK, EXISTS, EXPIRE, PEXPIRE, TTL, PTTL,
// SCAN. (descriptor.hpp states the contract; arguments.hpp the lifetimes.)
//
// DEL, UNLINK and EXISTS take one key or many: cmd::del{"k"}, cmd::del{{"a", "b"}},
// cmd::del{keys} for any forward range of keys. EXPIRE and PEXPIRE take a std::chrono duration
// (cmd::expire{"k", 10s}, cmd::pexpire{"k", 1500ms}) and an update_condition (condition.hpp).
// TTL and PTTL answer as Redis does: -2 no such key, -1 no expiry.
//
// SCAN answers {next cursor, keys}; the iteration is over when the next cursor is 0:
//
//   std::uint64_t cursor = 0;
//   do { auto page = exec(cmd::scan{.cursor = cursor, .match = "user:*", .count = 100});
//        cursor = page->first; ... } while (cursor != 0);
//
// SCAN is keyless (descriptor.hpp): its MATCH pattern is not a key, and in a cluster it scans
// the one node it is sent to.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/condition.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

namespace detail {

inline void encode_keys(resp::encoder& e, std::string_view name, const arg_list& keys) {
  e.begin(1 + keys.size());
  e.arg(name);
  keys.encode(e);
}

inline void encode_expire(resp::encoder& e, std::string_view name, std::string_view key,
                          std::int64_t amount, update_condition condition) {
  e.begin(3 + word_count(condition));
  e.arg(name);
  e.arg(key);
  e.arg(amount);
  detail::encode(e, condition);
}

}  // namespace detail

/// DEL key... -> how many keys were removed.
struct del {
  arg_list keys{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { detail::encode_keys(e, "DEL", keys); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// UNLINK key... -> how many keys were removed (their memory is reclaimed in the background).
struct unlink {
  arg_list keys{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { detail::encode_keys(e, "UNLINK", keys); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// EXISTS key... -> how many of the keys exist (a key given twice counts twice).
struct exists {
  arg_list keys{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { detail::encode_keys(e, "EXISTS", keys); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// TOUCH key... -> how many of the keys exist (their last access time is updated).
struct touch {
  arg_list keys{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { detail::encode_keys(e, "TOUCH", keys); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// EXPIRE key seconds [NX|XX|GT|LT] -> true when the expiry was set.
struct expire {
  std::string_view key{};
  std::chrono::seconds timeout{};
  update_condition condition = update_condition::always;

  using response = bool;
  void encode(resp::encoder& e) const {
    detail::encode_expire(e, "EXPIRE", key, timeout.count(), condition);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// PEXPIRE key milliseconds [NX|XX|GT|LT] -> true when the expiry was set.
struct pexpire {
  std::string_view key{};
  std::chrono::milliseconds timeout{};
  update_condition condition = update_condition::always;

  using response = bool;
  void encode(resp::encoder& e) const {
    detail::encode_expire(e, "PEXPIRE", key, timeout.count(), condition);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// TTL key -> seconds left; -1 when the key has no expiry, -2 when there is no such key.
struct ttl {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("TTL", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// PTTL key -> milliseconds left; -1 when the key has no expiry, -2 when there is no such key.
struct pttl {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("PTTL", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] -> {next cursor, keys of this page}.
struct scan {
  std::uint64_t cursor = 0;
  std::optional<std::string_view> match{};
  std::optional<std::uint64_t> count{};
  std::optional<std::string_view> type{};

  using response = std::pair<std::uint64_t, std::vector<std::string>>;
  void encode(resp::encoder& e) const {
    e.begin(2 + (match ? 2 : 0) + (count ? 2 : 0) + (type ? 2 : 0));
    e.arg("SCAN");
    e.arg(cursor);
    if (match) {
      e.arg("MATCH");
      e.arg(*match);
    }
    if (count) {
      e.arg("COUNT");
      e.arg(*count);
    }
    if (type) {
      e.arg("TYPE");
      e.arg(*type);
    }
  }
  static constexpr bool keyless = true;
};

}  // namespace uredis::cmd
