#pragma once
// transaction_awaiter: a transaction on the coroutine API. `co_await client.exec(tx)` sends
// MULTI, the commands and EXEC as one batch and resumes the coroutine with
// result<transaction<...>::results> (client/transaction.hpp states what it holds).
//
// Like exec_awaiter.hpp: the awaiter lives in the coroutine's frame with the transaction (whose
// descriptors view their arguments until await_suspend encodes them), the reader that fills the
// results, and the coroutine handle; the connection's FIFO holds a pointer back to it. It is
// awaited once, never moves, and its coroutine must not be destroyed while suspended in it.
//
// After WATCH (client::watch, client/optimistic.hpp), the awaiter is given the client's watch
// state: if the connection was replaced since the WATCH was answered, or is not ready, the
// transaction completes at once with errc::watch_lost and is not sent; otherwise it is sent
// bound to the socket (never resent on another one), and the watch ends with it, as EXEC ends
// every watch on the server.

#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

#include "uredis/client/connection.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"

namespace uredis {

/// Whether a client's connection carries WATCHes, and since which connect.
struct watch_state {
  bool armed = false;
  std::uint64_t reconnects = 0;  // connection::reconnects() when the WATCH was answered

  /// `conn` is up on the socket that answered the WATCH.
  bool holds_on(const connection& conn) const noexcept {
    return conn.ready() && conn.reconnects() == reconnects;
  }
};

template <class... Commands>
class [[nodiscard]] transaction_awaiter {
 public:
  using results = typename transaction<Commands...>::results;

  transaction_awaiter(connection& conn, const transaction<Commands...>& tx,
                      const exec_options& options, watch_state* watch = nullptr) noexcept
      : conn_(&conn), tx_(tx), options_(detail::transaction_options(options)), watch_(watch) {}
  transaction_awaiter(const transaction_awaiter&) = delete;
  transaction_awaiter& operator=(const transaction_awaiter&) = delete;

  bool await_ready() noexcept {
    const connection_state s = conn_->state();
    if (s == connection_state::idle || s == connection_state::closed) {
      end_watch();
      result_.emplace(errc::not_connected);
      return true;
    }
    if (watched() && !watch_->holds_on(*conn_)) {
      end_watch();
      result_.emplace(errc::watch_lost);
      return true;
    }
    return false;
  }

  /// Encodes the batch and queues it; false (do not suspend) when it completed meanwhile.
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    if (watched()) {
      conn_->enqueue(detail::watched_transaction<transaction<Commands...>>{&tx_}, handler{this},
                     options_);
    } else {
      conn_->enqueue(tx_, handler{this}, options_);
    }
    if (phase_ == phase::done) return false;
    phase_ = phase::suspended;
    return true;
  }

  result<results> await_resume() { return std::move(*result_); }

 private:
  enum class phase : unsigned char { encoding, suspended, done };

  struct handler {
    transaction_awaiter* self;

    void on_complete(const proto::reply_outcome& o) { self->complete(o); }

    struct active {
      transaction_awaiter* self;

      explicit active(handler&& queued) noexcept : self(queued.self) {}
      void on_node(const resp::node& n) { self->reader_.on_node(n); }
      void on_complete(const proto::reply_outcome& o) { self->complete(o); }
    };
  };

  bool watched() const noexcept { return watch_ != nullptr && watch_->armed; }
  void end_watch() noexcept {
    if (watch_ != nullptr) watch_->armed = false;
  }

  void complete(const proto::reply_outcome& o) {
    end_watch();
    result_.emplace(reader_.finish(o));
    // Resuming is the last thing done here: the coroutine may finish and free this awaiter.
    if (std::exchange(phase_, phase::done) == phase::suspended) awaiting_.resume();
  }

  connection* conn_;
  transaction<Commands...> tx_;
  exec_options options_;
  watch_state* watch_;
  detail::transaction_reader<cmd::response_t<Commands>...> reader_;
  std::optional<result<results>> result_;
  std::coroutine_handle<> awaiting_;
  phase phase_ = phase::encoding;
};

}  // namespace uredis
