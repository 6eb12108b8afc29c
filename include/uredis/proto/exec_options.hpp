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

#include <chrono>
#include <cstdint>

namespace uredis::proto {

enum class cache_use : std::uint8_t { automatic, skip, always };

struct exec_options {
  std::chrono::milliseconds timeout{-1};
  bool idempotent = false;
  cache_use cache = cache_use::automatic;
};

}  // namespace uredis::proto
