// The hot paths under the RESP layer, each beside the standard-library structure a client would
// otherwise use for the same job (its "peer"):
//
//   pipeline/*     push N commands into proto::pipeline, feed it the N canned replies: the cost
//                  per command of the pending FIFO (queue, activate, adapt, complete), against a
//                  std::deque<std::function> FIFO driven by the same parser; and the same with
//                  each command's request bytes encoded and tracked as a connection does.
//   timer/*        reactor::timer_wheel on a manual_clock (arm+cancel, arm+fire, rearm), against
//                  std::multimap / std::priority_queue timer sets, with and without 10 000 other
//                  timers armed.
//   spsc/*, mailbox/*, runtime/*
//                  a task crossing threads: util::spsc_queue one-way and round trip, against a
//                  std::mutex + std::deque<std::function> queue; reactor::mailbox post/drain; and
//                  runtime::submit_to between two shards, busy-polling or sleeping, against a
//                  std::condition_variable hand-off. Both threads are pinned to different CPUs
//                  when the process may use two.
//   function/*, callback_fifo/*
//                  util::inline_function against std::function: call, construct+move+destroy
//                  (with a capture that fits std::function's small buffer and one that does not),
//                  and a FIFO of callbacks (util::ring_buffer vs std::deque).
//
// Counters: `sec/op` is the time per command / timer / task / call (e.g. 12.3n = 12.3 ns). The
// cross-thread rows report real time (both threads work; the benchmark's CPU time is the
// calling thread's only).

#include <benchmark/benchmark.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "allowed_cpus.hpp"
#include "latency_samples.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/pipeline.hpp"
#include "uredis/reactor/mailbox.hpp"
#include "uredis/reactor/runtime.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/ring_buffer.hpp"
#include "uredis/util/spsc_queue.hpp"

namespace {

using namespace std::chrono_literals;
using uredis::bench::allowed_cpus;

// Time per operation, `ops` operations per iteration.
void per_op(benchmark::State& state, std::size_t ops) {
  state.counters["sec/op"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsIterationInvariantRate |
                                                       benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ops));
}

// --- CPU pinning ------------------------------------------------------------------------------

// Read before main(), so before any benchmark pins the main thread (the affinity of a thread is
// what sched_getaffinity reports, and the runtime reads it too).
const std::vector<int> process_cpus = allowed_cpus();

// Pins the calling thread to the index-th allowed CPU; does nothing with fewer than two (the
// threads then share whatever the scheduler gives them).
void pin_self(std::size_t index) {
  if (process_cpus.size() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(process_cpus[index % process_cpus.size()], &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

// Undoes pin_self() for the calling thread (the main thread runs every benchmark, and threads it
// starts inherit its affinity).
void unpin_self() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : process_cpus)
    CPU_SET(c, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

// --- pipeline: the pending FIFO ---------------------------------------------------------------

constexpr std::size_t pipeline_depth = 256;

// N replies to GET: bulk strings of 16 bytes ("$16\r\nvalue:00000000\r\n" and so on).
std::string canned_get_replies(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string v = "value:" + std::to_string(i);
    v.resize(16, 'x');
    out += "$16\r\n" + v + "\r\n";
  }
  return out;
}

// The least a handler can do: count the command done and touch the value. Queued, it is one
// pointer (as a coroutine awaiter's handler is).
struct counting_handler {
  std::size_t* done;

  void on_complete(const uredis::proto::reply_outcome&) { ++*done; }

  struct active {
    explicit active(counting_handler&& queued) noexcept : done(queued.done) {}
    void on_node(const uredis::resp::node& n) { size += n.value.size(); }
    void on_complete(const uredis::proto::reply_outcome& o) {
      benchmark::DoNotOptimize(size);
      *done += o.error ? 0 : 1;
    }
    std::size_t* done;
    std::size_t size = 0;
  };
};

void pipeline_feed_check(benchmark::State& state, const uredis::proto::pipeline::feed_result& r,
                         std::size_t bytes, std::size_t done, std::size_t expected) {
  if (r.error || r.consumed != bytes || done != expected) state.SkipWithError("pipeline: bad feed");
}

// push N pending{counting_handler}, feed N replies.
void BM_uredis_pipeline_counting(benchmark::State& state) {
  const std::string replies = canned_get_replies(pipeline_depth);
  uredis::proto::pipeline p;
  std::size_t done = 0;
  for (auto _ : state) {
    done = 0;
    for (std::size_t i = 0; i < pipeline_depth; ++i)
      p.push(counting_handler{&done});
    const auto r = p.feed(replies);
    pipeline_feed_check(state, r, replies.size(), done, pipeline_depth);
  }
  per_op(state, pipeline_depth);
}
BENCHMARK(BM_uredis_pipeline_counting)->Name("uredis_pipeline/counting_handler/256");

// The handler exec() builds: callback_handler<optional<string_view>, lambda> (the value is
// adapted and handed to the callback, as `conn.exec(get_view{k}, cb)` does).
void BM_uredis_pipeline_callback(benchmark::State& state) {
  const std::string replies = canned_get_replies(pipeline_depth);
  uredis::proto::pipeline p;
  std::size_t done = 0;
  std::size_t bytes = 0;
  auto callback = [&done, &bytes](uredis::result<std::optional<std::string_view>> r) {
    if (r && *r) bytes += (*r)->size();
    ++done;
  };
  using handler =
      uredis::proto::callback_handler<std::optional<std::string_view>, decltype(callback)>;
  for (auto _ : state) {
    done = 0;
    for (std::size_t i = 0; i < pipeline_depth; ++i)
      p.push(handler{callback});
    const auto r = p.feed(replies);
    pipeline_feed_check(state, r, replies.size(), done, pipeline_depth);
  }
  benchmark::DoNotOptimize(bytes);
  per_op(state, pipeline_depth);
}
BENCHMARK(BM_uredis_pipeline_callback)->Name("uredis_pipeline/callback_handler/256");

using std_fifo = std::deque<std::function<void(const uredis::resp::node&, bool)>>;

// The std peer's read loop: each node goes to the oldest callback, which leaves the FIFO when
// its reply is whole. False on a parse failure or a reply nobody waits for.
bool feed_std_fifo(uredis::resp::parser& parser, std_fifo& fifo, std::string_view rest) {
  uredis::resp::node n;
  while (!rest.empty()) {
    const uredis::resp::step s = parser.next(rest, n);
    if (s.status != uredis::resp::outcome::node || fifo.empty()) return false;
    rest.remove_prefix(s.consumed);
    const bool whole = parser.done();
    fifo.front()(n, whole);
    if (whole) fifo.pop_front();
  }
  return true;
}

// The peer: a std::deque<std::function<void(const node&)>> FIFO, the same parser, the same work
// per node; the head is popped when its reply is whole. (What a client built from std parts does;
// hiredis' async API keeps a malloc'ed linked list of callbacks instead.)
void BM_std_pipeline(benchmark::State& state) {
  const std::string replies = canned_get_replies(pipeline_depth);
  uredis::resp::parser parser;
  std_fifo fifo;
  std::size_t done = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    done = 0;
    for (std::size_t i = 0; i < pipeline_depth; ++i) {
      fifo.emplace_back([&done, &bytes](const uredis::resp::node& n, bool whole) {
        bytes += n.value.size();
        done += whole ? 1 : 0;
      });
    }
    if (!feed_std_fifo(parser, fifo, replies)) {
      state.SkipWithError("std pipeline: parse failed");
      return;
    }
    if (done != pipeline_depth) state.SkipWithError("std pipeline: wrong count");
  }
  benchmark::DoNotOptimize(bytes);
  per_op(state, pipeline_depth);
}
BENCHMARK(BM_std_pipeline)->Name("std_deque_function_pipeline/256");

// A connection's whole per-command path in the pipeline: encode `GET key` into requests(), push
// with its length (the bytes stay until the reply completes, for resending), hand every byte to
// the "socket" (mark_sent), then feed the replies.
void BM_uredis_pipeline_with_requests(benchmark::State& state) {
  const std::string replies = canned_get_replies(pipeline_depth);
  const std::string key = "key:__rand_int__";
  uredis::proto::pipeline p;
  std::size_t done = 0;
  for (auto _ : state) {
    done = 0;
    for (std::size_t i = 0; i < pipeline_depth; ++i) {
      const std::size_t before = p.requests().data().size();
      uredis::resp::encoder e{p.requests()};
      e.command("GET", key);
      uredis::proto::request r;
      r.length = static_cast<std::uint32_t>(p.requests().data().size() - before);
      p.push(uredis::proto::pending{counting_handler{&done}}, r);
    }
    p.begin_send();
    p.end_send();
    const auto r = p.feed(replies);
    pipeline_feed_check(state, r, replies.size(), done, pipeline_depth);
    if (!p.request_bytes().empty()) state.SkipWithError("pipeline: request bytes left");
  }
  per_op(state, pipeline_depth);
}
BENCHMARK(BM_uredis_pipeline_with_requests)
    ->Name("uredis_pipeline/counting_handler_with_requests/256");

// The peer of the above: the same encoder into a byte buffer, drained once all replies are in,
// and the std::deque<std::function> FIFO.
void BM_std_pipeline_with_requests(benchmark::State& state) {
  const std::string replies = canned_get_replies(pipeline_depth);
  const std::string key = "key:__rand_int__";
  uredis::util::byte_buffer out;
  uredis::resp::parser parser;
  std_fifo fifo;
  std::size_t done = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    done = 0;
    for (std::size_t i = 0; i < pipeline_depth; ++i) {
      uredis::resp::encoder e{out};
      e.command("GET", key);
      fifo.emplace_back([&done, &bytes](const uredis::resp::node& n, bool whole) {
        bytes += n.value.size();
        done += whole ? 1 : 0;
      });
    }
    benchmark::DoNotOptimize(out.data().data());
    out.consume(out.data().size());
    if (!feed_std_fifo(parser, fifo, replies)) {
      state.SkipWithError("std pipeline: parse failed");
      return;
    }
    if (done != pipeline_depth) state.SkipWithError("std pipeline: wrong count");
  }
  benchmark::DoNotOptimize(bytes);
  per_op(state, pipeline_depth);
}
BENCHMARK(BM_std_pipeline_with_requests)->Name("std_deque_function_pipeline_with_requests/256");

// --- timers -----------------------------------------------------------------------------------

// The arguments of every timer benchmark: how many other timers are armed meanwhile (far
// deadlines, 1 s to 1 h, as command deadlines and health checks are).
constexpr std::int64_t background_timers = 10000;

std::vector<std::chrono::milliseconds> background_delays(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> ms(1000, 3600 * 1000);
  std::vector<std::chrono::milliseconds> out;
  for (std::size_t i = 0; i < n; ++i)
    out.emplace_back(ms(rng));
  return out;
}

// A wheel with `n` timers armed in the background.
struct loaded_wheel {
  uredis::util::manual_clock clock{uredis::util::clock::time_point{} + 1h};
  uredis::reactor::timer_wheel wheel{clock};
  std::unique_ptr<uredis::reactor::timer[]> others;

  explicit loaded_wheel(std::size_t n) : others(new uredis::reactor::timer[n]) {
    const auto delays = background_delays(n);
    for (std::size_t i = 0; i < n; ++i) {
      others[i].set_callback([] {});
      wheel.arm_in(others[i], delays[i]);
    }
  }
};

// The peer's timer set: ordered by deadline, cancelled through the iterator arm returned (as
// Boost.Asio's and many event loops' timer queues are; libuv's is a heap).
using std_timer_set = std::multimap<std::chrono::steady_clock::time_point, std::function<void()>>;

struct loaded_std_set {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 1h;
  std_timer_set set;
  explicit loaded_std_set(std::size_t n) {
    for (auto d : background_delays(n))
      set.emplace(now + d, [] {});
  }
};

void BM_uredis_timer_arm_cancel(benchmark::State& state) {
  loaded_wheel w(static_cast<std::size_t>(state.range(0)));
  std::size_t fired = 0;
  uredis::reactor::timer t{[&fired] { ++fired; }};
  for (auto _ : state) {
    w.wheel.arm_in(t, 5s);
    benchmark::DoNotOptimize(t.cancel());
  }
  per_op(state, 1);
}
BENCHMARK(BM_uredis_timer_arm_cancel)
    ->Name("uredis_timer/arm_cancel")
    ->Arg(0)
    ->Arg(background_timers);

void BM_std_timer_arm_cancel(benchmark::State& state) {
  loaded_std_set s(static_cast<std::size_t>(state.range(0)));
  std::size_t fired = 0;
  for (auto _ : state) {
    auto it = s.set.emplace(s.now + 5s, [&fired] { ++fired; });
    s.set.erase(it);
  }
  per_op(state, 1);
}
BENCHMARK(BM_std_timer_arm_cancel)
    ->Name("std_multimap_timer/arm_cancel")
    ->Arg(0)
    ->Arg(background_timers);

// Arm for 1 ms, move the clock 1 ms, advance: the timer fires. Per timer fired.
void BM_uredis_timer_arm_fire(benchmark::State& state) {
  loaded_wheel w(static_cast<std::size_t>(state.range(0)));
  std::size_t fired = 0;
  uredis::reactor::timer t{[&fired] { ++fired; }};
  for (auto _ : state) {
    w.wheel.arm_in(t, 1ms);
    w.clock.advance(1ms);
    w.wheel.advance();
  }
  if (fired != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("timer did not fire");
  per_op(state, 1);
}
BENCHMARK(BM_uredis_timer_arm_fire)->Name("uredis_timer/arm_fire")->Arg(0)->Arg(background_timers);

// The peer: a binary heap of (deadline, callback), popped while due.
void BM_std_timer_arm_fire(benchmark::State& state) {
  using entry = std::pair<std::chrono::steady_clock::time_point, std::function<void()>>;
  struct later {
    bool operator()(const entry& a, const entry& b) const { return a.first > b.first; }
  };
  std::priority_queue<entry, std::vector<entry>, later> heap;
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  for (auto d : background_delays(static_cast<std::size_t>(state.range(0))))
    heap.emplace(now + d, [] {});
  std::size_t fired = 0;
  for (auto _ : state) {
    heap.emplace(now + 1ms, [&fired] { ++fired; });
    now += 1ms;
    while (!heap.empty() && heap.top().first <= now) {
      auto fn = std::move(const_cast<entry&>(heap.top()).second);
      heap.pop();
      fn();
    }
  }
  if (fired != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("timer did not fire");
  per_op(state, 1);
}
BENCHMARK(BM_std_timer_arm_fire)->Name("std_heap_timer/arm_fire")->Arg(0)->Arg(background_timers);

// 1024 timers armed 1..1024 ms ahead (they cascade through two levels), then one advance over
// all of them. Per timer fired.
void BM_uredis_timer_fire_batch(benchmark::State& state) {
  constexpr std::size_t n = 1024;
  uredis::util::manual_clock clock{uredis::util::clock::time_point{} + 1h};
  uredis::reactor::timer_wheel wheel{clock};
  std::size_t fired = 0;
  std::unique_ptr<uredis::reactor::timer[]> timers(new uredis::reactor::timer[n]);
  for (std::size_t i = 0; i < n; ++i)
    timers[i].set_callback([&fired] { ++fired; });
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i)
      wheel.arm_in(timers[i], std::chrono::milliseconds(1 + i));
    clock.advance(std::chrono::milliseconds(n));
    wheel.advance();
  }
  if (fired != static_cast<std::size_t>(state.iterations()) * n)
    state.SkipWithError("timers did not fire");
  per_op(state, n);
}
BENCHMARK(BM_uredis_timer_fire_batch)->Name("uredis_timer/arm_fire_batch/1024");

void BM_std_timer_fire_batch(benchmark::State& state) {
  constexpr std::size_t n = 1024;
  using entry = std::pair<std::chrono::steady_clock::time_point, std::function<void()>>;
  struct later {
    bool operator()(const entry& a, const entry& b) const { return a.first > b.first; }
  };
  std::priority_queue<entry, std::vector<entry>, later> heap;
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  std::size_t fired = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i)
      heap.emplace(now + std::chrono::milliseconds(1 + i), [&fired] { ++fired; });
    now += std::chrono::milliseconds(n);
    while (!heap.empty() && heap.top().first <= now) {
      auto fn = std::move(const_cast<entry&>(heap.top()).second);
      heap.pop();
      fn();
    }
  }
  if (fired != static_cast<std::size_t>(state.iterations()) * n)
    state.SkipWithError("timers did not fire");
  per_op(state, n);
}
BENCHMARK(BM_std_timer_fire_batch)->Name("std_heap_timer/arm_fire_batch/1024");

// Push an armed timer's deadline back (a command deadline or idle timeout refreshed), to one of
// 64 delays so it moves between buckets.
void BM_uredis_timer_rearm(benchmark::State& state) {
  loaded_wheel w(static_cast<std::size_t>(state.range(0)));
  uredis::reactor::timer t{[] {}};
  w.wheel.arm_in(t, 1s);
  std::size_t i = 0;
  for (auto _ : state)
    w.wheel.rearm_in(t, 1s + std::chrono::milliseconds(++i & 63));
  per_op(state, 1);
}
BENCHMARK(BM_uredis_timer_rearm)->Name("uredis_timer/rearm")->Arg(0)->Arg(background_timers);

void BM_std_timer_rearm(benchmark::State& state) {
  loaded_std_set s(static_cast<std::size_t>(state.range(0)));
  auto it = s.set.emplace(s.now + 1s, [] {});
  std::size_t i = 0;
  for (auto _ : state) {
    // Re-keying a node without reallocating it (C++17 node handles): the cheapest std rearm.
    auto node = s.set.extract(it);
    node.key() = s.now + 1s + std::chrono::milliseconds(++i & 63);
    it = s.set.insert(std::move(node));
  }
  per_op(state, 1);
}
BENCHMARK(BM_std_timer_rearm)->Name("std_multimap_timer/rearm")->Arg(0)->Arg(background_timers);

// --- a task crossing threads --------------------------------------------------------------------

using task = uredis::util::inline_function<void(), 64>;  // the mailbox's task type
constexpr std::size_t queue_capacity = 256;              // the mailbox's per-sender capacity

// What the consumer side counts, on a line of its own: on the producer's stack next to its
// locals it would bounce between the cores on every task (false sharing), which is not what the
// queues cost.
struct alignas(uredis::util::false_sharing_range) task_counter {
  std::atomic<std::size_t> n{0};
};

// The peer queue: a std::deque of std::function under a std::mutex, bounded like the spsc queue
// (the producer waits while it holds `capacity` tasks) so both measure a steady state.
class locked_queue {
 public:
  bool try_push(std::function<void()>&& f) {
    std::lock_guard lock(mutex_);
    if (q_.size() == queue_capacity) return false;
    q_.push_back(std::move(f));
    return true;
  }
  bool try_pop(std::function<void()>& out) {
    std::lock_guard lock(mutex_);
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> q_;
};

// A consumer thread, pinned to the second CPU, running what `Queue` delivers until told to stop.
template <class Queue, class Fn>
class consumer_thread {
 public:
  explicit consumer_thread(Queue& q)
      : thread_([this, &q] {
          pin_self(1);
          Fn f;
          while (!stop_.load(std::memory_order_relaxed)) {
            if (q.try_pop(f)) f();
          }
          while (q.try_pop(f))
            f();
        }) {}
  ~consumer_thread() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One-way: the benchmark thread pushes tasks (spinning while the queue is full), the consumer
// runs them. Per task, at the steady rate the slower side sets.
template <class Queue, class Fn>
void one_way(benchmark::State& state, Queue& q) {
  pin_self(0);
  task_counter ran;
  {
    consumer_thread<Queue, Fn> consumer(q);
    for (auto _ : state) {
      Fn f = [&ran] { ran.n.fetch_add(1, std::memory_order_relaxed); };
      while (!q.try_push(std::move(f))) {
      }
    }
  }
  unpin_self();
  if (ran.n.load() != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("tasks lost");
  per_op(state, 1);
}

void BM_uredis_spsc_one_way(benchmark::State& state) {
  auto q = std::make_unique<uredis::util::spsc_queue<task, queue_capacity>>();
  one_way<uredis::util::spsc_queue<task, queue_capacity>, task>(state, *q);
}
BENCHMARK(BM_uredis_spsc_one_way)->Name("uredis_spsc/one_way")->UseRealTime();

void BM_std_locked_one_way(benchmark::State& state) {
  locked_queue q;
  one_way<locked_queue, std::function<void()>>(state, q);
}
BENCHMARK(BM_std_locked_one_way)->Name("std_mutex_deque/one_way")->UseRealTime();

// Round trip: the benchmark thread sends a task that sends one back; it waits (spinning) for
// the answer before the next. Per round trip: two hops, each a cache-line transfer both ways.
template <class Queue, class Fn>
void round_trip(benchmark::State& state, Queue& there, Queue& back) {
  pin_self(0);
  std::size_t answered = 0;
  {
    consumer_thread<Queue, Fn> echo(there);
    for (auto _ : state) {
      Fn f = [&back, &answered] {
        Fn reply = [&answered] { ++answered; };
        while (!back.try_push(std::move(reply))) {
        }
      };
      while (!there.try_push(std::move(f))) {
      }
      Fn r;
      while (!back.try_pop(r)) {
      }
      r();
    }
  }
  unpin_self();
  if (answered != static_cast<std::size_t>(state.iterations())) state.SkipWithError("answers lost");
  per_op(state, 1);
}

void BM_uredis_spsc_round_trip(benchmark::State& state) {
  using queue = uredis::util::spsc_queue<task, queue_capacity>;
  auto there = std::make_unique<queue>();
  auto back = std::make_unique<queue>();
  round_trip<queue, task>(state, *there, *back);
}
BENCHMARK(BM_uredis_spsc_round_trip)->Name("uredis_spsc/round_trip")->UseRealTime();

void BM_std_locked_round_trip(benchmark::State& state) {
  locked_queue there;
  locked_queue back;
  round_trip<locked_queue, std::function<void()>>(state, there, back);
}
BENCHMARK(BM_std_locked_round_trip)->Name("std_mutex_deque/round_trip")->UseRealTime();

// reactor::mailbox: post() from the benchmark thread, drain() on a busy owner (one that never
// announces a sleep, so no post pays for a wake-up: the fence and the queue only).
void BM_uredis_mailbox_one_way(benchmark::State& state) {
  auto made = uredis::reactor::mailbox::create(1);
  if (!made) {
    state.SkipWithError("mailbox::create failed");
    return;
  }
  uredis::reactor::mailbox& box = **made;
  pin_self(0);
  task_counter ran;
  std::atomic<bool> stop{false};
  std::thread owner([&] {
    pin_self(1);
    while (!stop.load(std::memory_order_relaxed))
      box.drain();
    box.drain();
  });
  for (auto _ : state) {
    while (!box.post(0, task([&ran] { ran.n.fetch_add(1, std::memory_order_relaxed); }))) {
    }
  }
  stop.store(true);
  owner.join();
  unpin_self();
  if (ran.n.load() != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("tasks lost");
  per_op(state, 1);
}
BENCHMARK(BM_uredis_mailbox_one_way)->Name("uredis_mailbox/one_way_busy_owner")->UseRealTime();

// runtime::submit_to between two shards: one task bounces shard 0 -> shard 1 -> shard 0 `hops`
// times; the benchmark thread (the runtime's owner) starts it and sleeps until it is done. Per
// round trip (the mean, and p50/p99 of each round trip as shard 0 sees it). With busy_poll the
// shards spin (each on its own CPU); without, each hop wakes a shard sleeping in io_uring_enter
// through its mailbox's eventfd.
struct bounce {
  uredis::runtime* rt;
  std::size_t left;
  latency_samples* samples;
  std::chrono::steady_clock::time_point last{};
  std::atomic<bool> finished{false};
};

struct bounce_on_1 {
  bounce* b;
  void operator()() const;
};
struct bounce_on_0 {
  bounce* b;
  void operator()() const {
    const auto now = std::chrono::steady_clock::now();
    if (b->last != std::chrono::steady_clock::time_point{}) b->samples->add(now - b->last);
    b->last = now;
    if (b->left == 0) {
      b->finished.store(true, std::memory_order_release);
      b->finished.notify_one();
      return;
    }
    --b->left;
    while (!b->rt->submit_to(1, bounce_on_1{b})) {
    }
  }
};
void bounce_on_1::operator()() const {
  while (!b->rt->submit_to(0, bounce_on_0{b})) {
  }
}

void BM_uredis_runtime_round_trip(benchmark::State& state) {
  constexpr std::size_t hops = 1000;
  uredis::runtime_options options;
  options.shards = 2;
  options.pin = process_cpus.size() >= 2;
  options.busy_poll = state.range(0) != 0;
  auto made = uredis::runtime::create(options);
  if (!made) {
    state.SkipWithError("runtime::create failed (needs 2 CPUs and io_uring)");
    return;
  }
  uredis::runtime& rt = **made;
  latency_samples samples;
  for (auto _ : state) {
    bounce b{&rt, hops, &samples};
    while (!rt.submit_to(0, bounce_on_0{&b})) {
    }
    b.finished.wait(false, std::memory_order_acquire);
  }
  rt.stop();
  per_op(state, hops);
  samples.report(state);
}
BENCHMARK(BM_uredis_runtime_round_trip)
    ->Name("uredis_runtime/submit_to_round_trip")
    ->ArgName("busy_poll")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime();

// The peer of the sleeping case: two threads handing a token back and forth through a
// std::mutex and std::condition_variable (each side sleeps in the kernel until woken).
void BM_std_condvar_round_trip(benchmark::State& state) {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;  // 0: the benchmark thread's, 1: the echo's, -1: stop
  pin_self(0);
  std::thread echo([&] {
    pin_self(1);
    std::unique_lock lock(m);
    for (;;) {
      cv.wait(lock, [&] { return turn != 0; });
      if (turn < 0) return;
      turn = 0;
      cv.notify_all();
    }
  });
  latency_samples samples;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(m);
    turn = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return turn == 0; });
    samples.add(std::chrono::steady_clock::now() - start);
  }
  {
    std::lock_guard lock(m);
    turn = -1;
  }
  cv.notify_all();
  echo.join();
  unpin_self();
  per_op(state, 1);
  samples.report(state);
}
BENCHMARK(BM_std_condvar_round_trip)->Name("std_condvar/round_trip")->UseRealTime();

// --- inline_function vs std::function -----------------------------------------------------------

// Calls through the wrapper; DoNotOptimize on the wrapper makes the compiler forget what it
// holds, so the call stays indirect on both sides.
template <class F>
void call(benchmark::State& state) {
  std::uint64_t sum = 0;
  F f = [&sum](std::uint64_t v) { sum += v; };
  std::uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f);
    f(++i);
  }
  benchmark::DoNotOptimize(sum);
  per_op(state, 1);
}
BENCHMARK(call<uredis::util::inline_function<void(std::uint64_t), 32>>)
    ->Name("uredis_inline_function/call");
BENCHMARK(call<std::function<void(std::uint64_t)>>)->Name("std_function/call");

// Construct from a lambda with `Captures` pointer captures, move it into a second wrapper (as
// queueing does), destroy both. libstdc++'s std::function stores up to 16 bytes inline and
// allocates beyond; inline_function never allocates.
template <class F, std::size_t Captures>
void construct_move(benchmark::State& state) {
  std::uint64_t sum = 0;
  std::uint64_t* p[Captures];
  for (auto& x : p)
    x = &sum;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    F a = [p](std::uint64_t v) {
      for (auto* x : p)
        *x += v;
    };
    F b = std::move(a);
    benchmark::DoNotOptimize(b);
  }
  per_op(state, 1);
}
BENCHMARK(construct_move<uredis::util::inline_function<void(std::uint64_t), 32>, 1>)
    ->Name("uredis_inline_function/construct_move/8B");
BENCHMARK(construct_move<std::function<void(std::uint64_t)>, 1>)
    ->Name("std_function/construct_move/8B");
BENCHMARK(construct_move<uredis::util::inline_function<void(std::uint64_t), 32>, 3>)
    ->Name("uredis_inline_function/construct_move/24B");
BENCHMARK(construct_move<std::function<void(std::uint64_t)>, 3>)
    ->Name("std_function/construct_move/24B");

// A FIFO of callbacks (24 bytes of capture each): push 256, then pop and call each.
template <class Fifo, class F>
void callback_fifo(benchmark::State& state) {
  constexpr std::size_t n = 256;
  Fifo fifo;
  std::uint64_t sum = 0;
  std::uint64_t a = 1;
  std::uint64_t b = 2;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i)
      fifo.push_back(F([&sum, &a, &b] { sum += a + b; }));
    while (!fifo.empty()) {
      F f = std::move(fifo.front());
      fifo.pop_front();
      f();
    }
  }
  benchmark::DoNotOptimize(sum);
  per_op(state, n);
}
BENCHMARK(callback_fifo<uredis::util::ring_buffer<uredis::util::inline_function<void(), 32>>,
                        uredis::util::inline_function<void(), 32>>)
    ->Name("uredis_ring_buffer_inline_function/fifo/256");
BENCHMARK(callback_fifo<std::deque<std::function<void()>>, std::function<void()>>)
    ->Name("std_deque_function/fifo/256");

}  // namespace

BENCHMARK_MAIN();
