#pragma once
// exec_awaiter: one command of the coroutine API. `co_await client.exec(cmd::get{"k"})` (or
// `co_await client.get("k")`) sends the command on a connection and resumes the coroutine with
// a result<cmd::response_t<D>>: the value, the server's error, or what ended the connection.
//
// No allocation per command: the awaiter lives in the awaiting coroutine's frame and holds
// everything the command needs until its reply is read:
//
//   exec_awaiter (in the frame)              connection's FIFO        pipeline's active slot
//   ┌──────────────────────────────┐          ┌───────────────┐        ┌────────────────┐
//   │ descriptor D (views the args)│          │ handler{this} │──────► │ active{this}   │
//   │ Response value + its adapter │ ◄────────┴───────────────┘        └───────┬────────┘
//   │ error / server_error         │              nodes and the outcome go to the awaiter
//   │ coroutine_handle             │
//   └──────────────────────────────┘
//
// The queued and active handlers (proto/pending.hpp) are a single pointer back to the awaiter,
// so any Response fits, however large.
//
// When things happen:
//   - await_ready: a connection that is idle or closed answers errc::not_connected at once;
//     a cache hit of a lone-key read (cache/lone_key_read.hpp: GET...) is answered there too,
//     from the stored entry (cache::driver::serve_hit). The coroutine does not suspend.
//   - await_suspend: the descriptor is encoded into the connection's output buffer (so the
//     arguments it views must live until then: await in the expression that built it) and the
//     handler joins the FIFO. If the connection completes the command before that returns, the
//     coroutine goes on without suspending.
//   - the reply: the coroutine is resumed directly from the reactor's completion dispatch
//     (inside the connection's read handling, in the middle of the pipeline's feed()), on the
//     shard's thread. It may issue more commands there (they go out next turn), close the
//     connection or destroy it (the connection's state is freed at the end of the loop turn,
//     after the code resuming it has returned). A failure (close, reset, protocol error, the
//     connection's destruction) resumes every waiting coroutine once, with the error.
//
// Invariants: an awaiter is awaited at most once and never moves (the adapter points into it),
// and a coroutine suspended in one must not be destroyed before it resumes (the FIFO points at
// the awaiter; the connection resumes it, with an error at the latest when it closes).

#include <coroutine>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "uredis/cache/driver.hpp"
#include "uredis/cache/lone_key_read.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/typed_reply.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"

namespace uredis {

template <cmd::descriptor D>
class [[nodiscard]] exec_awaiter {
 public:
  using response = cmd::response_t<D>;

  // A view into the read buffer would outlive it: the coroutine keeps the value past the
  // completion, while the buffer moves on to the next reply.
  static_assert(!proto::detail::holds_view<response>::value,
                "a coroutine keeps its reply past the read buffer: read strings into std::string");
  static_assert(std::is_nothrow_copy_constructible_v<D>, "a descriptor is a small value");

  exec_awaiter(connection& conn, const D& command, const exec_options& options = {}) noexcept
      : conn_(&conn), command_(command), options_(options) {}
  exec_awaiter(const exec_awaiter&) = delete;
  exec_awaiter& operator=(const exec_awaiter&) = delete;
  // Inlined into the coroutine: after a hit both optionals are empty, two tests instead of a
  // call (GCC leaves the implicit one out of line).
  [[gnu::always_inline]] ~exec_awaiter() = default;

  // Not noexcept: a hit builds the typed result (a std::string may allocate). Inlined into the
  // coroutine (GCC leaves it out of a coroutine's body otherwise): its call and the awaiter's
  // fields read back from the frame cost a hit about as much as the lookup's probe.
  [[gnu::always_inline]] bool await_ready() {
    // The commonest hit, asked first: a GET answered without connection::enqueue() and the
    // cache's take(), two calls not inlined here that cost a hit ~70 of its ~520 instructions
    // (callgrind). The cache serves only while the connection is ready.
    if constexpr (cache::lone_key_read<D>) {
      if (cache::driver* c = conn_->cache();
          c != nullptr && c->serve_hit(command_, handler{this}, options_))
        return true;
    }
    const connection_state s = conn_->state();
    if (s == connection_state::idle || s == connection_state::closed) {
      outcome_.emplace(errc::not_connected);
      return true;
    }
    return false;
  }

  /// Encodes the command and queues it; false (do not suspend) when it completed meanwhile.
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    conn_->enqueue(command_, handler{this}, options_);
    if (phase_ == phase::done) return false;
    phase_ = phase::suspended;
    return true;
  }

  /// The reply: its value, the server's error, or why there is none.
  result<response> await_resume() {
    if (single_) return proto::typed_reply<response>::of_single(single_node_);
    return std::move(*outcome_);
  }

 private:
  enum class phase : unsigned char { encoding, suspended, done };

  // The queued form (in the connection's FIFO) and the active form (in the pipeline's slot):
  // both only point back here.
  struct handler {
    exec_awaiter* self;

    void on_complete(const proto::reply_outcome& outcome) { self->complete(outcome); }
    // A whole reply of one node, not an error (a cache hit, a cached read's waiter, or any such
    // reply from the server: pipeline.cpp's complete_single): kept as the node's view, which
    // await_resume() turns into the result straight in the coroutine's variable. The view is
    // still valid then: await_resume() runs before anything else can touch the cache or the
    // read buffer (a hit: await_ready returns true, or await_suspend false, and the coroutine
    // goes on; else resume() below runs it, inside this call).
    void on_single(const resp::node& n) {
      // Field by field, not `single_node_ = n`: a hit writes n's value as two 8-byte words,
      // and a copy of the whole node would read them back as one 16-byte word, which the CPU
      // cannot forward from two stores (a stall: 5 to 15 ns a hit, seen with perf annotate).
      // Every field a scalar uses: a reply from the server comes this way too (an integer, a
      // double, a verbatim string), not only a hit's bulk string.
      self->single_node_.type = n.type;
      self->single_node_.value = n.value;
      self->single_node_.format = n.format;
      self->single_node_.integer = n.integer;
      self->single_node_.real = n.real;
      self->single_node_.size = n.size;
      self->single_ = true;
      self->resume();
    }

    struct active {
      exec_awaiter* self;

      explicit active(handler&& queued) noexcept : self(queued.self) { self->reply_.emplace(); }
      void on_node(const resp::node& n) { self->reply_->on_node(n); }
      void on_complete(const proto::reply_outcome& outcome) { self->complete(outcome); }
    };
  };

  void complete(const proto::reply_outcome& outcome) {
    // No reply began (the connection failed first): no adapter was made.
    outcome_.emplace(reply_ ? reply_->finish(outcome) : result<response>(outcome.error));
    resume();
  }

  // outcome_ or single_ is set.
  void resume() {
    // Resuming is the last thing done here: the coroutine may finish and free this awaiter.
    if (std::exchange(phase_, phase::done) == phase::suspended) awaiting_.resume();
  }

  connection* conn_;
  D command_;
  exec_options options_;
  // Made when a reply begins (active): a hit or a failure before the reply never needs it.
  std::optional<proto::typed_reply<response>> reply_;
  std::optional<result<response>> outcome_;
  std::coroutine_handle<> awaiting_;
  // on_single()'s node, when single_; kept whole, so that await_resume() hands it over by
  // reference (a node built there from a kept view was copied into with one such 16-byte read).
  resp::node single_node_;
  bool single_ = false;
  phase phase_ = phase::encoding;
};

}  // namespace uredis
