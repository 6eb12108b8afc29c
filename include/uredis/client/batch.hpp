#pragma once
// batch: commands pushed at run time, sent together, each with its own result. What pipeline()
// is for a list known at compile time, for a loop:
//
//   uredis::batch<> b;                                  // generic: result<resp::reply> each
//   for (const auto& [k, v] : items) b.push(cmd::set{k, v});
//   b.push(cmd::raw{"OBJECT", "ENCODING", "k"});
//   for (auto& r : co_await client.exec(b)) { ... }    // or blocking_client::exec(b)
//
//   uredis::batch<std::optional<std::string>> gets;    // typed: every entry a GET (or any
//   for (const auto& k : keys) gets.push(cmd::get{k}); // descriptor whose response is that)
//   std::span<result<std::optional<std::string>>> values = blocking.exec(gets);
//
// What a batch<R> takes: any descriptor whose response is R (cmd::raw<R> included); a
// batch<resp::reply> (the default) takes any descriptor at all, its reply read as a tree. Each
// entry gets one reply, so a transaction, a blocking pop (its deadline is the batch's, not its
// own) and the subscribe family do not compile; a cmd::raw naming SUBSCRIBE, PSUBSCRIBE,
// SSUBSCRIBE, their UN- forms or MONITOR is refused when pushed: that entry holds
// errc::not_one_reply and is never sent (as exec() refuses one); so is a RESET, with
// errc::reset_refused.
//
// push() encodes the command into the batch's own bytes at once, so its arguments may die
// right after (a key built in the loop). Exec enqueues each entry on the connection as its own
// command, from those bytes, in one loop turn: they go out in one send (automatic pipelining),
// other callers' commands may come before or after them but never change their replies, and
// each one follows the connection's rules as if exec()'d alone (deadlines from exec_options,
// resends after a reconnect: reads are resent, a written write completes with
// errc::outcome_unknown unless the options say idempotent).
//
// Results, one per entry, in push order (operator[], results(), begin()/end()):
//   a value            the reply, adapted into R
//   a server_error     the server's error reply to that command: that entry only (an INCR of a
//                      string fails, the commands around it succeed)
//   an error_code      the reply did not fit R (errc::type_mismatch...), or there was none: the
//                      connection failed, closed, or the deadline passed (failure() gives the
//                      first of these), or errc::not_one_reply or errc::reset_refused
//                      (refused when pushed)
// Before the first exec an entry holds errc::incomplete_reply. Exec overwrites every sent
// entry's result, so a batch can be sent again as it is (the same commands), or clear()ed and
// filled anew. Every entry completes exactly once per exec: a connection that dies mid-batch
// completes the rest with its error; nothing waits forever.
//
// Lifetime and threading: the connection's queue points into the batch until its last entry
// completes (in_flight()), so the batch must not be destroyed, moved, cleared or pushed to
// meanwhile; the awaiting coroutine or the blocking call guarantees that by waiting. A batch
// belongs to one thread at a time.
//
// On a Redis Cluster (cluster/cluster_client.hpp) each entry goes to the node serving its keys'
// slot: push() also notes where the entry's keys hash (cmd::check_slots, the descriptor's keys;
// the bytes alone do not say which arguments are keys; a CRC16 per key, which a single server's
// batch pays too: about 10 ns a push of a short key), and send_routed() hands each entry to
// the cluster's router with it. An entry whose keys span slots completes with
// errc::cluster_cross_slot there (a batch entry is bytes, so MGET and its kin are not split).
//
// Memory: the bytes, the entries, their slots and the results live in four buffers that only
// grow; clear() keeps them. Once they have grown to a batch's working size, pushing and sending
// allocate nothing beyond what the responses themselves hold (a long string, a resp::reply's tree)
// and an error reply's text. The per-entry handler in the connection's queue is a pointer and an
// index.

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "uredis/client/connection.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/cmd/keys_of.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/session.hpp"
#include "uredis/proto/typed_reply.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis {

namespace detail {

// One entry of a batch on its way to the connection: its bytes, already encoded.
struct encoded_command {
  std::string_view bytes;
  // Which arguments are keys is lost with the descriptor: a client-side cache treats every
  // argument of a write as one (cache/driver.hpp).
  static constexpr bool keys_unknown = true;
  void encode(resp::encoder& e) const { e.buffer().append(bytes); }
};

// The same, for a router that reads the response type from the descriptor (a cluster's): its
// slot is the batch's note, so it names no key to the router; the cache still sees it as above.
template <class Response>
struct routed_entry {
  std::string_view bytes;
  using response = Response;
  static constexpr bool keyless = true;
  static constexpr bool keys_unknown = true;
  void encode(resp::encoder& e) const { e.buffer().append(bytes); }
};

// What the session reads from a descriptor and a batch entry cannot carry.
template <class D>
inline constexpr bool fits_a_batch = !requires(const D& d) {
  d.replies();
}
&&!requires(const D& d) {
  d.confirmed_by();
}
&&!requires(const D& d) {
  d.blocking_timeout();
};

}  // namespace detail

// See the comment on callback_handler: GCC 12 at -O2 loses a result's variant index across the
// stores around it and warns about alternatives it does not hold. A false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class Response = resp::reply>
class batch {
  static_assert(!proto::detail::holds_view<Response>::value,
                "a batch keeps its replies past the read buffer: read strings into std::string");

 public:
  using response = Response;
  using value_type = result<Response>;

  /// Who hears that the last entry completed: fn(context), once per send().
  struct completion {
    void (*fn)(void*) = nullptr;
    void* context = nullptr;
  };

  batch() = default;
  batch(const batch&) = delete;
  batch& operator=(const batch&) = delete;
  /// Precondition (both): not in flight.
  batch(batch&& other) noexcept
      : bytes_(std::move(other.bytes_)),
        ends_(std::move(other.ends_)),
        slots_(std::move(other.slots_)),
        results_(std::move(other.results_)) {
    assert(!other.in_flight());
  }
  batch& operator=(batch&& other) noexcept {
    assert(!in_flight() && !other.in_flight());
    bytes_ = std::move(other.bytes_);
    ends_ = std::move(other.ends_);
    slots_ = std::move(other.slots_);
    results_ = std::move(other.results_);
    return *this;
  }
  ~batch() { assert(!in_flight()); }

  /// Appends `command`, encoded now (its arguments may die after this returns).
  /// Precondition: not in flight.
  template <cmd::descriptor D>
  requires(std::is_same_v<cmd::response_t<D>, Response> ||
           std::is_same_v<Response, resp::reply>) batch& push(const D& command) {
    static_assert(detail::fits_a_batch<D>,
                  "a batch entry is one command with one reply and the batch's deadline: no "
                  "transaction, subscribe or blocking pop");
    assert(!in_flight());
    assert(ends_.size() < std::numeric_limits<std::uint32_t>::max());
    const std::size_t before = bytes_.size();
    resp::encoder e{bytes_};
    command.encode(e);
    if constexpr (proto::names_any_command<D>) {
      if (const std::error_code refused = proto::refused_unsent(bytes_.data().substr(before))) {
        bytes_.truncate(before);  // no bytes: never sent
        ends_.push_back(static_cast<std::uint32_t>(before));
        slots_.emplace_back();
        results_.emplace_back(refused);
        return *this;
      }
    }
    assert(bytes_.size() <= std::numeric_limits<std::uint32_t>::max());
    ends_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    slots_.push_back(cmd::check_slots(command));
    results_.emplace_back(errc::incomplete_reply);
    return *this;
  }

  /// Forgets every entry and result; keeps the memory. Precondition: not in flight.
  void clear() noexcept {
    assert(!in_flight());
    bytes_.clear();
    ends_.clear();
    slots_.clear();
    results_.clear();
  }
  /// Room for `commands` entries of `bytes` encoded bytes in all, before any push.
  void reserve(std::size_t commands, std::size_t bytes = 0) {
    ends_.reserve(commands);
    slots_.reserve(commands);
    results_.reserve(commands);
    bytes_.reserve(bytes);
  }

  std::size_t size() const noexcept { return ends_.size(); }
  bool empty() const noexcept { return ends_.empty(); }
  /// The encoded commands, back to back (RESP), for inspection and tests.
  std::string_view bytes() const noexcept { return bytes_.data(); }
  /// Where entry `i`'s keys hash, noted when it was pushed (cmd::check_slots).
  cmd::slot_check slots(std::size_t i) const noexcept { return slots_[i]; }

  /// Entry `i`'s result. Valid once the exec that sent it has returned (or resumed).
  result<Response>& operator[](std::size_t i) noexcept { return results_[i]; }
  const result<Response>& operator[](std::size_t i) const noexcept { return results_[i]; }
  std::span<result<Response>> results() noexcept { return results_; }
  std::span<const result<Response>> results() const noexcept { return results_; }
  auto begin() noexcept { return results_.begin(); }
  auto end() noexcept { return results_.end(); }
  auto begin() const noexcept { return results_.begin(); }
  auto end() const noexcept { return results_.end(); }

  /// Sent and some entry still waits for its reply.
  bool in_flight() const noexcept { return outstanding_ > 0; }
  /// After an exec: the error of the first entry (in push order) that got no reply because of
  /// the connection (failed, closed, not connected, queue full, past its deadline); empty when
  /// every sent entry got one. What blocking_client::exec throws.
  std::error_code failure() const noexcept { return failure_; }

  /// The engine under client::exec and blocking_client::exec: enqueues every entry on `conn`
  /// and returns true when all have completed already (refused, or nothing to send); otherwise
  /// `done` is called once, from the reactor's dispatch, when the last one completes (it may
  /// destroy the batch). Precondition: not in flight.
  bool send(connection& conn, const proto::exec_options& options = {}, completion done = {}) {
    assert(!in_flight());
    failure_ = {};
    failure_index_ = std::numeric_limits<std::size_t>::max();
    done_ = done;
    outstanding_ = ends_.size() + 1;  // + 1 until the loop ends: no completion may finish it
    const std::string_view all = bytes_.data();
    std::uint32_t begin = 0;
    for (std::size_t i = 0; i < ends_.size(); ++i) {
      const std::uint32_t end = ends_[i];
      if (end == begin) {
        --outstanding_;  // refused when pushed: keeps its result, never sent
        continue;
      }
      conn.enqueue(detail::encoded_command{all.substr(begin, end - begin)},
                   handler{this, static_cast<std::uint32_t>(i)}, options);
      begin = end;
    }
    return --outstanding_ == 0;
  }

  /// send() for a router that sends each entry where its slot says (cluster_client::exec):
  /// calls `router.route(entry, slots, callback, options)` once per entry in push order, with
  /// the entry as a descriptor of its bytes answering Response (detail::routed_entry), the
  /// slots its keys hash to, and a callback(result<Response>) that records its result. Returns
  /// and calls `done` as send() does. A result that is an error_code other than a refusal
  /// (errc::cluster_cross_slot) or a reply that did not fit Response counts as lost to the
  /// connection (failure()). Precondition: not in flight.
  template <class Router>
  bool send_routed(Router& router, const proto::exec_options& options = {}, completion done = {}) {
    assert(!in_flight());
    failure_ = {};
    failure_index_ = std::numeric_limits<std::size_t>::max();
    done_ = done;
    outstanding_ = ends_.size() + 1;  // + 1 until the loop ends, as in send()
    const std::string_view all = bytes_.data();
    std::uint32_t begin = 0;
    for (std::size_t i = 0; i < ends_.size(); ++i) {
      const std::uint32_t end = ends_[i];
      if (end == begin) {
        --outstanding_;
        continue;
      }
      router.route(detail::routed_entry<Response>{all.substr(begin, end - begin)}, slots_[i],
                   entry_callback{this, static_cast<std::uint32_t>(i)}, options);
      begin = end;
    }
    return --outstanding_ == 0;
  }

 private:
  // send_routed()'s per-entry callback: two words, as the router's inline storage wants.
  struct entry_callback {
    batch* self;
    std::uint32_t index;

    void operator()(result<Response> r) {
      std::error_code lost;
      if (r.has_error() && !answered_or_refused(r.error())) lost = r.error();
      self->complete(index, std::move(r), lost);
    }
  };

  // The error codes of a reply that came but did not fit, and of a router's refusal: they stay
  // in their entry and are not the connection's failure.
  static bool answered_or_refused(const std::error_code& ec) noexcept {
    return ec == errc::type_mismatch || ec == errc::unexpected_null ||
           ec == errc::unexpected_server_error || ec == errc::cluster_cross_slot;
  }

  struct handler {
    batch* self;
    std::uint32_t index;

    // The reply never began: the connection failed, or refused the command.
    void on_complete(const proto::reply_outcome& o) {
      self->complete(index, result<Response>(o.error), o.error);
    }

    class active {
     public:
      explicit active(handler&& queued) noexcept : self_(queued.self), index_(queued.index) {}
      active(const active&) = delete;
      active& operator=(const active&) = delete;

      void on_node(const resp::node& n) { reply_.on_node(n); }
      // Only the connection's error counts as lost: error replies and replies that do not fit
      // stay in their own entries.
      void on_complete(const proto::reply_outcome& o) {
        self_->complete(index_, reply_.finish(o), o.error);
      }

     private:
      batch* self_;
      std::uint32_t index_;
      proto::typed_reply<Response> reply_;
    };
  };

  // `lost`: set when the entry got no reply because of the connection.
  void complete(std::uint32_t i, result<Response>&& r, std::error_code lost) {
    results_[i] = std::move(r);
    if (lost && i < failure_index_) {
      failure_index_ = i;
      failure_ = lost;
    }
    // Last: the completion may resume a coroutine that destroys this batch.
    if (--outstanding_ == 0 && done_.fn != nullptr) done_.fn(done_.context);
  }

  util::byte_buffer bytes_;
  std::vector<std::uint32_t> ends_;     // entry i's bytes end here; == the previous end: not sent
  std::vector<cmd::slot_check> slots_;  // where entry i's keys hash
  std::vector<result<Response>> results_;
  std::size_t outstanding_ = 0;
  std::error_code failure_;
  std::size_t failure_index_ = std::numeric_limits<std::size_t>::max();
  completion done_;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// `co_await client.exec(b)`: sends every entry of `b` and resumes once each has its result,
/// with the batch's results (a span over them; they stay in the batch).
template <class Response>
class [[nodiscard]] batch_awaiter {
 public:
  batch_awaiter(connection& conn, batch<Response>& b, const proto::exec_options& options) noexcept
      : conn_(&conn), batch_(&b), options_(options) {}
  batch_awaiter(const batch_awaiter&) = delete;
  batch_awaiter& operator=(const batch_awaiter&) = delete;

  bool await_ready() const noexcept { return batch_->empty(); }
  /// Sends; false (do not suspend) when every entry completed meanwhile (refused).
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    return !batch_->send(*conn_, options_, {&resume, this});
  }
  std::span<result<Response>> await_resume() noexcept { return batch_->results(); }

 private:
  static void resume(void* self) { static_cast<batch_awaiter*>(self)->awaiting_.resume(); }

  connection* conn_;
  batch<Response>* batch_;
  proto::exec_options options_;
  std::coroutine_handle<> awaiting_;
};

}  // namespace uredis
