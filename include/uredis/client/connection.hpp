#pragma once
// connection: one Redis connection on one shard's reactor, with the callback API, that heals
// itself: it reconnects, resends what is safe to resend, enforces deadlines and checks health.
//
//   connection c{reactor, config};
//   c.connect([](const result<void>& r) { ... });           // resolve, connect, handshake
//   c.exec(cmd::get{"k"}, [](result<std::optional<std::string>> v) { ... });
//
// It is three parts (docs/ARCHITECTURE.md):
//
//   connection (this)  the thin I/O shell: turns completions, timers and resolved addresses
//     |                into session calls, and the session's wishes into transport calls
//   transport          the byte stream: src/io/tcp_transport.hpp (TCP, Unix sockets)
//   session            every decision, sans-I/O: proto/session.hpp, which is the spec of the
//                      states, failures, retries, deadlines and health checks
//
// A command is encoded straight into the session's request buffer and its handler queued; at
// the end of the loop turn the reactor calls flush(), which hands everything queued in that
// turn to one send, from where it was encoded. Replies arrive through a multishot recv and are
// parsed in place in the shard's receive buffers.
//
// Addresses: a numeric host or a Unix socket path is used at once; a name is resolved on the
// reactor's resolver thread, so a slow DNS server never stalls the shard. It is resolved again
// for every reconnect.
//
// Teardown: closing or destroying a connection is safe from anywhere on its shard's thread,
// including its own completions, callbacks and event listeners: the connection's state is
// detached at once (every pending command completes with errc::connection_closed) and freed at
// the end of the loop turn, when none of its code is running any more.
//
// Client-side caching: with config.cache enabled, the connection has a cache::driver that
// answers cacheable reads from a per-connection store kept fresh by the server's invalidations
// (cache/driver.hpp says which commands, and what consistency a caller gets).
//
// Ownership: the connection belongs to its reactor's thread and must not move. It must be
// destroyed before its reactor. Nothing here allocates per command in steady state, nor per
// retry cycle once the buffers have grown to their working size.

#include <cstdint>
#include <utility>

#include "uredis/cache/driver.hpp"
#include "uredis/client/config.hpp"
#include "uredis/client/reply_callback.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/handshake_step.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/proto/session.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"

namespace uredis {

using connection_state = proto::session_state;
using exec_options = proto::exec_options;

class script;
template <class... Commands>
class transaction;

namespace detail {
class connection_core;
template <class Response, class Callback>
class script_handler;  // client/script.hpp
template <class Callback, class... Commands>
class transaction_handler;  // client/transaction.hpp
}  // namespace detail

class connection {
 public:
  using connect_callback = proto::session::connect_callback;

  connection(reactor::reactor& r, connection_config config);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Connects and runs the handshake, retrying as the config's policy says (the first connect
  /// too, unless config.retry_first_connect is false: proto/session_config.hpp); `done` runs
  /// once, with success when the connection is ready or with what ended the last attempt (a
  /// transport error, errc::timeout, the server's error, e.g. WRONGPASS, or a tls_* code when
  /// the TLS handshake or the server's certificate is refused). Precondition: state() is idle
  /// or closed.
  void connect(connect_callback done = {});

  /// Sends `command` and calls `callback(result<Command::response>)` once with its reply.
  template <class Command, class Callback>
  void exec(const Command& command, Callback&& callback, const exec_options& options = {}) {
    static_assert(not_exec_options<Callback>,
                  "uredis: connection::exec takes a callback; for co_await, use a client "
                  "(client.hpp): co_await client.exec(command, options)");
    static_assert(reply_callback<Callback, typename Command::response>,
                  "uredis: the callback must be callable as callback(uredis::result<R>), R being "
                  "the command's response type (cmd::response_t<Command>; for GET, "
                  "std::optional<std::string>)");
    using handler = proto::callback_handler<typename Command::response, std::decay_t<Callback>>;
    enqueue(command, handler{std::forward<Callback>(callback)}, options);
  }

  /// Sends `tx` (MULTI, its commands, EXEC, as one batch: transaction.hpp, which a caller
  /// includes to have one) and calls `callback(result<transaction<...>::results>)` once.
  /// `options.idempotent` is ignored: a written transaction is never resent.
  template <class... Commands, class Callback>
  void exec(const transaction<Commands...>& tx, Callback&& callback,
            const exec_options& options = {}) {
    static_assert(not_exec_options<Callback>,
                  "uredis: connection::exec takes a callback; for co_await, use a client "
                  "(client.hpp): co_await client.exec(transaction, options)");
    static_assert(reply_callback<Callback, typename transaction<Commands...>::results>,
                  "uredis: the callback must be callable as callback(uredis::result<T>), T being "
                  "transaction<...>::results, a std::tuple of one uredis::result per command");
    using handler = detail::transaction_handler<std::decay_t<Callback>, Commands...>;
    handler::start(*this, tx, std::forward<Callback>(callback), options);
  }

  /// Runs `code` with `keys` and `args` (EVALSHA, loading the script on NOSCRIPT: script.hpp,
  /// which a caller includes to have a script) and calls `callback(result<Response>)` once.
  /// The callback may take 32 bytes (four pointers): the call keeps the script and this
  /// connection beside it, to reload on NOSCRIPT.
  template <class Response = resp::reply, class Callback>
  void run(const script& code, cmd::arg_list keys, cmd::arg_list args, Callback&& callback,
           const exec_options& options = {}) {
    static_assert(reply_callback<Callback, Response>,
                  "uredis: the callback must be callable as callback(uredis::result<Response>), "
                  "Response being run<Response>'s (resp::reply unless given)");
    using handler = detail::script_handler<Response, std::decay_t<Callback>>;
    handler::start(*this, code, keys, args, std::forward<Callback>(callback), options);
  }

  /// Sends `command` and queues `handler` (a proto::reply_handler, see proto/pending.hpp) for
  /// its reply: what exec() and the coroutine awaiter (client/exec_awaiter.hpp) build on. When
  /// the command cannot be queued (idle, closed, queue full) the handler completes before this
  /// returns.
  template <class Command, class Handler>
  void enqueue(const Command& command, Handler&& handler, const exec_options& options = {}) {
    if constexpr (cmd::keyed<Command> || cache::keys_unknown<Command>) {
      if (cache_ != nullptr) [[unlikely]] {
        if (const auto taken = cache_->take(command, handler, options)) return queued(*taken);
      }
    }
    queued(session_->enqueue(command, std::forward<Handler>(handler), options));
  }

  /// Closes the connection: every pending command completes with errc::connection_closed, and
  /// no reconnect follows.
  void close();

  connection_state state() const noexcept { return session_->state(); }
  bool ready() const noexcept { return session_->ready(); }
  /// A process-wide unique number naming this connection in events.
  std::uint64_t id() const noexcept { return session_->id(); }
  /// The RESP version negotiated by the last handshake (2 or 3).
  int protocol() const noexcept { return session_->protocol(); }
  /// Commands queued and not yet answered (timed-out ones whose reply is still due included).
  std::size_t pending() const noexcept { return session_->pending(); }
  const connection_config& config() const noexcept;
  /// Where the address provider (config.address, or Sentinel) last sent the connection: the
  /// server it is connected to, or was last; null before its first answer, and without one
  /// (config.host:port or config.unix_socket).
  const endpoint* provided_endpoint() const noexcept;
  /// Times the connection became ready again after losing its socket.
  std::uint64_t reconnects() const noexcept { return session_->reconnects(); }
  /// The current socket's TLS handshake resumed an earlier session (config.tls_options.
  /// session_resumption); false without TLS.
  bool tls_resumed() const noexcept { return session_->tls_resumed(); }
  /// Sockets whose TLS handshake resumed a session, over the connection's life.
  std::uint64_t tls_resumptions() const noexcept { return session_->tls_resumptions(); }

  /// The client-side cache (cache/driver.hpp: its stats, flush()), when config.cache is
  /// enabled; null otherwise.
  cache::driver* cache() noexcept { return cache_; }
  const cache::driver* cache() const noexcept { return cache_; }

  /// Where push frames go: the cache's invalidation hook, the subscriptions' hook, and the
  /// rest (an event::push_received by default).
  proto::push_router& pushes() noexcept { return session_->pushes(); }
  /// Adds `step` to the handshake of every connect from the next one on (CLIENT TRACKING,
  /// resubscribing...); it unregisters itself when destroyed.
  void add_handshake_step(proto::handshake_step& step) noexcept {
    session_->add_handshake_step(step);
  }

  /// Marks the connection as carrying subscriptions (proto::session::set_subscribed).
  void set_subscribed(bool on) { session_->set_subscribed(on); }
  /// The reactor the connection runs on (its shard's).
  reactor::reactor& loop() const noexcept;
  /// Where the connection reports its events: its reactor's dispatcher.
  event::dispatcher& events() noexcept { return session_->events(); }

  /// The session, for what the typed API does not cover (tests, tools).
  const proto::session& session() const noexcept { return *session_; }

 private:
  void queued(proto::session::enqueued what) noexcept {
    // Refused: the handler ran, and may have destroyed this connection; touch nothing. Queued:
    // the core needs to hear of it only when no flush is scheduled yet (the first command of
    // the turn) or the command brought the next deadline forward.
    if (what == proto::session::enqueued::refused) return;
    if (!flush_->flush_hook.is_linked() || what == proto::session::enqueued::queued_new_deadline)
      after_enqueue();
  }
  void after_enqueue() noexcept;

  detail::connection_core* core_;  // owned: freed at once, or retired to the reactor
  proto::session* session_;        // the core's, reachable without its definition
  cache::driver* cache_;           // the core's, or null
  reactor::flushable* flush_;      // the core's: whether a flush is already scheduled
};

}  // namespace uredis
