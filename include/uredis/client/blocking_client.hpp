#pragma once
// blocking_client: the blocking API, for scripts, tools and simple programs. Each call sends its
// command and runs a private reactor on the calling thread until the reply is in; failures are
// thrown as the exception tree of exceptions.hpp (redis-py's), not returned.
//
//   uredis::blocking_client c{"redis://127.0.0.1:6379"};   // connects, or throws
//   c.set("k", "v");
//   std::optional<std::string> v = c.get("k");
//   auto n = c.exec(uredis::cmd::incr{"counter"});          // any descriptor
//   auto info = c.command("CLIENT", "INFO");                // any command: resp::reply
//   auto [a, b] = c.pipeline(cmd::incr{"x"}, cmd::get{"k"}); // one round trip
//   uredis::batch<> b;                                       // a pipeline built at run time
//   for (auto& k : keys) b.push(cmd::get{k});
//   for (uredis::result<resp::reply>& r : c.exec(b)) { ... } // one send, one result each
//
// Every typed helper of command_helpers.hpp is here, returning the descriptor's response
// (cmd::response_t<D>) itself.
//
// Failures:
//   - connecting: a connection_error (timeout_error for a connect timeout) whose what() names
//     the address; authentication_error when the server refuses the credentials (WRONGPASS,
//     NOAUTH, "invalid password"); any other refusal during the handshake (SELECT of a database
//     that does not exist...) is a connection_error carrying the server's error.
//   - the first connect is not retried: a server that is not there (connection refused, a
//     connect timeout) throws at once, as redis-cli and redis-plus-plus fail, not after the
//     retry policy's ~4 s. The constructor makes an unset config.retry_first_connect false;
//     set it to true to have the first connect retried by config.retry (a server still
//     starting). Once connected, reconnecting follows config.retry (below).
//   - a command: the mapped exception of its failure (uredis::throw_exception): response_error
//     and its subclasses for error replies (WRONGTYPE -> response_error, NOSCRIPT ->
//     no_script_error...), which leave the connection usable; connection_error when the
//     connection fails; data_error when the reply does not fit the response type.
//   - a batch (batch.hpp): its entries' error replies, and replies that do not fit the response
//     type, stay in their own entries' results; exec(batch) throws only when an entry got no
//     reply because of the connection (connection_error, timeout_error...: the first such entry
//     in push order), after every entry has completed, so the others' results are in the batch.
//   - a command issued after the connection failed reconnects first (as redis-py's pool does);
//     the command that was waiting when it failed is not retried.
//   - the io_uring itself fails (a kernel error the reactor cannot recover from): a plain
//     uredis::error naming it; the connection is closed first, so nothing is left waiting.
//
// Client-side caching (config.cache, or ?cache_max_bytes=N in the URL): before each command,
// one turn of the reactor that does not block takes in the invalidations already received, so
// a read answered from the cache is as fresh as the pushes that have arrived (cache/driver.hpp).
//
// Threading and ownership: a blocking_client owns its reactor (one io_uring instance) and its
// connection; it must be used from the thread that created it (io_uring SINGLE_ISSUER) and
// never from a reactor's loop. It is movable, not copyable.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "uredis/client/batch.hpp"
#include "uredis/client/command_helpers.hpp"
#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"

namespace uredis {

class blocking_client : public command_helpers<blocking_client> {
 public:
  /// A reactor sized for one connection with a few requests in flight: a small ring and
  /// 512 KiB of receive buffers (a shard's default is 4 MiB).
  static reactor::reactor_options default_reactor_options() noexcept;

  /// Connects to the server a URL names (client/config.hpp: redis://, unix://). Throws
  /// data_error for a URL that does not parse, and what connect() throws.
  explicit blocking_client(std::string_view url,
                           const reactor::reactor_options& options = default_reactor_options());
  /// Connects to `config`'s server, once unless config.retry_first_connect is true (see
  /// Failures above). Throws what connect() throws, and uredis::error when io_uring cannot be
  /// set up.
  explicit blocking_client(connection_config config,
                           const reactor::reactor_options& options = default_reactor_options());

  blocking_client(blocking_client&&) noexcept;
  blocking_client& operator=(blocking_client&&) noexcept;
  ~blocking_client();

  /// Sends `command` and returns its reply adapted to the descriptor's response; throws the
  /// mapped exception on any failure.
  template <cmd::descriptor D>
  cmd::response_t<D> exec(const D& command) {
    using response = cmd::response_t<D>;
    static_assert(!proto::detail::holds_view<response>::value,
                  "a view into the read buffer dies with the reply: read it into std::string");
    ensure_connected();
    std::optional<result<response>> got;
    conn_->exec(command, [&got](result<response> r) { got.emplace(std::move(r)); });
    wait_for([&got] { return got.has_value(); });
    return std::move(*got).value();
  }

  /// Runs `code` (EVALSHA, loading the script on NOSCRIPT: client/script.hpp) and returns its
  /// reply as a Response; throws the mapped exception on any failure (SCRIPT LOAD's error, a
  /// compile error, as a response_error).
  template <class Response = resp::reply>
  Response run(const script& code, const cmd::arg_list& keys = {}, const cmd::arg_list& args = {}) {
    static_assert(!proto::detail::holds_view<Response>::value,
                  "a view into the read buffer dies with the reply: read it into std::string");
    ensure_connected();
    std::optional<result<Response>> got;
    conn_->run<Response>(code, keys, args,
                         [&got](result<Response> r) { got.emplace(std::move(r)); });
    wait_for([&got] { return got.has_value(); });
    return std::move(*got).value();
  }

  /// Sends `tx` (MULTI, its commands, EXEC, as one batch: client/transaction.hpp) and returns
  /// one result per command (a command that failed inside EXEC holds its server error); throws
  /// for the transaction as a whole: EXECABORT as an exec_abort_error, a WATCH conflict as a
  /// watch_error, a lost connection as a connection_error. The results travel in the callback
  /// API's reply slot, which holds a handful of commands (more does not compile).
  template <class... Commands>
  typename transaction<Commands...>::results exec(const transaction<Commands...>& tx) {
    using results = typename transaction<Commands...>::results;
    ensure_connected();
    std::optional<result<results>> got;
    conn_->exec(tx, [&got](result<results> r) { got.emplace(std::move(r)); });
    wait_for([&got] { return got.has_value(); });
    return std::move(*got).value();
  }

  /// Sends every command at once (one round trip) and returns their responses in order. The
  /// replies are all read before anything is thrown, so the connection stays in step; then the
  /// first failure in command order is thrown.
  template <cmd::descriptor... D>
  requires(sizeof...(D) >= 1) std::tuple<cmd::response_t<D>...> pipeline(const D&... commands) {
    static_assert((!proto::detail::holds_view<cmd::response_t<D>>::value && ...),
                  "a view into the read buffer dies with the reply: read it into std::string");
    ensure_connected();
    std::tuple<std::optional<result<cmd::response_t<D>>>...> got;
    std::size_t done = 0;
    send_all(got, done, std::index_sequence_for<D...>{}, commands...);
    wait_for([&done] { return done == sizeof...(D); });
    return collect<D...>(got, std::index_sequence_for<D...>{});
  }

  /// Sends every command pushed into `b` at once (one send) and returns when each has its
  /// result: the batch's results, one per entry in push order (batch.hpp). An error reply fails
  /// only its own entry and is not thrown; when the connection fails (or an entry's deadline
  /// passes) the call throws the mapped exception of the first entry left without a reply, once
  /// every entry has completed (the rest of the results are in `b`). `options` apply to each.
  template <class Response>
  std::span<result<Response>> exec(batch<Response>& b, const exec_options& options = {}) {
    if (b.empty()) return b.results();
    ensure_connected();
    if (!b.send(*conn_, options)) wait_for([&b] { return !b.in_flight(); });
    if (const std::error_code lost = b.failure()) throw_exception(lost);
    return b.results();
  }

  /// Connects again if the connection is not ready (it failed, or close() was called). Throws
  /// like the constructor.
  void connect();
  /// Closes the connection; the next command reconnects.
  void close();

  bool connected() const noexcept { return conn_ && conn_->ready(); }
  /// The RESP version the handshake negotiated (2 or 3).
  int protocol() const noexcept { return conn_->protocol(); }
  const connection_config& config() const noexcept { return conn_->config(); }

  /// The connection and its reactor, for what the blocking API does not cover.
  uredis::connection& connection() noexcept { return *conn_; }
  reactor::reactor& loop() noexcept { return *reactor_; }

 private:
  // Runs the reactor until `done()`. If the ring fails first, the connection is closed (every
  // waiting callback runs, while what it writes to still exists) and the failure is thrown.
  template <class Predicate>
  void wait_for(Predicate&& done) {
    reactor_->run_until(done);
    if (!done()) fail_on_ring_error();
  }
  [[noreturn]] void fail_on_ring_error();

  // First, what has already reached the socket is taken in (one turn that does not block; no
  // syscall when nothing is waiting): an end of stream the server sent while the client sat
  // idle (a restart, its idle timeout), so the command goes to a new socket instead of failing
  // as written on the dead one (redis-py checks a pooled connection on checkout); and, with a
  // client-side cache, the invalidations, so a caller that saw another client's write complete
  // never gets an older value than that push allows. Then a connection that is reconnecting
  // on its own is left to it: the command waits its turn.
  void ensure_connected() {
    reactor_->poll();
    const connection_state s = conn_->state();
    if (s == connection_state::idle || s == connection_state::closed) connect();
  }

  template <class Slots, std::size_t... I, class... D>
  void send_all(Slots& got, std::size_t& done, std::index_sequence<I...>, const D&... commands) {
    (conn_->exec(commands,
                 [slot = &std::get<I>(got), &done](result<cmd::response_t<D>> r) {
                   slot->emplace(std::move(r));
                   ++done;
                 }),
     ...);
  }

  template <class... D, class Slots, std::size_t... I>
  static std::tuple<cmd::response_t<D>...> collect(Slots& got, std::index_sequence<I...>) {
    // Braced initialization evaluates left to right: the first failure in order is thrown.
    return std::tuple<cmd::response_t<D>...>{std::move(*std::get<I>(got)).value()...};
  }

  // Members are destroyed bottom up: the connection detaches from the reactor before it goes.
  std::unique_ptr<reactor::reactor> reactor_;
  std::unique_ptr<uredis::connection> conn_;
};

}  // namespace uredis
