#pragma once
// exec_options: how one command is run, when the connection's defaults do not fit it.
//
//   conn.exec(cmd::incr{"n"}, callback, {.timeout = 50ms});      // its own deadline
//   co_await client.exec(cmd::incr{"n"}, {.idempotent = true});  // safe to resend
//
// timeout     < 0: the connection's default (session_config::command_timeout, or for a
//             blocking pop its server-side timeout plus blocking_timeout_margin); 0: no
//             deadline; > 0: the command completes with errc::timeout this long after it was
//             issued, whatever happens to its reply (which is then discarded when it comes).
// idempotent  the caller's word that executing the command twice does no harm, so it may be
//             resent after a connection failure lost its reply. Read-only commands are resent
//             anyway (retry::is_read_only); without this a written write completes with
//             errc::outcome_unknown instead. A command never written is always resent.
// cache       on a connection with a client-side cache (cache/driver.hpp): automatic caches
//             the commands of the allow-list (cache/allow_list.hpp); skip sends this one to the
//             server, uncached; always caches it though it is not listed (the caller's word
//             that it only reads the keys its descriptor names). Ignored without a cache.
// reads       on a cluster client (cluster/read_router.hpp): where this command may go if it
//             is read-only (primary, prefer_replica, round_robin); unset: the client's
//             cluster_config::reads. A write goes to its primary whatever this says. Ignored
//             on a single connection.

#include <chrono>
#include <cstdint>
#include <optional>

namespace uredis::proto {

enum class cache_use : std::uint8_t { automatic, skip, always };

/// Which node of a cluster shard serves a read-only command (cluster/read_router.hpp).
enum class read_policy : std::uint8_t {
  primary,         // the slot's primary, as for writes (consistent: reads see every write)
  prefer_replica,  // a replica of the slot's shard when one is known and usable, else the primary
  round_robin,     // the primary and its replicas in turn
};

struct exec_options {
  std::chrono::milliseconds timeout{-1};
  bool idempotent = false;
  cache_use cache = cache_use::automatic;
  std::optional<read_policy> reads = std::nullopt;
};

}  // namespace uredis::proto
