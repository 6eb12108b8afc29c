#pragma once
// request_buffer: the request bytes of a connection's commands, oldest first, kept until each
// command's reply has been read, and handed to the kernel from where they were encoded: no copy
// on the way out.
//
// Two byte buffers take turns (a double buffer swapped per send). Commands are encoded into
// the current one; begin_send() hands its unsent bytes to the kernel, and from then on new
// commands go to the other buffer, because appending may move a buffer's memory while the
// kernel is still reading it. When the send ends, that buffer may be appended to again (the
// bytes it holds that await their replies may move: only the kernel needs them in place).
//
//   buffer 0:  [ run 1: sent, awaiting replies ][ run 3: in flight ]
//   buffer 1:  [ run 2: sent, awaiting replies ][ run 4: unsent     ]   <- tail(): encode here
//
// A run is a stretch of consecutive commands in one buffer; runs alternate between the
// buffers, and consume() drops answered bytes from the oldest run. Each buffer grows to the
// connection's working size and is reused from then on: nothing is allocated in steady state.
//
// Invariants: all unsent bytes are the newest run, at the end of the current buffer
// (unsent() is contiguous); at most one send is in flight, from the other buffer; a command's
// bytes lie in one run.
//
// Views: the bytes of a command (oldest(), cursor) stay valid until the next append to the
// buffer that holds them (a command issued on the same connection may be appended there).
//
// Owner: a pipeline (its commands' bytes) or a session (its handshake's). Not thread-safe.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis::proto {

class request_buffer {
 public:
  request_buffer() = default;
  request_buffer(request_buffer&&) noexcept = default;
  request_buffer& operator=(request_buffer&&) noexcept = default;

  /// Where the next command is encoded, whole; commit() it after.
  util::byte_buffer& tail() noexcept { return buffers_[current_]; }
  /// Records that a command of `n` bytes was just encoded into tail().
  void commit(std::size_t n) {
    if (n == 0) return;
    size_ += n;
    if (!runs_.empty() && !runs_.back().sent && runs_.back().buffer == current_) [[likely]] {
      runs_.back().bytes += n;  // most commands: small enough to inline into every exec
    } else {
      open_run(n);
    }
  }

  /// The bytes not yet handed to the kernel, oldest first (empty when there are none).
  std::string_view unsent() const noexcept {
    if (runs_.empty() || runs_.back().sent) return {};
    const std::string_view all = buffers_[runs_.back().buffer].data();
    return all.substr(all.size() - runs_.back().bytes);
  }

  /// Hands unsent() to the kernel: returns those bytes, which stay valid and unchanged until
  /// end_send(), and counts them as sent. Precondition: no send in flight.
  std::string_view begin_send() noexcept {
    assert(!sending() && "one send at a time");
    const std::string_view bytes = unsent();
    if (bytes.empty()) return bytes;
    runs_.back().sent = true;
    in_flight_ = static_cast<std::int8_t>(current_);
    current_ ^= 1;
    sent_ += bytes.size();
    // The two buffers take turns: the other one grows with this one, so both reach the working
    // size together (during a warm-up, not later under load).
    const std::size_t capacity = buffers_[in_flight_].capacity();
    if (buffers_[current_].capacity() < capacity) buffers_[current_].reserve(capacity);
    return bytes;
  }

  /// The kernel is done with the bytes of the last begin_send().
  void end_send() noexcept { in_flight_ = -1; }
  bool sending() const noexcept { return in_flight_ >= 0; }

  /// Bytes held: sent and awaiting their replies, and unsent.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Held bytes that were handed to the kernel (the oldest ones).
  std::size_t sent() const noexcept { return sent_; }

  /// Drops the oldest `n` held bytes: a command's, whose reply has been read. `n` never
  /// reaches past the command's run, and the command was sent.
  void consume(std::size_t n) noexcept {
    if (n == 0) return;
    run& oldest = runs_.front();
    assert(n <= oldest.bytes && n <= sent_);
    buffers_[oldest.buffer].consume(n);
    oldest.bytes -= n;
    if (oldest.bytes == 0) runs_.pop_front();
    size_ -= n;
    sent_ -= n;
  }

  /// The oldest `n` held bytes: the bytes of the oldest command, when it is `n` bytes long.
  std::string_view oldest(std::size_t n) const noexcept {
    if (n == 0) return {};
    return buffers_[runs_.front().buffer].data().substr(0, n);
  }

  /// Replaces the unsent bytes with `bytes`, which must not point into this buffer: what is
  /// left of them once some commands were dropped.
  void replace_unsent(std::string_view bytes) {
    if (runs_.empty() || runs_.back().sent) return;
    run& last = runs_.back();
    util::byte_buffer& b = buffers_[last.buffer];
    b.truncate(b.size() - last.bytes);
    size_ -= last.bytes;
    runs_.pop_back();
    const std::uint8_t current = current_;
    current_ = last.buffer;
    b.append(bytes);
    commit(bytes.size());
    current_ = current;
  }

  /// Reads held bytes command by command, oldest first, as consume() would drop them.
  class cursor {
   public:
    explicit cursor(const request_buffer& b) noexcept : buffer_(&b) {}
    /// The next `n` bytes (a whole command: they lie in one run).
    std::string_view next(std::size_t n) noexcept {
      if (n == 0) return {};
      while (used_ == buffer_->runs_[run_].bytes) {
        ++run_;
        used_ = 0;
      }
      const std::uint8_t b = buffer_->runs_[run_].buffer;
      const std::string_view bytes = buffer_->buffers_[b].data().substr(offset_[b], n);
      offset_[b] += n;
      used_ += n;
      return bytes;
    }

   private:
    const request_buffer* buffer_;
    std::size_t run_ = 0;
    std::size_t used_ = 0;            // bytes of runs_[run_] read so far
    std::size_t offset_[2] = {0, 0};  // bytes of each buffer read so far
  };

  /// Drops every held byte; keeps the memory. The kernel may still read the buffer handed to
  /// it: a caller that clears during a send has given up on its socket (a closed socket sends
  /// nothing).
  void clear() noexcept {
    buffers_[0].clear();
    buffers_[1].clear();
    runs_.clear();
    size_ = sent_ = 0;
    in_flight_ = -1;
  }

  /// Exchanges contents with `other`.
  void swap(request_buffer& other) noexcept {
    std::swap(buffers_[0], other.buffers_[0]);
    std::swap(buffers_[1], other.buffers_[1]);
    std::swap(runs_, other.runs_);
    std::swap(current_, other.current_);
    std::swap(in_flight_, other.in_flight_);
    std::swap(size_, other.size_);
    std::swap(sent_, other.sent_);
  }

 private:
  // The first unsent command since the last flush (or into the other buffer): a new run.
  [[gnu::noinline]] void open_run(std::size_t n) { runs_.push_back({n, current_, false}); }

  struct run {
    std::size_t bytes = 0;
    std::uint8_t buffer = 0;  // index into buffers_
    bool sent = false;
  };

  util::byte_buffer buffers_[2];
  util::ring_buffer<run> runs_;
  std::uint8_t current_ = 0;    // where new commands go: never the buffer in flight
  std::int8_t in_flight_ = -1;  // the buffer the kernel reads, or -1
  std::size_t size_ = 0;
  std::size_t sent_ = 0;
};

}  // namespace uredis::proto
