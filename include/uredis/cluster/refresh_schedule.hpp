#pragma once
// refresh_schedule: when a shard's cluster client reads the topology again (CLUSTER SLOTS), as
// a sans-I/O state machine over time points (the shell arms a timer for next() and calls
// start() when it fires; tests drive it with a manual clock).
//
// A MOVED reply, a node that fails, or a CLUSTERDOWN each request() a refresh. Requests are
// coalesced and rate-limited, so a burst of MOVED replies (every command of a moved slot, on
// every shard) costs one CLUSTER SLOTS per shard:
//
//   idle ──request──► scheduled(at) ──start──► in flight ──succeeded──► idle
//                       ▲    request: keep       │ request: again = true      │ again
//                       │    the earlier time    └──failed──► scheduled(now + backoff)
//                       └───────────────────────────────────────────────────────┘
//
//   - at most one refresh in flight; a request during it means the answer may predate what
//     was seen, so one more refresh follows it (not one per request);
//   - two starts are at least min_interval apart;
//   - a requested refresh waits a random [0, jitter) first, so the shards of one process (and
//     the clients of many) do not all ask the same node at the same instant;
//   - a failed refresh is retried after the backoff's delay for its failure count, until one
//     succeeds; success resets the count;
//   - a topology that still names a node that is down (poll_while_down) is read again after
//     poll_backoff's delay for the count of such reads in a row: its replica may take over any
//     moment, or never (a primary without one), and reading every min_interval for as long as
//     it stays down would be a storm of CLUSTER SLOTS from every shard of every client. A
//     request meanwhile (a MOVED) is answered at the usual pace; a reminder (the node's
//     connection failing again, a command finding it down) waits for the poll.

#include <chrono>
#include <cstdint>
#include <optional>

#include "uredis/retry/backoff.hpp"
#include "uredis/util/random.hpp"

namespace uredis::cluster {

struct refresh_options {
  std::chrono::nanoseconds min_interval = std::chrono::milliseconds(100);
  std::chrono::nanoseconds jitter = std::chrono::milliseconds(20);
  retry::backoff failure_backoff =
      retry::backoff::equal_jitter(std::chrono::milliseconds(100), std::chrono::seconds(5));
  /// Between reads while a node is down (poll_while_down). Its cap bounds how late a failover
  /// is seen, commands to the node's slots waiting meanwhile: 500 ms is two reads a second per
  /// shard, where every min_interval was ten.
  retry::backoff poll_backoff =
      retry::backoff::equal_jitter(std::chrono::milliseconds(100), std::chrono::milliseconds(500));
};

class refresh_schedule {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `rng` (the shard's) draws the jitter and the backoff; it must outlive the schedule.
  refresh_schedule(refresh_options options, util::rng& rng) noexcept
      : options_(options), rng_(&rng) {}

  /// Something suggests the map is stale.
  void request(time_point now) noexcept;
  /// The same, for what may be the news a poll is already waiting on (a node failing again, a
  /// command that found it down): a poll scheduled by poll_while_down() answers it as it is.
  void remind(time_point now) noexcept;

  /// When start() should be called next; nullopt while idle or while a refresh is in flight.
  std::optional<time_point> next() const noexcept {
    return state_ == state::scheduled ? std::optional<time_point>(at_) : std::nullopt;
  }
  /// Begins the scheduled refresh if it is due: true means "send CLUSTER SLOTS now".
  bool start(time_point now) noexcept;
  /// The refresh in flight was read and applied.
  void succeeded(time_point now) noexcept;
  /// The refresh in flight failed (no node answered, or the reply was not a slot map).
  void failed(time_point now) noexcept;
  /// The topology just applied names a node that is down: read it again after poll_backoff's
  /// delay for the number of such topologies in a row (unless a refresh is scheduled already).
  void poll_while_down(time_point now) noexcept;
  /// The topology just applied names no node that is down: the count starts over.
  void settled() noexcept { polls_ = 0; }

  bool in_flight() const noexcept { return state_ == state::in_flight; }
  /// Failed refreshes since the last success.
  std::uint32_t failures() const noexcept { return failures_; }

 private:
  enum class state : std::uint8_t { idle, scheduled, in_flight };

  void schedule(time_point at) noexcept;
  std::chrono::nanoseconds draw_jitter() noexcept;

  refresh_options options_;
  util::rng* rng_;
  time_point at_{};
  std::optional<time_point> last_start_;
  std::uint32_t failures_ = 0;
  std::uint32_t polls_ = 0;  // poll_while_down() calls in a row
  state state_ = state::idle;
  bool polling_ = false;  // the scheduled refresh is a poll: a request may bring it forward
  bool again_ = false;
};

}  // namespace uredis::cluster
