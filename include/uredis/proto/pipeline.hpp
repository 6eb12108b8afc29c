#pragma once
// pipeline: a connection's commands in flight — their request bytes, their reply handlers, their
// deadlines — matched to replies, with no I/O of its own.
//
// Commands are pushed in the order their bytes are queued; replies come back in the same order,
// so the first reply that is not an out-of-band push answers the oldest pending command. The
// connection hands every received byte to feed() and drops the bytes it reports consumed.
//
//   push(pending, request) ──► [ FIFO: oldest ... newest ]   (queued handlers: small)
//                        │ the first node of a reply activates the head (pending.hpp)
//   feed(bytes) ──► parser ──► active_ (its nodes, then on_complete) ──► next reply ...
//                        └── RESP3 push frames (">") ──► push handler, never a command
//
// Request bytes: the connection encodes each command into requests() before push(), so the
// pipeline holds the bytes of every command still waiting for its reply, oldest first, in a
// request_buffer (request_buffer.hpp), which hands them to the socket without copying them:
//
//   requests:  [ cmd 1 | cmd 2 | cmd 3 | cmd 4 ]      a command's bytes leave when it completes
//               ^ sent ^^^^^^^^^^^^^^^ ^ unsent()     begin_send() ... end_send() moves the line
//
// A completed command's bytes are still there while its handler runs (reply_outcome::request),
// so a handler that meets a redirect or NOSCRIPT can resend exactly that command. After a socket
// fails, rewind() keeps the commands the connection's retry rules allow (never-written ones
// always), drops the rest with their error, and makes every kept byte unsent again, for the
// next socket.
//
// Deadlines: expire(now) completes every command past its deadline with errc::timeout at once.
// A command that was sent keeps its place in the FIFO, as a tombstone, until its reply arrives:
// that reply is parsed and discarded, so the commands behind it still get their own replies (a
// command timed out while its reply was being read has the rest of that reply discarded the
// same way). A command never sent is removed, bytes and all: it will never run.
//
// Subscribing: a (P|S)(UN)SUBSCRIBE gets no reply; the server confirms each of its channels
// with a push instead. Such a command is pushed with request::confirmations set to the number
// of its channels and request::confirmed_by to their kind (subscribe, punsubscribe...), and
// completes (queued.on_complete with no error) when that many confirmations of that kind have
// arrived while it is the oldest command (any other goes to the router only: the server sends
// some of its own, sunsubscribe when a slot moves), or with the server's error reply
// if it refuses the command (an ACL's NOPERM). On a RESP2 connection that carries
// subscriptions, pub/sub frames are plain arrays: set_pubsub_arrays(true) reads every top-level
// array whose first element names a pub/sub frame (message, subscribe...) as a push. Only a
// connection restricted to the pub/sub commands may do that (an LRANGE reply can look the same);
// the commands queued before it was set keep every array that answers them (the server reads
// them before it subscribes), until a new socket, where the subscriptions come first.
//
// Several replies: a batch that must reach the server contiguously (a transaction: MULTI, the
// queued commands, EXEC) is ONE command whose request::replies says how many top-level replies
// it consumes. It stays active from the first node of its first reply to the last node of its
// last (pushes may arrive in between and are routed as usual); its handler gets every node of
// every reply, a top-level error reply included, as a node (only the handler knows what an error
// among the replies means), and completes once, after the last. Timed out, its tombstone
// discards all its replies. rewind() judges it as one command (verdict() sees its whole bytes);
// one whose replies had begun completes with errc::outcome_unknown, whatever the cause: some of
// it may have run.
//
// Attributes ("|") are dropped before a handler sees a node. Push frames go to the push router
// (push_router.hpp) as views. A protocol error, or a reply no command is waiting for, stops
// feed() with that error and completes nothing: the stream is broken, and the connection
// decides each command's fate, with rewind() (reconnecting: an unsent command is resent) or
// fail_all().
//
// Input: feed() parses whole nodes from the bytes it is given and reports how many it consumed;
// a node cut by the end of the bytes is left for the next call (with more bytes after it). Views
// of nodes are valid only during the call that passes them; the push router pins a frame cut
// between two calls.
//
// Completion runs the handler's code (a user callback, a coroutine resume) in the middle of
// feed(), expire() or rewind(). The completed command has left the pipeline by then, so a
// handler may push new commands; if it calls fail_all() (closing the connection), feed() stops
// at once.
//
// Steady state allocates nothing: the FIFOs and byte buffers are rings and buffers that only
// grow, handlers live inline, push frames are read as views.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/proto/request_buffer.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis::proto {

/// What the pipeline keeps about a command besides its handler.
struct request {
  using time_point = std::chrono::steady_clock::time_point;

  std::uint32_t length = 0;   // its bytes at its place in the requests (0: none, e.g. in tests)
  std::uint16_t resends = 0;  // times it was kept for a new socket after being written
  bool idempotent = false;    // the caller's word: safe to execute twice
  bool expired = false;       // a tombstone: completed with errc::timeout, reply to be discarded
  // A (P|S)(UN)SUBSCRIBE: answered by this many confirmation pushes of kind `confirmed_by`
  // instead of a reply (or by an error reply, when the server refuses it). 0: an ordinary
  // command.
  std::uint16_t confirmations = 0;
  push_kind confirmed_by = push_kind::other;
  // Never kept for another socket, written or not (a transaction after WATCH: the watches die
  // with the socket). The session's rule; the pipeline only carries it.
  bool bound_to_socket = false;
  // The top-level replies it consumes, all read by its one handler: > 1 for a batch such as a
  // transaction (see above). 0 reads as 1.
  std::uint32_t replies = 1;
  time_point deadline = time_point::max();  // max: none
  // Queued before set_pubsub_arrays(true): every array that answers it is its reply, whatever
  // its first element. Set by the pipeline.
  bool arrays_are_replies = false;
};

class pipeline {
 public:
  using time_point = request::time_point;

  struct feed_result {
    std::size_t consumed = 0;  // bytes the caller may drop
    std::error_code error;     // a protocol error: call rewind() or fail_all() next
    bool stopped = false;      // a handler called fail_all(): the rest was not looked at
  };

  explicit pipeline(const resp::limits& limits = {});

  /// Where the caller encodes a command's bytes, whole, right before push()ing it.
  util::byte_buffer& requests() { return requests_.tail(); }

  /// Queues a command whose `r.length` bytes the caller has just appended to requests().
  void push(pending&& command, const request& r = {}) {
    requests_.commit(r.length);
    queue_.emplace_back(std::move(command), r);
  }
  /// The same, building the pending in its place in the FIFO (no relocation: the hot path).
  template <class H>
  requires(reply_handler<std::remove_cvref_t<H>> &&
           !std::is_same_v<std::remove_cvref_t<H>, pending>) void push(H&& handler,
                                                                       const request& r = {}) {
    requests_.commit(r.length);
    queue_.emplace_back(std::in_place, std::forward<H>(handler), r);
  }

  /// Commands still waiting for (the rest of) their reply, tombstones included.
  std::size_t size() const noexcept { return queue_.size() + (reading_command() ? 1 : 0); }
  bool empty() const noexcept { return size() == 0; }
  /// Some command that has not timed out waits for its reply (a tombstone's may never come).
  bool awaits_live_reply() const noexcept;

  /// The request bytes not yet handed to a socket, oldest first.
  std::string_view unsent() const noexcept { return requests_.unsent(); }
  /// Hands unsent() to the socket: those bytes stay valid and unchanged until end_send(), and
  /// count as written from now on. Precondition: !sending().
  std::string_view begin_send() noexcept { return requests_.begin_send(); }
  /// The socket is done with the bytes of the last begin_send().
  void end_send() noexcept { requests_.end_send(); }
  bool sending() const noexcept { return requests_.sending(); }
  /// The requests' storage, for tests of its recycling.
  const request_buffer& request_bytes() const noexcept { return requests_; }

  /// Parses `bytes` (everything received and not yet consumed) and completes every command
  /// whose reply is whole.
  feed_result feed(std::string_view bytes);

  /// Completes every command whose deadline is <= now with errc::timeout, leaving tombstones
  /// for the sent ones and dropping the unsent ones.
  /// Returns how many it completed; `next` becomes the earliest deadline still pending (max:
  /// none).
  std::size_t expire(time_point now, time_point& next);

  /// After the socket failed with `cause`: decides the fate of each pending command, oldest
  /// first. `verdict(const request&, std::string_view bytes, bool written)` returns an empty
  /// error_code to keep the command for the next socket, or the error it completes with.
  /// "written" means some of its bytes were handed to the socket. Tombstones are dropped; a
  /// command whose reply had begun completes with `cause` (its handler has consumed part of a
  /// reply, so it cannot start over). Kept commands stay in order and all their bytes become
  /// unsent; written ones count a resend. The parser starts afresh.
  template <class Verdict>
  void rewind(std::error_code cause, Verdict&& verdict);

  /// Completes every pending command with `ec`, oldest first, and forgets any partial reply
  /// and every request byte. A command none of whose bytes reached a socket gets them in its
  /// outcome (reply_outcome::request, valid during its completion): it never ran, so it may be
  /// sent elsewhere (a cluster client does). The pipeline is usable again afterwards (for a
  /// new connection).
  void fail_all(std::error_code ec);

  /// Where RESP3 push frames go (invalidations, pub/sub messages, the rest).
  push_router& pushes() noexcept { return router_; }

  /// Shown the text of every top-level error reply (-READONLY ..., valid during the call), before
  /// the command it answers completes. It may only take note (a connection following a
  /// Sentinel primary moves on -READONLY after the call that brought it). Empty: none.
  using error_observer = util::inline_function<void(std::string_view), 16>;
  void observe_errors(error_observer observer) noexcept { observer_ = std::move(observer); }

  /// Reads RESP2 arrays that are pub/sub frames as pushes (see above), from the next frame on.
  /// `queued_go_first`: the commands already queued reach the server before it subscribes (they
  /// are ahead of the SUBSCRIBE on the live socket), so the arrays that answer them are theirs.
  void set_pubsub_arrays(bool on, bool queued_go_first = false) noexcept;

 private:
  // frame_head: a RESP2 array's header is held until its first element says whether it is a
  // pub/sub frame (set_pubsub_arrays).
  enum class reading : std::uint8_t {
    idle,
    frame_head,
    command_reply,
    discarded_reply,
    push_frame
  };

  struct entry {
    entry(pending&& c, const request& r) noexcept : command(std::move(c)), req(r) {}
    template <class H>
    entry(std::in_place_t, H&& handler, const request& r) noexcept
        : command(std::forward<H>(handler)), req(r) {}
    pending command;  // empty for a tombstone
    request req;
  };

  struct failed_entry {
    failed_entry(pending&& c, std::error_code e) noexcept : command(std::move(c)), error(e) {}
    pending command;
    std::error_code error;
  };

  // A command is out of the FIFO and owns the replies being read: inside one of its replies,
  // or between two of a multi-reply command's.
  bool reading_command() const noexcept {
    return state_ == reading::command_reply || state_ == reading::discarded_reply ||
           replies_left_ > 0;
  }
  // The bytes at the front of the requests that belong to no queued command: the active one's,
  // or those of the command completing now (finish_command, confirm_head), which stay until
  // its handler returns. What fail_all(), rewind() and expire() skip to reach the FIFO's own.
  std::size_t front_bytes() const noexcept {
    return reading_command() ? active_request_.length : completing_length_;
  }
  void reset_parser() noexcept;
  bool may_be_pubsub_frame() const noexcept;
  bool start_reply(const resp::node& first, bool& completed);
  bool complete_single(const resp::node& n);
  void release_single_head() noexcept;
  void begin_reply();
  void confirm_head(push_kind kind);
  void finish_command(reply_outcome outcome);
  void finish_discarded() noexcept;
  void drop_unsent_tombstones();

  resp::parser parser_;
  util::ring_buffer<entry> queue_;
  active_reply active_;     // the command whose reply is being read (command_reply)
  request active_request_;  // its request (command_reply or discarded_reply)
  reading state_ = reading::idle;
  request_buffer requests_;
  push_router router_;
  error_observer observer_;
  bool pubsub_arrays_ = false;
  resp::node held_;              // frame_head: the array's header
  std::uint16_t confirmed_ = 0;  // confirmations the oldest command has had so far
  // Replies still to begin for the command out of the FIFO (a multi-reply one): while > 0, the
  // next reply is its, even with state_ idle in between.
  std::uint32_t replies_left_ = 0;
  // The length of the command completing now with its bytes still held (front_bytes()); 0
  // outside such a completion, and once a failure inside it dropped every byte.
  std::uint32_t completing_length_ = 0;
  // fail_all()/rewind() calls: a change during a completion stops feed().
  std::uint64_t failures_ = 0;

  // rewind()'s and expire()'s scratch, kept to reuse their memory.
  util::ring_buffer<entry> kept_;
  util::ring_buffer<failed_entry> failed_;
  request_buffer kept_requests_;
  util::byte_buffer kept_unsent_;
  // fail_all()'s: the failed commands' bytes while they complete, and whether it is in use.
  request_buffer failing_requests_;
  bool failing_ = false;
};

template <class Verdict>
void pipeline::rewind(std::error_code cause, Verdict&& verdict) {
  ++failures_;
  const bool fail_active = static_cast<bool>(active_);
  // A multi-reply command partly read (a transaction whose MULTI was answered) may have run.
  const std::error_code active_error =
      active_request_.replies > 1 ? make_error_code(errc::outcome_unknown) : cause;
  request_buffer::cursor bytes(requests_);
  std::size_t offset = bytes.next(front_bytes()).size();  // they go with their command
  const std::size_t sent = requests_.sent();
  reset_parser();
  completing_length_ = 0;

  kept_.clear();
  failed_.clear();
  kept_requests_.clear();
  while (!queue_.empty()) {
    entry& e = queue_.front();
    const std::string_view own = bytes.next(e.req.length);
    const bool written = offset < sent;
    offset += e.req.length;
    if (!e.req.expired) {
      const std::error_code error = verdict(std::as_const(e.req), own, written);
      if (error) {
        failed_.emplace_back(std::move(e.command), error);
      } else {
        kept_requests_.tail().append(own);
        kept_requests_.commit(own.size());
        if (written && e.req.resends != UINT16_MAX) ++e.req.resends;
        e.req.arrays_are_replies = false;  // the new socket subscribes before it resends
        kept_.emplace_back(std::move(e.command), e.req);
      }
    }
    queue_.pop_front();
  }
  std::swap(queue_, kept_);
  requests_.swap(kept_requests_);
  kept_requests_.clear();  // the old socket's bytes: it is gone

  // Completions last, oldest first: they run user code, which may push to the new FIFO.
  util::ring_buffer<failed_entry> failed = std::move(failed_);
  if (fail_active) active_.complete(reply_outcome::failed(active_error));
  while (!failed.empty()) {
    failed_entry f = std::move(failed.front());
    failed.pop_front();
    f.command.complete(reply_outcome::failed(f.error));
  }
  failed_ = std::move(failed);  // its memory, for the next rewind
}

}  // namespace uredis::proto
