#include "run.hpp"

#include <memory>
#include <optional>
#include <vector>

#include "keys.hpp"
#include "phase_barrier.hpp"
#include "process_usage.hpp"
#include "progress.hpp"
#include "shard.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::bench {
namespace {

// The share of `total` that part `i` of `parts` gets: the remainder goes to the first ones.
std::uint64_t share(std::uint64_t total, std::size_t parts, std::size_t i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

// Posts `fn` (given a shard) to every shard; a shard that refuses it is counted as arrived, so
// the barrier still opens. Returns false if any refused.
template <class Fn>
bool post_to_all(runtime& rt, std::vector<std::unique_ptr<shard>>& shards, phase_barrier& barrier,
                 Fn fn) {
  bool all = true;
  barrier.reset(shards.size());
  for (std::size_t i = 0; i < shards.size(); ++i) {
    shard* s = shards[i].get();
    if (!rt.submit_to(static_cast<unsigned>(i), [s, fn] { fn(*s); })) {
      all = false;
      barrier.arrive();
    }
  }
  return all;
}

}  // namespace

bool run_test(runtime& rt, const options& o, const connection_config& config, const workload& work,
              test_report& report, std::string& error, const private_server* server) {
  const std::size_t count = rt.shard_count();
  std::optional<rate_schedule> schedule;
  if (o.rate > 0) schedule.emplace(o.rate, o.clients, /*exact=*/o.busy_poll);

  phase_barrier barrier;
  std::vector<std::unique_ptr<shard>> shards;
  std::size_t first_client = 0;
  for (std::size_t i = 0; i < count; ++i) {
    shard_plan plan;
    plan.work = work;
    plan.config = config;
    plan.index = i;
    plan.shards = count;
    plan.clients = share(o.clients, count, i);
    plan.first_client = first_client;
    plan.total_clients = o.clients;
    plan.pipeline = o.pipeline;
    plan.requests = share(o.requests, count, i);
    plan.duration = o.duration;
    plan.schedule = schedule;
    plan.keys = o.keys;
    plan.keyspace = o.keyspace;
    plan.zipf_exponent = o.zipf_exponent;
    plan.data_size = o.data_size;
    plan.seed = (std::uint64_t{i} << 32) + 1;
    plan.cluster = o.cluster;
    first_client += plan.clients;
    shards.push_back(std::make_unique<shard>(std::move(plan), barrier));
  }

  // Set-up.
  bool posted = post_to_all(rt, shards, barrier, [](shard& s) { s.setup(); });
  barrier.wait();
  for (const auto& s : shards)
    if (!s->result().failure.empty() && error.empty()) error = s->result().failure;
  if (!posted && error.empty()) error = "a shard refused the test (the runtime is stopping)";

  // Measured phase.
  process_usage begin;
  process_usage end;
  std::optional<std::chrono::nanoseconds> server_begin;
  std::optional<std::chrono::nanoseconds> server_end;
  if (error.empty()) {
    progress_line progress(!o.quiet && progress_line::stderr_is_terminal());
    if (server != nullptr) server_begin = server->cpu_time();
    begin = process_usage::now();
    const auto t0 = begin.wall;
    process_usage* end_figures = &end;
    posted = post_to_all(rt, shards, barrier,
                         [t0, end_figures](shard& s) { s.start(t0, *end_figures); });
    while (!barrier.wait_for(progress_line::period)) {
      std::uint64_t completed = 0;
      for (const auto& s : shards)
        completed += s->completed();
      progress.update(work.title(), completed, std::chrono::steady_clock::now() - t0);
    }
    // The server is idle now: every request has been answered, and teardown has not begun.
    if (server != nullptr) server_end = server->cpu_time();
    progress.clear();
    if (!posted) error = "a shard refused the test (the runtime is stopping)";
  }

  // Teardown, whatever happened: the connections belong to the shards' threads.
  post_to_all(rt, shards, barrier, [](shard& s) { s.teardown(); });
  barrier.wait();
  if (!error.empty()) return false;

  auto merged = std::make_unique<util::histogram>();  // ~16 KiB: not on the stack
  report = test_report{};
  report.title = work.title();
  for (const auto& s : shards) {
    const shard_result& r = s->result();
    merged->merge(r.latency);
    report.requests += r.completed;
    report.errors += r.errors;
    report.reconnects += r.reconnects;
    report.cache.hits += r.cache.hits;
    report.cache.misses += r.cache.misses;
    report.cache.waits += r.cache.waits;
    report.cache.invalidations += r.cache.invalidations;
    report.cache.evictions += r.cache.evictions;
    report.cache.expirations += r.cache.expirations;
    report.cache.flushes += r.cache.flushes;
    report.cache.not_stored += r.cache.not_stored;
    report.cache.entries += r.cache.entries;
    report.cache.bytes += r.cache.bytes;
  }
  report.seconds = std::chrono::duration<double>(end.wall - begin.wall).count();
  report.ops_per_sec =
      report.seconds > 0 ? static_cast<double>(report.requests) / report.seconds : 0;
  report.client_cpu_ns_per_op = report.requests > 0
                                    ? static_cast<double>((end.cpu - begin.cpu).count()) /
                                          static_cast<double>(report.requests)
                                    : 0;
  report.allocations = end.allocations - begin.allocations;
  if (server_begin && server_end && report.requests > 0)
    report.server_cpu_ns_per_op = static_cast<double>((*server_end - *server_begin).count()) /
                                  static_cast<double>(report.requests);
  report.set_latency(*merged);
  return true;
}

namespace {

// prefill_keys()'s state: one connection on shard 0, at most `window` SETs in flight.
struct prefiller {
  static constexpr std::uint64_t window = 256;

  prefiller(phase_barrier& barrier, const options& o, const connection_config& c)
      : barrier(barrier),
        config(c),
        total(o.keyspace > 0 ? o.keyspace : 1),
        value(o.data_size, 'x'),
        keys(key_pattern::sequential, o.keyspace, o.zipf_exponent, 0, 1, 1) {
    config.cache = {};  // the SETs need no cache
  }

  phase_barrier& barrier;
  connection_config config;
  std::uint64_t total;
  std::string value;
  key_source keys;
  std::unique_ptr<connection> conn;
  std::uint64_t sent = 0;
  std::uint64_t done = 0;
  bool pumping = false;
  bool finished = false;
  std::string failure;

  template <class T>
  static std::string why(const uredis::result<T>& r) {
    return r.has_error() ? r.error().message() : r.server_error().message;
  }

  void start() {
    reactor::reactor* loop = reactor::reactor::current();
    if (loop == nullptr) return fail("no reactor on shard 0");
    conn = std::make_unique<connection>(*loop, config);
    conn->connect([this](const uredis::result<void>& r) {
      if (!r) return fail("cannot connect: " + why(r));
      pump();
    });
  }
  // Sends until the window is full; a reply calls it again (not recursively: a connection that
  // fails every request at once completes them inside exec()).
  void pump() {
    if (pumping) return;
    pumping = true;
    while (!finished && sent < total && sent - done < window) {
      ++sent;
      conn->exec(cmd::set{keys.key("key:"), value}, [this](uredis::result<cmd::applied> r) {
        if (!r) fail("SET: " + why(r));
        if (++done == total) finish();
        if (!finished) pump();
      });
    }
    pumping = false;
  }
  void fail(std::string message) {
    if (failure.empty()) failure = std::move(message);
    finish();
  }
  void finish() {
    if (finished) return;
    finished = true;
    barrier.arrive();
  }
};

}  // namespace

bool prefill_keys(runtime& rt, const options& o, const connection_config& config,
                  std::string& error) {
  phase_barrier barrier;
  auto p = std::make_unique<prefiller>(barrier, o, config);
  prefiller* raw = p.get();
  barrier.reset(1);
  if (!rt.submit_to(0, [raw] { raw->start(); })) {
    error = "prefill: shard 0 refused it (the runtime is stopping)";
    return false;
  }
  barrier.wait();
  // The connection belongs to shard 0's thread: closed and destroyed there.
  barrier.reset(1);
  if (rt.submit_to(0, [raw, &barrier] {
        if (raw->conn) raw->conn->close();
        raw->conn.reset();
        barrier.arrive();
      })) {
    barrier.wait();
  }
  if (!raw->failure.empty()) {
    error = "prefill: " + raw->failure;
    return false;
  }
  return true;
}

}  // namespace uredis::bench
