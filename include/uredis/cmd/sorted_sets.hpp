#pragma once
// Descriptors for the sorted set commands: ZADD, ZRANGE, ZSCORE, ZINCRBY. (descriptor.hpp states
// the contract; arguments.hpp the lifetimes.)
//
// ZADD is two descriptors, because INCR changes the reply:
//   cmd::zadd{"z", {1.5, "a"}}                  ZADD z 1.5 a        -> added (or, with CH,
//   cmd::zadd{"z", {{1, "a"}, {2, "b"}}, {.condition = update_condition::xx, .changed = true}}
//                                                                        changed) member count
//   cmd::zadd_incr{"z", 2.5, "a"}               ZADD z INCR 2.5 a   -> the new score, or nullopt
//                                                                      when a condition stopped it
// Pairs are score first, member second, as on the wire: any forward range of pairs works, a
// std::map<double, std::string> included.
//
// ZRANGE is two descriptors, because WITHSCORES changes the reply:
//   cmd::zrange{"z", 0, -1}              -> std::vector<std::string>
//   cmd::zrange_withscores{"z", 0, -1}   -> std::vector<std::pair<std::string, double>>
// Both take zrange_options: BYSCORE or BYLEX (start and stop are then scores like 1.5, "(1.5",
// "-inf", or lex bounds like "[a"), REV, and LIMIT offset count (which Redis accepts only with
// BYSCORE or BYLEX: otherwise the server answers an error).
//
// Scores: RESP2 sends them as bulk strings ("1.5", "inf"), RESP3 as doubles; the adapters read
// both into double.

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

struct zadd_options {
  update_condition condition = update_condition::always;
  bool changed = false;  // CH: count the members whose score changed, not only the new ones
};

enum class zrange_by : std::uint8_t {
  index,  // start and stop are ranks (0 -1: all)
  score,  // BYSCORE
  lex,    // BYLEX
};

struct zrange_limit {
  std::int64_t offset = 0;
  std::int64_t count = -1;  // -1: all the rest
};

struct zrange_options {
  zrange_by by = zrange_by::index;
  bool reverse = false;  // REV
  std::optional<zrange_limit> limit{};
};

namespace detail {

inline void encode_zrange(resp::encoder& e, std::string_view key, const arg& start, const arg& stop,
                          const zrange_options& options, bool with_scores) {
  e.begin(4 + (options.by != zrange_by::index ? 1 : 0) + (options.reverse ? 1 : 0) +
          (options.limit ? 3 : 0) + (with_scores ? 1 : 0));
  e.arg("ZRANGE");
  e.arg(key);
  start.encode(e);
  stop.encode(e);
  if (options.by == zrange_by::score) e.arg("BYSCORE");
  if (options.by == zrange_by::lex) e.arg("BYLEX");
  if (options.reverse) e.arg("REV");
  if (options.limit) {
    e.arg("LIMIT");
    e.arg(options.limit->offset);
    e.arg(options.limit->count);
  }
  if (with_scores) e.arg("WITHSCORES");
}

}  // namespace detail

/// ZADD key [NX|XX] [GT|LT] [CH] score member... -> how many members were added (with CH: added
/// or changed).
struct zadd {
  std::string_view key{};
  pair_list members{};  // score, member
  zadd_options options{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(2 + detail::word_count(options.condition) + (options.changed ? 1 : 0) +
            2 * members.size());
    e.arg("ZADD");
    e.arg(key);
    detail::encode(e, options.condition);
    if (options.changed) e.arg("CH");
    members.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// ZADD key [NX|XX] [GT|LT] INCR increment member -> the member's new score, or nullopt when the
/// condition stopped it.
struct zadd_incr {
  std::string_view key{};
  double increment = 0;
  arg member{};
  update_condition condition = update_condition::always;

  using response = std::optional<double>;
  void encode(resp::encoder& e) const {
    e.begin(5 + detail::word_count(condition));
    e.arg("ZADD");
    e.arg(key);
    detail::encode(e, condition);
    e.arg("INCR");
    e.arg(increment);
    member.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] -> the members.
struct zrange {
  std::string_view key{};
  arg start = std::int64_t{0};
  arg stop = std::int64_t{-1};
  zrange_options options{};

  using response = std::vector<std::string>;
  void encode(resp::encoder& e) const {
    detail::encode_zrange(e, key, start, stop, options, false);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// ZRANGE ... WITHSCORES -> the members with their scores.
struct zrange_withscores {
  std::string_view key{};
  arg start = std::int64_t{0};
  arg stop = std::int64_t{-1};
  zrange_options options{};

  using response = std::vector<std::pair<std::string, double>>;
  void encode(resp::encoder& e) const { detail::encode_zrange(e, key, start, stop, options, true); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// ZSCORE key member -> the member's score, or nullopt when there is no such member or key.
struct zscore {
  std::string_view key{};
  arg member{};

  using response = std::optional<double>;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("ZSCORE");
    e.arg(key);
    member.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// ZINCRBY key increment member -> the member's new score.
struct zincrby {
  std::string_view key{};
  double increment = 0;
  arg member{};

  using response = double;
  void encode(resp::encoder& e) const {
    e.begin(4);
    e.arg("ZINCRBY");
    e.arg(key);
    e.arg(increment);
    member.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

}  // namespace uredis::cmd
