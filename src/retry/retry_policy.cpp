#include "uredis/retry/retry_policy.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <string_view>

#include "uredis/error.hpp"

namespace uredis::retry {

namespace {

// Commands the server flags read-only (COMMAND INFO: "readonly") that callers commonly send,
// plus PING, ECHO and TIME, which touch no data. Upper case and sorted, for binary search;
// the static_assert below keeps it sorted. Container commands ("CLIENT INFO") are absent:
// their first word alone does not say whether they write.
constexpr std::string_view read_only_commands[] = {
    "BITCOUNT",
    "BITFIELD_RO",
    "BITPOS",
    "DBSIZE",
    "DUMP",
    "ECHO",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXISTS",
    "EXPIRETIME",
    "FCALL_RO",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GET",
    "GETBIT",
    "GETRANGE",
    "HEXISTS",
    "HGET",
    "HGETALL",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HRANDFIELD",
    "HSCAN",
    "HSTRLEN",
    "HVALS",
    "KEYS",
    "LCS",
    "LINDEX",
    "LLEN",
    "LPOS",
    "LRANGE",
    "MGET",
    "PEXPIRETIME",
    "PFCOUNT",
    "PING",
    "PTTL",
    "RANDOMKEY",
    "SCAN",
    "SCARD",
    "SDIFF",
    "SINTER",
    "SINTERCARD",
    "SISMEMBER",
    "SMEMBERS",
    "SMISMEMBER",
    "SORT_RO",
    "SRANDMEMBER",
    "SSCAN",
    "STRLEN",
    "SUBSTR",
    "SUNION",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREVRANGE",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZINTER",
    "ZINTERCARD",
    "ZLEXCOUNT",
    "ZMSCORE",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANK",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
};

constexpr char upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

// Compares `name` in any case with `entry` (upper case), as <=> would on upper(name).
constexpr int compare_upper(std::string_view name, std::string_view entry) noexcept {
  const std::size_t n = std::min(name.size(), entry.size());
  for (std::size_t i = 0; i < n; ++i) {
    const char a = upper(name[i]);
    if (a != entry[i])
      return static_cast<unsigned char>(a) < static_cast<unsigned char>(entry[i]) ? -1 : 1;
  }
  return name.size() < entry.size() ? -1 : (name.size() > entry.size() ? 1 : 0);
}

static_assert(std::is_sorted(std::begin(read_only_commands), std::end(read_only_commands)),
              "is_read_only() binary-searches this table");

}  // namespace

bool is_transient(const std::error_code& ec) noexcept {
  if (ec.category() == category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::connection_refused:
      case errc::connection_reset:
      case errc::connection_closed:
      case errc::not_connected:
      case errc::timeout:
      case errc::server_loading:
      // Sentinel: the primary moved, or is being moved; asking the Sentinels again finds it.
      case errc::sentinel_unreachable:
      case errc::role_mismatch:
      case errc::primary_switched:
        return true;
      default:
        return false;
    }
  }
  // Kernel codes (and anything else mapping onto these conditions).
  return ec == std::errc::connection_refused || ec == std::errc::connection_reset ||
         ec == std::errc::connection_aborted || ec == std::errc::not_connected ||
         ec == std::errc::broken_pipe || ec == std::errc::timed_out ||
         ec == std::errc::host_unreachable || ec == std::errc::network_unreachable ||
         ec == std::errc::network_down || ec == std::errc::network_reset;
}

bool is_read_only(std::string_view command_name) noexcept {
  const auto it = std::lower_bound(
      std::begin(read_only_commands), std::end(read_only_commands), command_name,
      [](std::string_view entry, std::string_view name) { return compare_upper(name, entry) > 0; });
  return it != std::end(read_only_commands) && compare_upper(command_name, *it) == 0;
}

retry_policy& retry_policy::retry_on(retryable_fn predicate) noexcept {
  assert(predicate != nullptr);
  retryable_ = predicate;
  return *this;
}

retry_policy& retry_policy::on_failure(fail_hook_fn hook, void* context) noexcept {
  hook_ = hook;
  hook_context_ = context;
  return *this;
}

decision retry_policy::decide(const std::error_code& error, std::uint32_t failures, bool written,
                              bool idempotent, backoff& strategy, util::rng& rng) const noexcept {
  assert(failures >= 1);
  decision verdict;
  if (!retryable_(error)) {
    verdict = decision::give_up(error, error);
  } else if (written && !idempotent) {
    verdict = decision::give_up(errc::outcome_unknown, error);
  } else if (retries_ >= 0 && failures > static_cast<std::uint32_t>(retries_)) {
    verdict = decision::give_up(error, error);
  } else {
    verdict = decision::retry_after(strategy.compute(failures, rng), error);
  }
  if (hook_ != nullptr)
    hook_(hook_context_, failure{error, failures, written, idempotent, verdict});
  return verdict;
}

}  // namespace uredis::retry
