#pragma once
// pipeline: matches a connection's replies to its pending commands, with no I/O of its own.
//
// Commands are pushed in the order their bytes are queued for sending; replies come back in the
// same order, so the first reply that is not an out-of-band push answers the oldest pending
// command. The connection hands every received byte to feed() and drops the bytes it reports
// consumed.
//
//   push(pending) ──► [ FIFO: oldest ... newest ]   (queued handlers: small)
//                        │ the first node of a reply activates the head (pending.hpp)
//   feed(bytes) ──► parser ──► active_ (its nodes, then on_complete) ──► next reply ...
//                        └── RESP3 push frames (">") ──► push handler, never a command
//
// Attributes ("|") are dropped before a handler sees a node. A protocol error, or a reply no
// command is waiting for, fails every pending command with that error and leaves the pipeline
// failed until reset(): the connection must close and may reconnect.
//
// Completion runs the handler's code (a user callback, a coroutine resume) in the middle of
// feed(). The completed command has left the pipeline by then, so a handler may push new
// commands; if it calls fail_all() (closing the connection), feed() stops at once.
//
// Steady state allocates nothing: the FIFO is a ring that only grows, handlers live inline.
// Push frames are built into an owning reply tree (they allocate).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "uredis/proto/pending.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis::proto {

class pipeline {
 public:
  using push_function = util::inline_function<void(const resp::reply&), 32>;

  struct feed_result {
    std::size_t consumed = 0;  // bytes the caller may drop
    std::error_code error;     // a protocol error: every pending command has failed with it
    bool stopped = false;      // a handler called fail_all(): the rest was not looked at
  };

  explicit pipeline(const resp::limits& limits = {});

  /// Queues a command whose bytes the caller has just queued for sending.
  void push(pending&& command) { queue_.push_back(std::move(command)); }

  /// Commands still waiting for (the rest of) their reply.
  std::size_t size() const noexcept { return queue_.size() + (active_ ? 1 : 0); }
  bool empty() const noexcept { return size() == 0; }

  /// Parses `bytes` (everything received and not yet consumed) and completes every command
  /// whose reply is whole.
  feed_result feed(std::string_view bytes);

  /// Completes every pending command with `ec`, oldest first, and forgets any partial reply.
  /// The pipeline is usable again afterwards (for a new connection).
  void fail_all(std::error_code ec);

  /// Where RESP3 push frames go (invalidations, pub/sub messages). Without one they are dropped.
  void on_push(push_function handler) { push_handler_ = std::move(handler); }

  /// Readies the pipeline for a fresh byte stream (after a reconnect). Pending commands stay.
  void reset() noexcept;

 private:
  enum class reading : std::uint8_t { idle, command_reply, push_frame };

  void finish_command(const reply_outcome& outcome);

  resp::parser parser_;
  util::ring_buffer<pending> queue_;
  active_reply active_;  // the command whose reply is being read
  reading state_ = reading::idle;
  resp::reply push_frame_;
  resp::reply_builder push_builder_{push_frame_};
  push_function push_handler_;
  std::uint64_t failures_ = 0;  // fail_all() calls: a change during a completion stops feed()
};

}  // namespace uredis::proto
