#pragma once
// pending: one command waiting for its reply, as the pipeline's FIFO holds it; active_reply:
// the command whose reply is being read.
//
// A command's handler has two forms, so that waiting costs little memory and reading costs no
// allocation:
//
//   queued  H          small: what the command needs until its reply begins (a callback, or a
//                      pointer to a coroutine's awaiter). Lives inline in a pending, in the FIFO.
//   active  H::active  built from the queued form when the first node of the reply arrives, in
//                      the pipeline's one active_reply slot: the response value and its adapter
//                      live here. Never moved once built, so it may point into itself.
//
// Then, exactly once, the command learns how it ended (reply_outcome):
//
//   queued.on_complete(outcome)        the reply never began (outcome.error is set)
//   active.on_node(node)* active.on_complete(outcome)
//   queued.on_single(node)             optional: the whole reply is one node, not an error
//                                      reply (most replies: a bulk string, an integer, +OK);
//                                      it gets what the active form would give, and no
//                                      active form is built (one call instead of three)
//
// outcome.error          no whole reply: the connection failed, the parser found garbage, or the
//                        client gave up. Nodes may have arrived before.
// outcome.error_reply    the server answered with an error ('-' or '!' at the top level); no
//                        on_node came before it. Valid during the call only.
// neither                the reply arrived whole and every node went to on_node (attributes
//                        are filtered out by the pipeline).
// outcome.request        when a reply was read (whole or an error reply): the command's own
//                        request bytes, valid during the call until the handler queues a
//                        command on the same pipeline (its bytes may be appended to the same
//                        buffer, which may move: copy them, or append them, first), so a
//                        handler that meets a redirect (MOVED, ASK) or NOSCRIPT can send
//                        exactly that command again.
//                        Also with outcome.error when the connection gave up on a command that
//                        never reached a socket (pipeline::fail_all): it may be sent elsewhere.
// outcome.deadline       with outcome.request: when the command times out (max: never), so one
//                        sent again elsewhere keeps what is left of its exec_options::timeout.

#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "uredis/resp/node.hpp"

namespace uredis::proto {

struct reply_outcome {
  std::error_code error;
  const resp::node* error_reply = nullptr;
  std::string_view request;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  /// No reply: the command ended with `ec`.
  static reply_outcome failed(std::error_code ec) noexcept {
    reply_outcome o;
    o.error = ec;
    return o;
  }
};

template <class H>
concept reply_handler = std::is_nothrow_move_constructible_v<H> &&
    std::is_constructible_v<typename H::active, H&&> &&
    requires(H& queued, typename H::active& active, const resp::node& n, const reply_outcome& o) {
  queued.on_complete(o);
  active.on_node(n);
  active.on_complete(o);
};

// Inline storage for one object of a type chosen at run time, behind a table of functions:
// the active reply's. (A pending keeps its bytes as a plain member, to stay 64 bytes.)
namespace detail {
template <std::size_t Capacity>
struct inline_slot {
  alignas(std::max_align_t) unsigned char bytes[Capacity];
  void* get() noexcept { return bytes; }
};

// Runs f on the T at p, then destroys it, even when f throws: a completion ends its handler.
template <class T, class F>
void run_then_destroy(void* p, F&& f) {
  T& object = *static_cast<T*>(p);
  struct destroy_after {
    T& t;
    ~destroy_after() { std::destroy_at(&t); }
  } guard{object};
  f(object);
}
}  // namespace detail

/// The command whose reply is being read. One per pipeline; never moved.
class active_reply {
 public:
  /// Bytes for a response value and its adapter (std::map<std::string, std::string> and its
  /// adapter take about 200).
  static constexpr std::size_t capacity = 512;

  active_reply() noexcept = default;
  active_reply(const active_reply&) = delete;
  active_reply& operator=(const active_reply&) = delete;
  ~active_reply() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  void on_node(const resp::node& n) { ops_->on_node(slot_.get(), n); }

  /// Completes the command and destroys its active form (one indirect call for both). The
  /// slot is empty from the moment the completion starts, so a completion that fails the
  /// pipeline does not complete it again.
  void complete(const reply_outcome& outcome) {
    std::exchange(ops_, nullptr)->complete(slot_.get(), outcome);
  }

  void reset() noexcept {
    if (ops_ != nullptr) std::exchange(ops_, nullptr)->destroy(slot_.get());
  }

 private:
  friend class pending;

  struct ops {
    void (*on_node)(void*, const resp::node&);
    void (*complete)(void*, const reply_outcome&);  // and destroy, even when it throws
    void (*destroy)(void*) noexcept;
  };

  template <class A>
  static constexpr ops ops_for = {
      [](void* p, const resp::node& n) { static_cast<A*>(p)->on_node(n); },
      [](void* p, const reply_outcome& o) {
        detail::run_then_destroy<A>(p, [&](A& active) { active.on_complete(o); });
      },
      [](void* p) noexcept { static_cast<A*>(p)->~A(); },
  };

  detail::inline_slot<capacity> slot_;
  const ops* ops_ = nullptr;
};

class pending {
 public:
  /// Bytes for a queued handler: a callback with a few captures, or a pointer. Keep callbacks
  /// small: capture a pointer to your state, not the state.
  static constexpr std::size_t capacity = 56;

  pending() noexcept = default;

  // The first conjunct keeps pending's own moves from checking the concept on an incomplete
  // pending (Clang 14 rejects that).
  template <class H>
  requires(!std::is_same_v<std::remove_cvref_t<H>, pending> &&
           reply_handler<std::remove_cvref_t<H>>) explicit pending(H&& handler) noexcept {
    using T = std::remove_cvref_t<H>;
    static_assert(sizeof(T) <= capacity,
                  "callback too large for pending::capacity: capture a pointer to your state");
    static_assert(sizeof(typename T::active) <= active_reply::capacity,
                  "response type and its adapter too large for active_reply::capacity");
    static_assert(alignof(T) <= alignof(std::max_align_t) &&
                      alignof(typename T::active) <= alignof(std::max_align_t),
                  "reply handler over-aligned");
    ::new (slot()) T(std::forward<H>(handler));
    ops_ = &ops_for<T>;
  }

  pending(pending&& other) noexcept { take(other); }
  pending& operator=(pending&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  pending(const pending&) = delete;
  pending& operator=(const pending&) = delete;
  ~pending() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// The reply begins: builds the active form in `into` (which must be empty) and empties this.
  void activate(active_reply& into) noexcept {
    ops_->activate(slot(), into);
    ops_ = nullptr;
  }

  /// Whether the handler takes a reply that is one whole node, not an error, in one call
  /// (H::on_single(node), with what on_node() then the active form's on_complete() would give):
  /// the pipeline then builds no active form for it (complete_single).
  bool takes_single() const noexcept { return ops_ != nullptr && ops_->single != nullptr; }

  /// What complete_single() calls once the handler is out of this pending and before it runs:
  /// the owner frees this pending's storage there (the handler may then queue commands).
  struct release {
    void (*fn)(void* owner) noexcept;
    void* owner;
  };

  /// Completes the command with its whole reply `n` and destroys the handler, in one indirect
  /// call: the handler moves to the stack, `then` runs, the handler gets on_single(n).
  /// Precondition: takes_single().
  void complete_single(const resp::node& n, release then) {
    std::exchange(ops_, nullptr)->single(slot(), n, then);
  }

  /// Completes a command whose reply never began, and destroys the handler.
  void complete(const reply_outcome& outcome) {
    const ops* o = std::exchange(ops_, nullptr);
    o->complete(slot(), outcome);
  }

  void reset() noexcept {
    if (ops_ != nullptr) std::exchange(ops_, nullptr)->destroy(slot());
  }

  /// The handler, when it is a T; null when it is another type, or none. For the owner's
  /// bookkeeping while a command waits (a cluster client marks its slot's probe).
  template <class T>
  T* target() noexcept {
    return ops_ == &ops_for<T> ? static_cast<T*>(slot()) : nullptr;
  }

 private:
  struct ops {
    void (*activate)(void*, active_reply&) noexcept;
    void (*complete)(void*, const reply_outcome&);  // and destroy
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void*) noexcept;
    void (*single)(void*, const resp::node&, release);  // null: no on_single; and destroy
  };

  template <class T>
  static constexpr auto single_for() noexcept {
    void (*single)(void*, const resp::node&, release) = nullptr;
    if constexpr (requires(T & t, const resp::node& n) { t.on_single(n); }) {
      single = [](void* p, const resp::node& n, release then) {
        T handler(std::move(*static_cast<T*>(p)));
        static_cast<T*>(p)->~T();
        then.fn(then.owner);
        handler.on_single(n);
      };
    }
    return single;
  }

  template <class T>
  static constexpr ops ops_for = {
      [](void* p, active_reply& into) noexcept {
        using A = typename T::active;
        T& queued = *static_cast<T*>(p);
        ::new (into.slot_.get()) A(std::move(queued));
        into.ops_ = &active_reply::ops_for<A>;
        queued.~T();
      },
      [](void* p, const reply_outcome& o) {
        detail::run_then_destroy<T>(p, [&](T& queued) { queued.on_complete(o); });
      },
      [](void* from, void* to) noexcept {
        ::new (to) T(std::move(*static_cast<T*>(from)));
        static_cast<T*>(from)->~T();
      },
      [](void* p) noexcept { static_cast<T*>(p)->~T(); },
      single_for<T>(),
  };

  void take(pending& other) noexcept {
    if (other.ops_ != nullptr) {
      other.ops_->relocate(other.slot(), slot());
      ops_ = std::exchange(other.ops_, nullptr);
    }
  }

  void* slot() noexcept { return slot_; }

  // The handler's bytes with the table right after them: 64 bytes in all. (An inline_slot is
  // a struct, whose size rounds up to its alignment: 64 for the bytes, 80 for a pending, 112
  // for a FIFO entry, which the reply path reads one after another.)
  alignas(std::max_align_t) unsigned char slot_[capacity];
  const ops* ops_ = nullptr;
};

}  // namespace uredis::proto
