#pragma once
// transaction: typed commands sent as MULTI, the commands, EXEC, in one contiguous batch, with
// each command's typed result back.
//
//   auto r = co_await client.exec(uredis::transaction{cmd::incr{"c"}, cmd::get{"k"}});
//   // r: result<std::tuple<result<std::int64_t>, result<std::optional<std::string>>>>
//   conn.exec(uredis::transaction{cmd::incr{"c"}, cmd::get{"k"}}, [](auto r) { ... });
//
// Atomic on a multiplexed connection: the batch is ONE pipeline entry (proto/pipeline.hpp,
// request::replies = commands + 2) encoded in one go, and the reactor is single-threaded, so no
// other caller's command can land between MULTI and EXEC; one handler reads all the replies and
// completes once.
//
// What the result holds:
//   a tuple             EXEC ran: one result per command, in order, each the command's value or
//                       the server's error for that command alone (a WRONGTYPE inside EXEC does
//                       not stop the others: Redis has no rollback)
//   server_error        EXECABORT: a command was refused while queued (unknown command, wrong
//                       arity), so nothing ran. The kind is EXECABORT; the message is the
//                       server's, followed by the refused command's position and error:
//                       "EXECABORT Transaction discarded ... [command 2: ERR wrong number of
//                       arguments for 'incr' command]". Or MULTI's own error (an ACL that
//                       forbids MULTI): then the server did NOT stop; it ran each command on
//                       its own, outside any transaction (their replies are read and dropped,
//                       and EXEC answers "ERR EXEC without MULTI"). Treat it like a failed
//                       write: the commands' effects are there.
//   errc::watch_conflict  EXEC answered null: a WATCHed key changed (client/optimistic.hpp)
//   errc::watch_lost      sent after WATCH on a connection that was replaced since: not sent
//   another error_code  the connection failed, timed out, or the reply did not fit
//
// After a reconnect a transaction is judged as one command named MULTI: never written -> sent
// again, whole; written, or partly answered -> errc::outcome_unknown (EXEC may have run). It is
// never resent once written, even when exec_options::idempotent is set (the flag is ignored for
// transactions): after WATCH, a resend on a new connection would run without the watches, and
// the caller of a transaction counts on all-or-nothing, which a lost reply already breaks.
//
// A transaction views its commands' arguments as the descriptors do (cmd/descriptor.hpp): build
// it in the expression that sends it. Its replies are read into the results with no tree in
// between; nothing is allocated beyond what the Responses themselves hold (and an error's text).
// The callback API keeps the results in the pipeline's 512-byte active slot
// (proto/pending.hpp), which bounds it to a handful of commands (a larger one fails to compile
// there); the coroutine API keeps them in the coroutine frame, with no bound.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include "uredis/client/connection.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/session.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/type.hpp"
#include "uredis/result.hpp"

namespace uredis {

template <class... Commands>
class transaction {
  static_assert(sizeof...(Commands) >= 1, "a transaction queues at least one command");
  static_assert((cmd::descriptor<Commands> && ...),
                "a transaction queues command descriptors (include/uredis/cmd/)");
  static_assert((!proto::detail::holds_view<cmd::response_t<Commands>>::value && ...),
                "a transaction's replies outlive the read buffer: read strings into std::string");

 public:
  /// One result per command, in order.
  using results = std::tuple<result<cmd::response_t<Commands>>...>;
  static constexpr std::size_t size = sizeof...(Commands);

  // Implicit, so that a braced list of descriptors reads as a transaction.
  transaction(const Commands&... commands) noexcept : commands_(commands...) {}

  /// MULTI, each command, EXEC.
  void encode(resp::encoder& e) const {
    e.command("MULTI");
    std::apply([&e](const Commands&... c) { (c.encode(e), ...); }, commands_);
    e.command("EXEC");
  }
  /// MULTI's, one per command (+QUEUED), EXEC's.
  static constexpr std::uint32_t replies() noexcept { return static_cast<std::uint32_t>(size + 2); }
  /// Whether a command inside names itself only once encoded (cmd::raw): the session checks the
  /// batch's bytes then, and refuses a SUBSCRIBE or MONITOR inside (errc::not_one_reply).
  static constexpr bool any_command = (proto::names_any_command<Commands> || ...);
  /// Every command's keys, in order (for a cluster router: they must share a slot).
  constexpr void for_each_key(auto&& f) const {
    std::apply(
        [&f](const Commands&... c) {
          (
              [&f](const auto& one) {
                if constexpr (cmd::keyed<std::remove_cvref_t<decltype(one)>>) one.for_each_key(f);
              }(c),
              ...);
        },
        commands_);
  }

 private:
  std::tuple<Commands...> commands_;
};

template <class... Commands>
transaction(Commands...) -> transaction<Commands...>;

namespace detail {

/// A transaction sent after WATCH: bound to the socket that carried the WATCH (the session never
/// keeps it for another one).
template <class Transaction>
struct watched_transaction {
  const Transaction* tx;

  void encode(resp::encoder& e) const { tx->encode(e); }
  static constexpr std::uint32_t replies() noexcept { return Transaction::replies(); }
  static constexpr bool any_command = Transaction::any_command;
  static constexpr bool bound_to_socket() noexcept { return true; }
};

/// A transaction's options: its deadline, never the idempotent flag (see the header comment).
inline proto::exec_options transaction_options(proto::exec_options o) noexcept {
  o.idempotent = false;
  return o;
}

/// Reads the N+2 replies of a transaction of N commands into one result per command. Never
/// moves (the adapters point into it).
template <class... Responses>
class transaction_reader {
 public:
  using results = std::tuple<result<Responses>...>;
  static constexpr std::size_t size = sizeof...(Responses);

  transaction_reader() noexcept : results_(result<Responses>(errc::incomplete_reply)...) {}
  transaction_reader(const transaction_reader&) = delete;
  transaction_reader& operator=(const transaction_reader&) = delete;

  void on_node(const resp::node& n) {
    if (n.depth == 0) {
      ++reply_;
      if (reply_ <= size) {
        queued_reply(n);
      } else if (reply_ == size + 1) {
        exec_reply(n);
      } else {
        unexpected_ = true;  // more replies than the batch has: a pipeline bug
      }
      return;
    }
    if (reply_ != size + 1 || !in_array_) return;  // inside an odd queueing reply: ignored
    if (n.depth == 1) {
      start_element(n);
    } else {
      continue_element(n);
    }
  }

  /// The transaction's result, once its last reply is read (or it failed).
  result<results> finish(const proto::reply_outcome& o) {
    if (o.error) return result<results>(o.error);
    if (o.error_reply != nullptr) return result<results>(server_error::parse(o.error_reply->value));
    if (multi_error_) return result<results>(std::move(*multi_error_));
    if (exec_error_) {
      server_error e = std::move(*exec_error_);
      if (e.kind == server_error_kind::execabort && refused_) {
        e.message +=
            " [command " + std::to_string(refused_index_ + 1) + ": " + refused_->message + "]";
      }
      return result<results>(std::move(e));
    }
    if (conflict_) return result<results>(errc::watch_conflict);
    if (unexpected_) return result<results>(errc::type_mismatch);
    if (!in_array_ || element_ != size || !counter_.done())
      return result<results>(errc::incomplete_reply);
    return result<results>(std::move(results_));
  }

 private:
  // MULTI's +OK (reply 0) or a command's +QUEUED (replies 1..N), or an error.
  void queued_reply(const resp::node& n) {
    if (resp::is_error(n.type)) {
      if (reply_ == 0) {
        if (!multi_error_) multi_error_.emplace(server_error::parse(n.value));
      } else if (!refused_) {
        refused_.emplace(server_error::parse(n.value));
        refused_index_ = reply_ - 1;
      }
    } else if (n.type != resp::type::simple_string) {
      unexpected_ = true;
    }
  }

  // EXEC's: an array of N replies, null (a WATCH conflict) or an error (EXECABORT).
  void exec_reply(const resp::node& n) {
    if (resp::is_error(n.type)) {
      exec_error_.emplace(server_error::parse(n.value));
    } else if (n.type == resp::type::null) {
      conflict_ = true;
    } else if (n.type == resp::type::array && n.size == size) {
      in_array_ = true;
    } else {
      unexpected_ = true;
    }
  }

  void start_element(const resp::node& n) {
    if (element_ == size) return;  // announced size was checked: cannot happen
    const std::size_t i = element_++;
    counter_ = resp::detail::element_counter(1);
    counter_.count(n);
    at(i, [&](auto index) {
      constexpr std::size_t I = decltype(index)::value;
      using R = std::tuple_element_t<I, std::tuple<Responses...>>;
      result<R>& slot = std::get<I>(results_);
      if (resp::is_error(n.type)) {
        slot = result<R>(server_error::parse(n.value));
        return;
      }
      slot = result<R>(R{});
      auto& adapter = std::get<I>(adapters_).emplace(*slot);
      adapter.on_node(n, adapt_error_);
      if (counter_.done()) end_element<I>();
    });
  }

  void continue_element(const resp::node& n) {
    if (element_ == 0 || counter_.done()) return;
    counter_.count(n);
    at(element_ - 1, [&](auto index) {
      constexpr std::size_t I = decltype(index)::value;
      auto& adapter = std::get<I>(adapters_);
      if (!adapter) return;  // an error element has no children
      adapter->on_node(n, adapt_error_);
      if (counter_.done()) end_element<I>();
    });
  }

  template <std::size_t I>
  void end_element() {
    using R = std::tuple_element_t<I, std::tuple<Responses...>>;
    std::get<I>(adapters_).reset();
    if (adapt_error_) std::get<I>(results_) = result<R>(std::exchange(adapt_error_, {}));
  }

  // Calls f(std::integral_constant<size_t, i>) for the run-time index i.
  template <class F>
  static void at(std::size_t i, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((i == I ? f(std::integral_constant<std::size_t, I>{}) : void()), ...);
    }
    (std::index_sequence_for<Responses...>{});
  }

  results results_;
  std::tuple<std::optional<resp::adapter<Responses>>...> adapters_;
  resp::detail::element_counter counter_{0};
  std::error_code adapt_error_;
  std::optional<server_error> multi_error_;
  std::optional<server_error> refused_;  // the first command refused while queued
  std::optional<server_error> exec_error_;
  std::size_t reply_ = static_cast<std::size_t>(-1);  // the top-level reply being read
  std::size_t element_ = 0;                           // EXEC's elements begun
  std::size_t refused_index_ = 0;
  bool in_array_ = false;
  bool conflict_ = false;
  bool unexpected_ = false;
};

/// The reply handler behind connection::exec(transaction, callback): the callback while queued;
/// the callback and the reader while the replies are read.
template <class Callback, class... Commands>
class transaction_handler {
 public:
  using results = typename transaction<Commands...>::results;

  static void start(connection& conn, const transaction<Commands...>& tx, Callback callback,
                    const proto::exec_options& options) {
    conn.enqueue(tx, transaction_handler(std::move(callback)), transaction_options(options));
  }
  /// The same after WATCH: only on the socket that carried it.
  static void start_watched(connection& conn, const transaction<Commands...>& tx, Callback callback,
                            const proto::exec_options& options) {
    conn.enqueue(watched_transaction<transaction<Commands...>>{&tx},
                 transaction_handler(std::move(callback)), transaction_options(options));
  }

  /// The replies never began.
  void on_complete(const proto::reply_outcome& o) { callback_(result<results>(o.error)); }

  class active {
   public:
    explicit active(transaction_handler&& queued) noexcept
        : callback_(std::move(queued.callback_)) {}
    active(const active&) = delete;
    active& operator=(const active&) = delete;

    void on_node(const resp::node& n) { reader_.on_node(n); }
    void on_complete(const proto::reply_outcome& o) { callback_(reader_.finish(o)); }

   private:
    Callback callback_;
    transaction_reader<cmd::response_t<Commands>...> reader_;
  };

  transaction_handler(transaction_handler&&) noexcept = default;

 private:
  explicit transaction_handler(Callback callback) noexcept : callback_(std::move(callback)) {}

  Callback callback_;
};

}  // namespace detail
}  // namespace uredis
