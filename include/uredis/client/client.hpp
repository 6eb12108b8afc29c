#pragma once
// client: the coroutine API over one connection. A thin facade: every typed helper
// (command_helpers.hpp) and exec(descriptor) return an awaitable of result<response>, and the
// callback API passes straight through.
//
//   uredis::task<> run(uredis::client& c) {
//     if (auto r = co_await c.connect(); !r) co_return;       // resolve, connect, handshake
//     auto ok = co_await c.set("k", "v");                       // result<cmd::applied>
//     auto v = co_await c.get("k");                             // result<optional<string>>
//     auto n = co_await c.exec(cmd::incr{"counter"});           // any descriptor
//     auto any = co_await c.command("OBJECT", "ENCODING", "k"); // any command: resp::reply
//     uredis::batch<std::int64_t> b;                            // built at run time
//     for (int i = 0; i < 1000; ++i) b.push(cmd::incr{"counter"});
//     for (result<std::int64_t>& r : co_await c.exec(b)) { ... } // one send, one result each
//   }
//   uredis::client c{reactor, config};
//   uredis::spawn(run(c));
//   reactor.run_until([&] { ... });
//
// Commands awaited by many coroutines in the same loop turn go out together in one send
// (automatic pipelining) and complete in order. Awaiting allocates nothing per command
// (exec_awaiter.hpp says where everything lives and when the coroutine resumes: directly from
// the reactor's completion dispatch, on the shard's thread).
//
// States are the connection's (connection.hpp): awaiting a command while idle or closed gives
// errc::not_connected at once; while connecting, the command waits for the handshake.
//
// Ownership: a client either owns its connection (built from a reactor and a config) or uses
// one someone else owns (which must outlive it). Either way it belongs to the reactor's thread
// and does not move.

#include <concepts>
#include <coroutine>
#include <optional>
#include <system_error>
#include <utility>

#include "uredis/client/batch.hpp"
#include "uredis/client/command_helpers.hpp"
#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/exec_awaiter.hpp"
#include "uredis/client/reply_callback.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/script_awaiter.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/client/transaction_awaiter.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/cmd/transactions.hpp"
#include "uredis/error.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"

namespace uredis {

/// `co_await client.connect()`: connects and runs the handshake; result<void> says how it went.
class [[nodiscard]] connect_awaiter {
 public:
  explicit connect_awaiter(connection& conn) noexcept : conn_(&conn) {}
  connect_awaiter(const connect_awaiter&) = delete;
  connect_awaiter& operator=(const connect_awaiter&) = delete;

  /// Ready at once when there is nothing to do: already connected (success), or a connect
  /// already under way, first or a reconnect (std::errc::connection_already_in_progress: one
  /// connect at a time; commands issued meanwhile wait for it).
  bool await_ready() noexcept {
    switch (conn_->state()) {
      case connection_state::ready:
        outcome_.emplace();
        return true;
      case connection_state::connecting:
      case connection_state::handshaking:
      case connection_state::reconnecting:
        outcome_.emplace(std::make_error_code(std::errc::connection_already_in_progress));
        return true;
      default:
        return false;
    }
  }

  /// Starts connecting; false (do not suspend) when it ended meanwhile (an unresolvable host).
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    conn_->connect([this](const result<void>& outcome) { complete(outcome); });
    if (outcome_) return false;
    suspended_ = true;
    return true;
  }

  result<void> await_resume() { return std::move(*outcome_); }

 private:
  void complete(const result<void>& outcome) {
    outcome_.emplace(outcome);
    // Last: the coroutine may finish and free this awaiter.
    if (suspended_) awaiting_.resume();
  }

  connection* conn_;
  std::optional<result<void>> outcome_;
  std::coroutine_handle<> awaiting_;
  bool suspended_ = false;
};

/// `co_await client.watch(keys)`: WATCH, sent as idempotent (a resend is harmless), and on +OK
/// the client records that its connection carries watches (watch_state), for the next
/// transaction it sends.
class [[nodiscard]] watch_awaiter {
 public:
  watch_awaiter(connection& conn, const cmd::arg_list& keys, watch_state& state) noexcept
      : inner_(conn, cmd::watch{keys}, {.idempotent = true}), conn_(&conn), state_(&state) {}

  bool await_ready() noexcept { return inner_.await_ready(); }
  bool await_suspend(std::coroutine_handle<> awaiting) { return inner_.await_suspend(awaiting); }
  result<cmd::applied> await_resume() {
    result<cmd::applied> r = inner_.await_resume();
    // Resumed from the reply's completion: reconnects() is the socket's that answered.
    if (r && *r) *state_ = {true, conn_->reconnects()};
    return r;
  }

 private:
  exec_awaiter<cmd::watch> inner_;
  connection* conn_;
  watch_state* state_;
};

class client : public command_helpers<client> {
 public:
  /// A client with its own connection to `config`'s server on `r`'s shard (not connected yet).
  client(reactor::reactor& r, connection_config config)
      : owned_(std::in_place, r, std::move(config)), conn_(&*owned_) {}
  /// A client over `conn`, which must outlive it.
  explicit client(uredis::connection& conn) noexcept : conn_(&conn) {}

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects and runs the handshake (connection::connect as an awaitable).
  connect_awaiter connect() noexcept { return connect_awaiter(*conn_); }

  /// `co_await exec(command)` -> result<cmd::response_t<D>>. The awaitable views what the
  /// descriptor views: await it in the same expression.
  /// `options` sets the command's deadline or marks it idempotent (exec_options.hpp).
  template <cmd::descriptor D>
  exec_awaiter<D> exec(const D& command, const exec_options& options = {}) noexcept {
    if (watch_.armed) return exec_awaiter<D>(*conn_, command, uncached(options));
    return exec_awaiter<D>(*conn_, command, options);
  }

  /// `co_await exec(b)` -> std::span<result<R>>: sends every command pushed into the batch in
  /// one loop turn (one send) and resumes when each has its result (batch.hpp: an error reply
  /// fails only its own entry; a failed connection completes the rest with its error). The
  /// span is the batch's results; `b` must outlive the co_await. `options` apply to each entry.
  template <class Response>
  batch_awaiter<Response> exec(batch<Response>& b, const exec_options& options = {}) noexcept {
    return batch_awaiter<Response>(*conn_, b, options);
  }

  /// The callback API: `callback(result<cmd::response_t<D>>)` runs once (connection::exec).
  template <cmd::descriptor D, not_exec_options Callback>
  void exec(const D& command, Callback&& callback, const exec_options& options = {}) {
    conn_->exec(command, std::forward<Callback>(callback),
                watch_.armed ? uncached(options) : options);
  }

  /// `co_await exec(transaction{...})` -> result<transaction<...>::results>: MULTI, the
  /// commands and EXEC as one batch (transaction.hpp). After watch(), the transaction is sent
  /// only on the connection that answered the WATCH (else errc::watch_lost, nothing sent), and
  /// ends the watch.
  template <class... Commands>
  transaction_awaiter<Commands...> exec(const transaction<Commands...>& tx,
                                        const exec_options& options = {}) noexcept {
    return transaction_awaiter<Commands...>(*conn_, tx, options, &watch_);
  }

  /// The callback API for a transaction (connection::exec), with the same watch rules: after
  /// watch(), sent only on the connection that answered the WATCH, and it ends the watch.
  template <class... Commands, not_exec_options Callback>
  void exec(const transaction<Commands...>& tx, Callback&& callback,
            const exec_options& options = {}) {
    static_assert(reply_callback<Callback, typename transaction<Commands...>::results>,
                  "uredis: the callback must be callable as callback(uredis::result<T>), T being "
                  "transaction<...>::results, a std::tuple of one uredis::result per command");
    const connection_state s = conn_->state();
    const bool connected = s != connection_state::idle && s != connection_state::closed;
    if (!std::exchange(watch_.armed, false) || !connected)
      return conn_->exec(tx, std::forward<Callback>(callback), options);  // not_connected, if so
    if (!watch_.holds_on(*conn_)) {
      using results = typename transaction<Commands...>::results;
      callback(result<results>(errc::watch_lost));
      return;
    }
    using handler = detail::transaction_handler<std::decay_t<Callback>, Commands...>;
    handler::start_watched(*conn_, tx, std::forward<Callback>(callback), options);
  }

  /// `co_await watch(keys)` -> result<cmd::applied>: WATCHes `keys` on this client's connection
  /// until the next transaction or unwatch(). Every command on the connection runs between
  /// WATCH and EXEC, so use a client of its own (optimistic.hpp says how).
  watch_awaiter watch(const cmd::arg_list& keys) noexcept {
    return watch_awaiter(*conn_, keys, watch_);
  }
  /// `co_await unwatch()`: UNWATCH; the client forgets its watches at once.
  exec_awaiter<cmd::unwatch> unwatch() noexcept {
    watch_.armed = false;
    return exec_awaiter<cmd::unwatch>(*conn_, cmd::unwatch{});
  }
  /// True between an answered watch() and the transaction (or unwatch()) that ends it.
  bool watching() const noexcept { return watch_.armed; }

  /// `co_await run<R>(code, keys, args)` -> result<R>: runs a script by its SHA-1, loading it
  /// on NOSCRIPT (script.hpp). Await it in the expression that built the keys and arguments.
  template <class Response = resp::reply>
  script_awaiter<Response> run(const script& code, const cmd::arg_list& keys = {},
                               const cmd::arg_list& args = {},
                               const exec_options& options = {}) noexcept {
    return script_awaiter<Response>(*conn_, code, keys, args, options);
  }

  /// The callback API: `callback(result<R>)` runs once (connection::run).
  template <class Response = resp::reply, not_exec_options Callback>
  void run(const script& code, const cmd::arg_list& keys, const cmd::arg_list& args,
           Callback&& callback, const exec_options& options = {}) {
    conn_->run<Response>(code, keys, args, std::forward<Callback>(callback), options);
  }

  /// Closes the connection: every waiting command and coroutine gets errc::connection_closed.
  void close() { conn_->close(); }

  connection_state state() const noexcept { return conn_->state(); }
  bool ready() const noexcept { return conn_->ready(); }
  /// The RESP version the handshake negotiated (2 or 3).
  int protocol() const noexcept { return conn_->protocol(); }

  uredis::connection& connection() noexcept { return *conn_; }
  const uredis::connection& connection() const noexcept { return *conn_; }

 private:
  // Between WATCH and EXEC a cached read goes to the server as itself: the cache's own
  // MULTI ... EXEC wrapper would end the caller's watch.
  static exec_options uncached(exec_options options) noexcept {
    options.cache = proto::cache_use::skip;
    return options;
  }

  std::optional<uredis::connection> owned_;  // empty when the connection is someone else's
  uredis::connection* conn_;
  watch_state watch_;
};

}  // namespace uredis
