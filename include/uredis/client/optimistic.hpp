#pragma once
// optimistic: check-and-set with WATCH, retried until no watched key changed under it, in the
// spirit of redis-py's `transaction(func, *watches)`:
//
//   uredis::client watcher{reactor, config};   // a connection of its own (see below)
//   auto r = co_await uredis::optimistic(watcher, "balance", [&](uredis::client& c)
//       -> uredis::task<uredis::result<std::tuple<uredis::result<std::int64_t>>>> {
//     const auto balance = co_await c.exec(cmd::raw<std::int64_t>{"GET", "balance"});
//     if (!balance) co_return balance.error();
//     co_return co_await c.exec(uredis::transaction{cmd::decrby{"balance", 10}});
//   });
//
// Each attempt: WATCH the keys; run `body(client)`, which reads what it needs and sends one
// transaction (client::exec) whose result it returns; if that result is errc::watch_conflict (a
// watched key changed: EXEC did nothing) or errc::watch_lost (the connection was replaced after
// WATCH: nothing was sent), start over, up to `max_attempts` attempts in all; anything else is
// the answer. A body that returns without sending a transaction gets an UNWATCH after it.
//
// The connection: every command sent on a connection between WATCH and EXEC runs inside the
// watch, and EXEC ends the watch for everyone on it, so the client given here must not be shared
// with other coroutines while the helper runs. Give it a client with a connection of its own
// (uredis::client{reactor, config}), kept for this: commands of other callers go on the shard's
// usual client. Reconnects are handled: a transaction never goes out on a socket other than its
// WATCH's (client/transaction_awaiter.hpp), so a lost watch is a retry, never an unguarded EXEC.
//
// `keys` are viewed until the helper completes: await it in the expression that built them
// (several keys: `const cmd::arg keys[] = {"a", "b"};` first, see command_helpers.hpp).
// `body` is kept in the helper's frame; it is called once per attempt.

#include <cstdint>
#include <type_traits>
#include <utility>

#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/error.hpp"
#include "uredis/result.hpp"

namespace uredis {

/// Attempts optimistic() makes by default before it returns the last conflict.
inline constexpr int default_optimistic_attempts = 16;

template <class Body>
std::invoke_result_t<Body&, client&> optimistic(client& c, cmd::arg_list keys, Body body,
                                                int max_attempts = default_optimistic_attempts) {
  using outcome = typename std::invoke_result_t<Body&, client&>::value_type;  // a result<T>
  for (int attempt = 1;; ++attempt) {
    const result<cmd::applied> watched = co_await c.watch(keys);
    if (watched.has_error()) co_return outcome(watched.error());
    if (watched.has_server_error()) co_return outcome(watched.server_error());
    outcome answer = co_await body(c);
    if (c.watching()) (void)co_await c.unwatch();  // no transaction was sent
    const bool conflict = answer.has_error() && (answer.error() == errc::watch_conflict ||
                                                 answer.error() == errc::watch_lost);
    if (!conflict || attempt >= max_attempts) co_return answer;
  }
}

}  // namespace uredis
