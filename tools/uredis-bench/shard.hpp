#pragma once
// shard: one shard's share of one test: its connections, and the loop that keeps requests in
// flight on them, on the shard's reactor thread (a runtime shard).
//
// Phases, each started by main() posting a task to the shard and ended by the shard arriving at
// the test's phase_barrier:
//
//   setup()     create the connections, connect, then warm up: each connection sends -P
//               requests of the test and waits for their replies, so that the connection's
//               buffers and pending FIFO reach their working size before anything is measured
//               (the warm-up is not counted anywhere; the key sequence starts over after it).
//   start(t0)   the measured phase. Closed loop: -P requests in flight per connection, a new one
//               sent from each reply. With --rate: the fixed-rate schedule (rate_schedule.hpp),
//               driven by a pacing timer on the shard's wheel (re-armed for the next due time;
//               with --busy-poll re-armed every loop turn) and by the replies. It ends when the
//               shard's share of -n has been answered, or --duration after t0 (a timer; what is
//               in flight then is still awaited and counted), or when no connection is left.
//   teardown()  close and destroy the connections.
//
// Latency: from the moment a request is issued (closed loop; the arrival time of the reply
// that issued it, batch_clock.hpp) or its intended send time (--rate) to the arrival of its
// reply, in microseconds. Nothing is allocated per request: each request's issue time rides in
// its callback (with --cache a hit completes before earlier misses on its connection, so replies
// do not come back in order), keys and values live in the request_source.
//
// --cache: a hit completes inside exec(), and its reply issues the next request. issue() sends
// that one when exec() has returned, not from inside it (a run of hits would otherwise recurse
// once per request), and after a window of sends in a row (256, or -P if more) yields to the loop:
// the rest go out from a timer at the end of the turn, so that a run of hits never keeps the shard
// from its I/O and its timers (--duration). The cache's stats are summed over the shard's
// connections: counters as differences over the measured phase, entries and bytes as they are at
// its end.
//
// --cluster: the shard has one cluster::cluster_client (one connection per primary, opened
// while setting up by a PING to each primary the topology names) instead of a connection per
// client, as the library means a cluster client to be used: the clients are then request
// streams of -P in flight each, sharing it, and each request goes to the primary of its key's
// slot (computed once, by the cluster client's check of the descriptor's keys).
//
// Threads: setup/start/teardown and everything they trigger run on the shard's thread; main()
// reads the results after the barrier, and completed() (for the progress line) at any time.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch_clock.hpp"
#include "latency_runs.hpp"
#include "phase_barrier.hpp"
#include "process_usage.hpp"
#include "rate_schedule.hpp"
#include "request_source.hpp"
#include "uredis/cache/store.hpp"
#include "uredis/client/config.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/util/histogram.hpp"
#include "workload.hpp"

namespace uredis::bench {

/// What one shard runs in one test.
struct shard_plan {
  workload work;
  connection_config config;
  std::size_t index = 0;         // this shard
  std::size_t shards = 1;        // of so many
  std::size_t clients = 1;       // this shard's connections
  std::size_t first_client = 0;  // the index of the first among all connections
  std::size_t total_clients = 1;
  std::size_t pipeline = 1;
  std::uint64_t requests = 0;  // this shard's share of -n; ignored with a duration
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<rate_schedule> schedule;  // --rate
  key_pattern keys = key_pattern::uniform;
  std::uint64_t keyspace = 0;
  double zipf_exponent = 0.99;
  std::size_t data_size = 3;
  std::uint64_t seed = 1;
  /// --cluster: config's host and port are a seed node of a Redis Cluster.
  bool cluster = false;
};

/// What a shard measured. Read by main() after the phase barrier.
struct shard_result {
  util::histogram latency;
  std::uint64_t completed = 0;   // replies and failures in the measured phase
  std::uint64_t errors = 0;      // failures: error replies and transport errors
  std::uint64_t reconnects = 0;  // event::reconnected emitted during the measured phase
  cache::store_stats cache;      // --cache: over the measured phase (entries, bytes: at its end)
  std::string failure;           // why the shard could not run, if it could not
};

class shard {
 public:
  shard(shard_plan plan, phase_barrier& barrier);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  /// Phases (see the header comment); each runs on the shard's thread and arrives at the
  /// barrier once. start()'s last arriver records `end` (the measured phase's end figures).
  void setup();
  void start(std::chrono::steady_clock::time_point t0, process_usage& end);
  void teardown();

  const shard_result& result() const noexcept { return result_; }
  /// Requests completed so far in the measured phase; any thread.
  std::uint64_t completed() const noexcept { return completed_.load(std::memory_order_relaxed); }

 private:
  struct client;

  void on_connected(const uredis::result<void>& outcome);
  void on_topology(const uredis::result<void>& outcome);
  void on_primary_ready(std::string_view failure);
  void warm_up();
  void on_warm_reply();
  void issue(client& c, std::chrono::steady_clock::time_point stamp);
  void send_owed(client& c);
  void on_resume();
  void on_reply(client& c, bool ok, std::chrono::steady_clock::time_point sent);
  void pace();
  void arm_pacer_for(std::chrono::steady_clock::time_point due);
  void on_deadline();
  bool more_to_issue() const noexcept {
    return issuing_ && live_ > 0 && (plan_.duration || unissued_ > 0);
  }
  void maybe_finish();
  std::uint64_t reconnects_so_far() const noexcept;
  cache::store_stats cache_so_far() const noexcept;

  shard_plan plan_;
  phase_barrier& barrier_;
  shard_result result_;
  latency_runs latencies_{result_.latency};  // into result_.latency: flushed when a phase ends
  reactor::reactor* reactor_ = nullptr;      // set by setup(), on the shard's thread
  std::optional<batch_clock> clock_;
  std::optional<request_source> requests_;
  std::vector<std::unique_ptr<client>> clients_;
  std::unique_ptr<cluster::cluster_client> cluster_;  // --cluster: every client's requests

  std::size_t connecting_ = 0;
  std::size_t warming_ = 0;  // warm-up replies awaited
  bool measuring_ = false;
  bool issuing_ = false;  // false once the duration has passed
  std::uint64_t unissued_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t live_ = 0;  // connections not closed
  std::uint64_t reconnects_at_start_ = 0;
  cache::store_stats cache_at_start_;
  process_usage* end_ = nullptr;
  reactor::timer pacer_;
  reactor::timer deadline_;
  reactor::timer resume_;  // sends the requests a run of cache hits left owed (send_owed)
  std::atomic<std::uint64_t> completed_{0};  // result_.completed, published for the progress line
};

}  // namespace uredis::bench
