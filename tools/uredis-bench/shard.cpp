#include "shard.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "uredis/cmd/server.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::bench {

using time_point = std::chrono::steady_clock::time_point;

// One connection and its requests in flight, or (--cluster, no connection of its own) one
// stream of requests through the shard's cluster client. Pinned (callbacks point at it).
struct shard::client {
  client(shard& owner, reactor::reactor& r, const connection_config& config, std::size_t depth)
      : owner(&owner), depth(depth) {
    conn.emplace(r, config);
  }
  client(shard& owner, std::size_t depth) : owner(&owner), depth(depth) {}

  shard* owner;  // so that a reply's callback is two words: the client and the issue time
  std::optional<connection> conn;  // nullopt with --cluster
  std::size_t depth;
  std::size_t in_flight = 0;
  time_point due{};   // --rate: when the next request is due
  bool down = false;  // closed during the measured phase: no more requests
  // Requests counted in flight but not sent yet: one issued while exec() runs on this
  // connection (from a cache hit's reply) waits for it to return; past a window of -P sends in
  // a row they wait for the resume timer (see send_owed). Stamped with the oldest one's issue
  // time, so a wait never shortens a latency.
  bool sending = false;
  std::size_t owed = 0;
  time_point owed_stamp{};
};

shard::shard(shard_plan plan, phase_barrier& barrier) : plan_(std::move(plan)), barrier_(barrier) {
  pacer_.set_callback([this] { pace(); });
  deadline_.set_callback([this] { on_deadline(); });
  resume_.set_callback([this] { on_resume(); });
}

shard::~shard() = default;

void shard::setup() {
  reactor_ = reactor::reactor::current();
  if (reactor_ == nullptr) {
    result_.failure = "no reactor on this thread";
    barrier_.arrive();
    return;
  }
  clock_.emplace(*reactor_);
  requests_.emplace(plan_.work,
                    key_source{plan_.keys, plan_.keyspace, plan_.zipf_exponent, plan_.index,
                               plan_.shards, plan_.seed},
                    plan_.data_size, /*name_keys=*/plan_.config.cache.enabled() || plan_.cluster);
  clients_.reserve(plan_.clients);
  if (plan_.cluster) {
    for (std::size_t i = 0; i < plan_.clients; ++i)
      clients_.push_back(std::make_unique<client>(*this, plan_.pipeline));
    cluster::cluster_config config;
    config.seeds.push_back({plan_.config.host, plan_.config.port});
    config.node = plan_.config;
    cluster_ = std::make_unique<cluster::cluster_client>(*reactor_, std::move(config));
    cluster_->connect([this](const uredis::result<void>& outcome) { on_topology(outcome); });
    return;
  }
  for (std::size_t i = 0; i < plan_.clients; ++i)
    clients_.push_back(std::make_unique<client>(*this, *reactor_, plan_.config, plan_.pipeline));
  connecting_ = clients_.size();
  for (auto& c : clients_)
    c->conn->connect([this](const uredis::result<void>& outcome) { on_connected(outcome); });
}

namespace {
// "127.0.0.1:6379", "[::1]:6379" or the socket path.
std::string server_name(const connection_config& c) {
  if (!c.unix_socket.empty()) return c.unix_socket;
  const bool v6 = c.host.find(':') != std::string::npos;
  return (v6 ? "[" + c.host + "]" : c.host) + ":" + std::to_string(c.port);
}
// Why `outcome` failed: the error's message, or a server's refusal (e.g. WRONGPASS) by its text.
std::string failure_text(const uredis::result<void>& outcome) {
  return outcome.has_error() ? outcome.error().message() : outcome.server_error().message;
}
// "cannot connect to 127.0.0.1:6379: connection refused".
std::string connect_failure(const connection_config& c, const uredis::result<void>& outcome) {
  return "cannot connect to " + server_name(c) + ": " + failure_text(outcome);
}
}  // namespace

// --cluster: the topology is read; a PING to each primary opens its connection (the cluster
// client opens them on first use), so that no connect falls in the measured phase.
void shard::on_topology(const uredis::result<void>& outcome) {
  if (!outcome) {
    result_.failure = "cannot read the cluster's topology from " + server_name(plan_.config) +
                      ": " + failure_text(outcome);
    barrier_.arrive();
    return;
  }
  const cluster::slot_map& map = cluster_->slots();
  connecting_ = map.shards().size();
  if (connecting_ == 0) {
    result_.failure = "the cluster has no primary serving slots";
    barrier_.arrive();
    return;
  }
  for (const cluster::shard& s : map.shards()) {
    const std::uint16_t node = s.primary;
    cluster_->exec_on(
        map.node(node).address, cmd::ping{}, [this, node](const uredis::result<std::string>& r) {
          if (r) return on_primary_ready({});
          const cluster::node_address& a = cluster_->slots().node(node).address;
          on_primary_ready("cannot connect to " + a.host + ":" + std::to_string(a.port) + ": " +
                           (r.has_error() ? r.error().message() : r.server_error().message));
        });
  }
}

void shard::on_primary_ready(std::string_view failure) {
  if (!failure.empty() && result_.failure.empty()) result_.failure = failure;
  if (--connecting_ != 0) return;
  if (!result_.failure.empty()) {
    barrier_.arrive();
    return;
  }
  warm_up();
}

void shard::on_connected(const uredis::result<void>& outcome) {
  if (!outcome && result_.failure.empty()) result_.failure = connect_failure(plan_.config, outcome);
  if (--connecting_ != 0) return;
  if (!result_.failure.empty()) {
    barrier_.arrive();
    return;
  }
  warm_up();
}

void shard::warm_up() {
  warming_ = clients_.size() * plan_.pipeline;
  for (auto& c : clients_) {
    for (std::size_t i = 0; i < plan_.pipeline; ++i) {
      if (cluster_) {
        requests_->issue(*cluster_, [this](bool) noexcept { on_warm_reply(); });
      } else {
        requests_->issue(*c->conn, [this](bool) noexcept { on_warm_reply(); });
      }
    }
  }
}

void shard::on_warm_reply() {
  if (--warming_ != 0) return;
  requests_->restart();
  barrier_.arrive();
}

void shard::start(time_point t0, process_usage& end) {
  end_ = &end;
  measuring_ = true;
  issuing_ = true;
  unissued_ = plan_.duration ? 0 : plan_.requests;
  reconnects_at_start_ = reconnects_so_far();
  cache_at_start_ = cache_so_far();
  live_ = 0;
  for (auto& c : clients_) {
    c->down = c->conn && !c->conn->ready();
    if (!c->down) ++live_;
  }
  if (plan_.duration) reactor_->timers().rearm(deadline_, t0 + *plan_.duration);
  if (plan_.schedule) {
    for (std::size_t i = 0; i < clients_.size(); ++i)
      clients_[i]->due = plan_.schedule->first_due(t0, plan_.first_client + i);
    pace();
  } else {
    clock_->forget();  // a hit's reply, completing in here, reads the clock afresh
    const time_point now = batch_clock::now_fresh();
    for (auto& c : clients_)
      for (std::size_t i = 0; i < plan_.pipeline && !c->down && more_to_issue(); ++i)
        issue(*c, now);
  }
  maybe_finish();
}

void shard::issue(client& c, time_point stamp) {
  if (!plan_.duration) --unissued_;
  ++c.in_flight;
  ++in_flight_;
  if (c.owed++ == 0) c.owed_stamp = stamp;
  if (!c.sending) send_owed(c);  // else inside this connection's exec(): sent when it returns
}

// Sends c's owed requests. Cache hits complete inside exec() and each one's reply owes the next
// request, so a run of hits would keep this loop going without end (--duration's timer never
// firing, one connection sending all of -n): after a window of sends in a row it yields, and the
// resume timer sends the rest at the end of this loop turn. The window is at least -P, and large
// enough that a run of a few hits (--cache with misses among them) never waits for a turn.
void shard::send_owed(client& c) {
  constexpr std::size_t min_window = 256;
  const std::size_t window = std::max(c.depth, min_window);
  c.sending = true;
  for (std::size_t sent = 0; c.owed > 0; ++sent) {
    if (sent == window) {
      if (!resume_.armed()) reactor_->timers().rearm(resume_, reactor_->timers().current());
      break;
    }
    --c.owed;
    auto done = [&c, stamp = c.owed_stamp](bool ok) noexcept { c.owner->on_reply(c, ok, stamp); };
    if (cluster_) {
      requests_->issue(*cluster_, done);
    } else {
      requests_->issue(*c.conn, done);
    }
  }
  c.sending = false;
}

void shard::on_resume() {
  clock_->forget();  // a hit's reply, completing in here, reads the clock afresh
  for (auto& c : clients_)
    if (c->owed > 0 && !c->sending) send_owed(*c);
}

void shard::on_reply(client& c, bool ok, time_point sent) {
  const time_point now = clock_->now();
  --c.in_flight;
  --in_flight_;
  if (!measuring_) return;  // failed by teardown

  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sent).count();
  latencies_.record(us > 0 ? static_cast<std::uint64_t>(us) : 0);
  ++result_.completed;
  completed_.store(result_.completed, std::memory_order_relaxed);
  if (!ok) ++result_.errors;
  // A closed connection takes no more requests (the others take its share). One that is
  // reconnecting does: its requests wait for the new socket. (A cluster client's streams never
  // stop: it routes around a node that fails.)
  if (c.conn) {
    const connection_state state = c.conn->state();
    if (!c.down && (state == connection_state::closed || state == connection_state::idle)) {
      c.down = true;
      --live_;
    }
  }
  if (!c.down && more_to_issue()) {
    if (!plan_.schedule) {
      issue(c, now);
    } else if (const time_point intended = plan_.schedule->intended(c.due); intended <= now) {
      // Due (or late): out at once, its latency counted from when it was due.
      issue(c, intended);
      c.due = plan_.schedule->next_due(c.due);
    } else if (!plan_.schedule->exact()) {
      arm_pacer_for(c.due);  // room again, and not due yet: make sure the pacer wakes for it
    }
  }
  if (in_flight_ == 0) maybe_finish();
}

// The pacing timer: sends every request that is due on a connection with room, then sleeps
// until the next one is due (or, busy polling, until the next loop turn).
void shard::pace() {
  if (!more_to_issue()) return maybe_finish();
  clock_->forget();  // a hit's reply, completing in here, reads the clock afresh
  const time_point now = batch_clock::now_fresh();
  const rate_schedule& schedule = *plan_.schedule;
  std::optional<time_point> earliest;
  for (auto& cp : clients_) {
    client& c = *cp;
    while (!c.down && c.in_flight < c.depth && more_to_issue() && schedule.intended(c.due) <= now) {
      issue(c, schedule.intended(c.due));
      c.due = schedule.next_due(c.due);
    }
    // A full connection is served by its replies; only one with room needs a wake-up.
    if (!c.down && c.in_flight < c.depth && (!earliest || c.due < *earliest)) earliest = c.due;
  }
  if (!more_to_issue()) return maybe_finish();
  reactor::timer_wheel& wheel = reactor_->timers();
  if (schedule.exact()) {
    // Due at the wheel's current tick: fires at the end of the next loop turn.
    wheel.rearm(pacer_, wheel.current());
  } else if (earliest) {
    arm_pacer_for(*earliest);
  }
}

void shard::arm_pacer_for(time_point due) {
  const time_point when = plan_.schedule->intended(due);
  if (!pacer_.armed() || pacer_.deadline() > when) reactor_->timers().rearm(pacer_, when);
}

void shard::on_deadline() {
  issuing_ = false;
  pacer_.cancel();
  maybe_finish();
}

void shard::maybe_finish() {
  if (!measuring_ || more_to_issue() || in_flight_ > 0) return;
  measuring_ = false;
  issuing_ = false;
  latencies_.flush();
  pacer_.cancel();
  deadline_.cancel();
  result_.reconnects = reconnects_so_far() - reconnects_at_start_;
  const cache::store_stats now = cache_so_far();
  result_.cache = now;
  result_.cache.hits -= cache_at_start_.hits;
  result_.cache.misses -= cache_at_start_.misses;
  result_.cache.waits -= cache_at_start_.waits;
  result_.cache.invalidations -= cache_at_start_.invalidations;
  result_.cache.evictions -= cache_at_start_.evictions;
  result_.cache.expirations -= cache_at_start_.expirations;
  result_.cache.flushes -= cache_at_start_.flushes;
  result_.cache.not_stored -= cache_at_start_.not_stored;
  barrier_.arrive([this] { *end_ = process_usage::now(); });
}

std::uint64_t shard::reconnects_so_far() const noexcept {
  // Every connection on this shard's reactor is this test's (the runtime runs nothing else).
  return reactor_->events().stats().reconnected;
}

cache::store_stats shard::cache_so_far() const noexcept {
  cache::store_stats sum;
  for (const auto& c : clients_) {
    const cache::driver* d = c->conn ? c->conn->cache() : nullptr;
    if (d == nullptr) continue;
    const cache::store_stats& s = d->stats();
    sum.hits += s.hits;
    sum.misses += s.misses;
    sum.waits += s.waits;
    sum.invalidations += s.invalidations;
    sum.evictions += s.evictions;
    sum.expirations += s.expirations;
    sum.flushes += s.flushes;
    sum.not_stored += s.not_stored;
    sum.entries += s.entries;
    sum.bytes += s.bytes;
  }
  return sum;
}

void shard::teardown() {
  measuring_ = false;
  issuing_ = false;
  latencies_.flush();
  pacer_.cancel();
  deadline_.cancel();
  resume_.cancel();
  for (auto& c : clients_)
    if (c->conn) c->conn->close();
  // Before the clients: destroying it completes what it still holds, whose callbacks name them.
  cluster_.reset();
  clients_.clear();
  requests_.reset();
  clock_.reset();
  barrier_.arrive();
}

}  // namespace uredis::bench
