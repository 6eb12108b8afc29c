#pragma once
// script_awaiter: one script call on the coroutine API. `co_await client.run<R>(script, keys,
// args)` sends EVALSHA (EVALSHA_RO for a read-only script) and resumes the coroutine with a
// result<R>; on NOSCRIPT it sends SCRIPT LOAD and the EVALSHA again, once, before resuming
// (client/script.hpp states the rules).
//
// Like exec_awaiter.hpp: the awaiter lives in the coroutine's frame and holds the reply's value,
// its reader and the coroutine handle; the connection's FIFO holds a pointer back to it. Nothing
// is allocated per call in steady state. It is awaited once, never moves, and its coroutine must
// not be destroyed while suspended in it. Keys and arguments are viewed until the call is
// encoded (in await_suspend): await in the expression that built them.

#include <coroutine>
#include <optional>
#include <utility>

#include "uredis/client/connection.hpp"
#include "uredis/client/script.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"

namespace uredis {

template <class Response>
class [[nodiscard]] script_awaiter {
 public:
  static_assert(!proto::detail::holds_view<Response>::value,
                "a coroutine keeps its reply past the read buffer: read strings into std::string");

  script_awaiter(connection& conn, const script& code, const cmd::arg_list& keys,
                 const cmd::arg_list& args, const exec_options& options) noexcept
      : conn_(&conn), call_{&code, keys, args}, options_(options) {
    reader_.emplace(false);
  }
  script_awaiter(const script_awaiter&) = delete;
  script_awaiter& operator=(const script_awaiter&) = delete;

  bool await_ready() noexcept {
    const connection_state s = conn_->state();
    if (s == connection_state::idle || s == connection_state::closed) {
      result_.emplace(errc::not_connected);
      return true;
    }
    return false;
  }

  /// Encodes the call and queues it; false (do not suspend) when it completed meanwhile.
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    conn_->enqueue(call_, handler{this}, options_);
    if (phase_ == phase::done) return false;
    phase_ = phase::suspended;
    return true;
  }

  /// The script's reply, the server's error (SCRIPT LOAD's when it could not load), or why
  /// there is none.
  result<Response> await_resume() { return std::move(*result_); }

 private:
  enum class phase : unsigned char { encoding, suspended, done };

  struct handler {
    script_awaiter* self;

    void on_complete(const proto::reply_outcome& o) { self->complete(o); }

    struct active {
      script_awaiter* self;

      explicit active(handler&& queued) noexcept : self(queued.self) {}
      void on_node(const resp::node& n) { self->reader_->on_node(n); }
      void on_complete(const proto::reply_outcome& o) { self->complete(o); }
    };
  };

  void complete(const proto::reply_outcome& o) {
    if (!reloading_ && detail::is_noscript(o)) {
      reloading_ = true;
      reader_.emplace(true);
      const script& code = *call_.code;
      conn_->enqueue(detail::script_reload{code.source(), o.request}, handler{this},
                     detail::reload_options(options_, code));
      return;
    }
    result_.emplace(reader_->finish(o));
    // Resuming is the last thing done here: the coroutine may finish and free this awaiter.
    if (std::exchange(phase_, phase::done) == phase::suspended) awaiting_.resume();
  }

  connection* conn_;
  detail::script_call call_;
  exec_options options_;
  std::optional<detail::script_reader<Response>> reader_;
  std::optional<result<Response>> result_;
  std::coroutine_handle<> awaiting_;
  phase phase_ = phase::encoding;
  bool reloading_ = false;
};

}  // namespace uredis
