// lock_timing: distributed_lock against a redis-server, timed by hand, two ways.
//
// Uncontended: one connection, one lock, `acquire(no_wait)` then `release()`, each awaited
// before the next (two round trips), beside the bare pair a lock reduces to on the same
// connection: `SET name token NX PX ttl` then `DEL name`. The two take turns in blocks, so
// the machine's noise falls on both alike. Per cycle: p50, p99 and mean, and the heap
// allocations counted over the timed cycles (tools/common/allocation_counter.hpp: this
// thread's, which runs the reactor, so everything the cycle does), divided by the cycles.
//
// Contended handoff: a holder and a waiter on two connections of one reactor (as two clients
// would be), the waiter with a lock::wakeups on its own. Each round the holder acquires, the
// waiter asks with wait_forever and is left until it has gone quiet (its busy answer is back,
// its subscription confirmed, its retry answered: its connection has nothing pending), then the
// holder calls release(); the time is from that call to the waiter's acquire callback. Then
// the same without wakeups (only the jittered retry timer, 10 to 100 ms), releasing after a
// random 0 to 100 ms so the release falls anywhere between two retries. Last, a pass that
// splits the handoff: a pattern subscription on the waiter's own connection (beside the
// wakeups' channel subscription: the server sends both in one write) notes when the release
// notice arrives, so the handoff reads as release -> notice (the release's way to the server,
// its script, the notice's way back) and notice -> acquired (the waiter's acquire, one round
// trip). A third connection on the same reactor subscribed to the channel notes when the
// notice reaches it too. And the bare handoff the lock's reduces to, for reference: PUBLISH on
// the holder's connection, and on the message, SET NX PX on the waiter's (subscribed) one.
//
//   lock_timing PORT [CYCLES] [HANDOFFS] [POLLED_HANDOFFS] [SUMMARY_FILE]
//   (defaults: 20000 cycles of each, 2000 handoffs, 100 without wakeups)
//
// Prints a table; SUMMARY_FILE, when given, receives `key value` lines (microseconds) for
// scripts/lock_bench.sh to set beside redis-py's figures.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/cmd/pubsub.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/lock/distributed_lock.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/lock/wakeups.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/reactor/reactor.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::chrono::milliseconds ttl = 10'000ms;

struct stats {
  std::size_t count = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0, max_us = 0;
};

// Samples are reserved up front: recording one allocates nothing.
class samples {
 public:
  explicit samples(std::size_t n) { us_.reserve(n); }
  void add(clock_type::duration d) {
    us_.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  stats summarize() {
    stats s;
    if (us_.empty()) return s;
    std::sort(us_.begin(), us_.end());
    const auto at = [this](double q) {
      return us_[static_cast<std::size_t>(q * static_cast<double>(us_.size() - 1) + 0.5)];
    };
    s.count = us_.size();
    s.p50_us = at(0.50);
    s.p99_us = at(0.99);
    s.max_us = us_.back();
    s.mean_us = std::accumulate(us_.begin(), us_.end(), 0.0) / static_cast<double>(us_.size());
    return s;
  }

 private:
  std::vector<double> us_;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "lock_timing: %s\n", what);
  std::exit(1);
}

void connect(uredis::reactor::reactor& loop, uredis::connection& c) {
  std::optional<uredis::result<void>> done;
  c.connect([&](const uredis::result<void>& r) { done = r; });
  loop.run_until([&] { return done.has_value(); });
  if (!*done) die("cannot connect");
}

class bench {
 public:
  bench(uredis::reactor::reactor& loop, const uredis::connection_config& config)
      : loop_(loop), conn_(loop, config), other_(loop, config), observer_(loop, config) {
    connect(loop_, conn_);
    connect(loop_, other_);
    connect(loop_, observer_);
  }

  // One acquire(no_wait) + release() cycle; the time from the acquire call to the release's
  // callback.
  clock_type::duration lock_cycle(uredis::lock::distributed_lock& l) {
    bool got = false, released = false;
    clock_type::time_point end;
    const clock_type::time_point start = clock_type::now();
    l.acquire(uredis::lock::no_wait, [&](uredis::result<bool> r) {
      if (!r || !*r) die("an uncontended acquire failed");
      got = true;
    });
    loop_.run_until([&] { return got; });
    l.release([&](uredis::result<void> r) {
      end = clock_type::now();
      if (!r) die("a release failed");
      released = true;
    });
    loop_.run_until([&] { return released; });
    return end - start;
  }

  // SET name token NX PX ttl, then DEL name: what the lock's commands reduce to.
  clock_type::duration bare_cycle(std::string_view name, std::string_view token) {
    bool set = false, deleted = false;
    clock_type::time_point end;
    const clock_type::time_point start = clock_type::now();
    conn_.exec(uredis::cmd::set{name,
                                token,
                                {.expiry = uredis::cmd::set_expiry::after(ttl),
                                 .condition = uredis::cmd::set_condition::nx}},
               [&](uredis::result<uredis::cmd::applied> r) {
                 if (!r || !*r) die("an uncontended SET NX failed");
                 set = true;
               });
    loop_.run_until([&] { return set; });
    conn_.exec(uredis::cmd::del{{name}}, [&](uredis::result<std::int64_t> r) {
      end = clock_type::now();
      if (!r || *r != 1) die("a DEL failed");
      deleted = true;
    });
    loop_.run_until([&] { return deleted; });
    return end - start;
  }

  void uncontended(int cycles, stats& lock_stats, stats& bare_stats, double& lock_allocs,
                   double& bare_allocs) {
    uredis::lock::distributed_lock l{conn_, "bench:lock:uncontended", {.ttl = ttl}};
    const std::string_view name = "bench:lock:bare";
    const std::string_view token = "0123456789abcdef0123456789abcdef";  // a token's length
    // Warm: the scripts loaded (EVALSHA), the buffers grown, the code paged in.
    for (int i = 0; i < 1000; ++i) {
      lock_cycle(l);
      bare_cycle(name, token);
    }
    samples lock_samples(static_cast<std::size_t>(cycles));
    samples bare_samples(static_cast<std::size_t>(cycles));
    std::uint64_t lock_count = 0, bare_count = 0;
    constexpr int block = 1000;
    for (int done = 0; done < cycles; done += block) {
      const int n = std::min(block, cycles - done);
      std::uint64_t before = uredis::dev::thread_allocations();
      for (int i = 0; i < n; ++i)
        lock_samples.add(lock_cycle(l));
      lock_count += uredis::dev::thread_allocations() - before;
      before = uredis::dev::thread_allocations();
      for (int i = 0; i < n; ++i)
        bare_samples.add(bare_cycle(name, token));
      bare_count += uredis::dev::thread_allocations() - before;
    }
    lock_stats = lock_samples.summarize();
    bare_stats = bare_samples.summarize();
    lock_allocs = static_cast<double>(lock_count) / cycles;
    bare_allocs = static_cast<double>(bare_count) / cycles;
  }

  // PUBLISH on one connection; on its message at the other, SET name token NX PX there: the
  // time from the PUBLISH call to the SET's reply.
  stats bare_handoffs(int rounds) {
    const std::string_view name = "bench:lock:bare-handoff";
    const std::string_view token = "0123456789abcdef0123456789abcdef";
    uredis::pubsub::subscriber sub{other_};
    std::optional<clock_type::time_point> acquired;
    bool confirmed = false;
    sub.subscribe(
        "bench:lock:bare-channel",
        [&](const uredis::pubsub::message&) {
          other_.exec(uredis::cmd::set{name,
                                       token,
                                       {.expiry = uredis::cmd::set_expiry::after(ttl),
                                        .condition = uredis::cmd::set_condition::nx}},
                      [&](uredis::result<uredis::cmd::applied> r) {
                        const clock_type::time_point now = clock_type::now();
                        if (!r || !*r) die("a bare handoff's SET NX failed");
                        acquired = now;
                      });
        },
        [&](const uredis::result<void>& r) {
          if (!r) die("cannot subscribe");
          confirmed = true;
        });
    loop_.run_until([&] { return confirmed; });
    samples s(static_cast<std::size_t>(rounds));
    for (int i = 0; i < 50 + rounds; ++i) {
      acquired.reset();
      bool published = false;
      const clock_type::time_point start = clock_type::now();
      conn_.exec(uredis::cmd::publish{"bench:lock:bare-channel", ""},
                 [&](uredis::result<std::int64_t> r) {
                   if (!r || *r != 1) die("a PUBLISH reached no subscriber");
                   published = true;
                 });
      loop_.run_until([&] { return published && acquired.has_value(); });
      if (i >= 50) s.add(*acquired - start);
      bool deleted = false;
      conn_.exec(uredis::cmd::del{{name}}, [&](uredis::result<std::int64_t>) { deleted = true; });
      loop_.run_until([&] { return deleted; });
    }
    return s.summarize();
  }

  // `rounds` handoffs from a holder on one connection to a waiter on the other. `split`: the
  // times from release() to the notice on the waiter's connection, from there to the acquire,
  // and from release() to the notice at a third connection.
  struct split_stats {
    stats to_notice, notice_to_acquired, to_observer;
  };
  stats handoffs(int rounds, bool with_wakeups, split_stats* split = nullptr) {
    const std::string name = split != nullptr ? "bench:lock:split"
                             : with_wakeups   ? "bench:lock:handoff"
                                              : "bench:lock:polled";
    std::optional<uredis::pubsub::subscriber> observer;
    std::optional<clock_type::time_point> observed, noticed;
    if (split != nullptr) {
      bool confirmed = false;
      observer.emplace(observer_);
      observer->subscribe(
          uredis::lock::release_channel(name),
          [&](const uredis::pubsub::message&) { observed = clock_type::now(); },
          [&](const uredis::result<void>& r) {
            if (!r) die("the observer could not subscribe");
            confirmed = true;
          });
      loop_.run_until([&] { return confirmed; });
    }
    std::optional<uredis::lock::wakeups> wake;
    if (with_wakeups) wake.emplace(other_);
    uredis::lock::distributed_lock holder{conn_, name, {.ttl = ttl}};
    uredis::lock::distributed_lock waiter{other_, name, {.ttl = ttl}, wake ? &*wake : nullptr};
    if (split != nullptr && wake) {
      bool confirmed = false;
      wake->subscriber().psubscribe(
          uredis::lock::release_channel(name) + "*",
          [&](const uredis::pubsub::message&) { noticed = clock_type::now(); },
          [&](const uredis::result<void>& r) {
            if (!r) die("the waiter's connection could not psubscribe");
            confirmed = true;
          });
      loop_.run_until([&] { return confirmed; });
    }
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> hold_us(0, 100'000);
    samples s(static_cast<std::size_t>(rounds));
    samples to_notice(static_cast<std::size_t>(rounds));
    samples to_observer(static_cast<std::size_t>(rounds));
    samples notice_to_acquired(static_cast<std::size_t>(rounds));
    const int warm = with_wakeups ? 50 : 0;
    for (int i = 0; i < warm + rounds; ++i) {
      bool held = false;
      holder.acquire(uredis::lock::no_wait, [&](uredis::result<bool> r) {
        if (!r || !*r) die("the holder could not acquire");
        held = true;
      });
      loop_.run_until([&] { return held; });

      std::optional<clock_type::time_point> acquired;
      waiter.acquire(uredis::lock::wait_forever, [&](uredis::result<bool> r) {
        const clock_type::time_point now = clock_type::now();
        if (!r || !*r) die("the waiter's acquire failed");
        acquired = now;
      });
      // Blocked: its busy answer back, and (with wakeups) the subscription confirmed and the
      // try that follows answered. Nothing then is pending on its connection.
      loop_.run_until([&] { return other_.pending() == 0; });
      if (acquired) die("the waiter acquired a held lock");
      if (!with_wakeups) {
        const clock_type::time_point until = clock_type::now() + 1us * hold_us(rng);
        loop_.run_until([&] { return clock_type::now() >= until || acquired.has_value(); });
        if (acquired) die("the waiter acquired a held lock");
      }

      bool released = false;
      noticed.reset();
      observed.reset();
      const clock_type::time_point start = clock_type::now();
      holder.release([&](uredis::result<void> r) {
        if (!r) die("the holder's release failed");
        released = true;
      });
      loop_.run_until([&] {
        return released && acquired.has_value() &&
               (split == nullptr || (noticed.has_value() && observed.has_value()));
      });
      if (i >= warm) {
        s.add(*acquired - start);
        if (split != nullptr) {
          to_notice.add(*noticed - start);
          to_observer.add(*observed - start);
          notice_to_acquired.add(*acquired - *noticed);
        }
      }

      bool done = false;
      waiter.release([&](uredis::result<void> r) {
        if (!r) die("the waiter's release failed");
        done = true;
      });
      loop_.run_until([&] { return done; });
    }
    if (split != nullptr) {
      split->to_notice = to_notice.summarize();
      split->notice_to_acquired = notice_to_acquired.summarize();
      split->to_observer = to_observer.summarize();
    }
    return s.summarize();
  }

 private:
  uredis::reactor::reactor& loop_;
  uredis::connection conn_;
  uredis::connection other_;
  uredis::connection observer_;
};

void row(const char* what, const stats& s, double allocs) {
  std::printf("%-52s %7zu %9.1f %9.1f %9.1f %9.1f", what, s.count, s.p50_us, s.p99_us, s.mean_us,
              s.max_us);
  if (allocs >= 0) std::printf(" %8.2f", allocs);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: lock_timing PORT [CYCLES] [HANDOFFS] [POLLED_HANDOFFS] [SUMMARY_FILE]\n");
    return 2;
  }
  uredis::connection_config config;
  config.host = "127.0.0.1";
  config.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const int cycles = argc > 2 ? std::atoi(argv[2]) : 20'000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 2'000;
  const int polled_rounds = argc > 4 ? std::atoi(argv[4]) : 100;
  if (cycles <= 0 || rounds <= 0 || polled_rounds < 0) {
    std::fprintf(stderr, "lock_timing: CYCLES and HANDOFFS must be positive\n");
    return 2;
  }

  auto created = uredis::reactor::reactor::create();
  if (!created) die("cannot create a reactor");
  std::unique_ptr<uredis::reactor::reactor> loop = std::move(*created);

  stats lock_stats, bare_stats, handoff, polled, observed, bare_handoff;
  bench::split_stats split;
  double lock_allocs = 0, bare_allocs = 0;
  {
    bench b{*loop, config};
    b.uncontended(cycles, lock_stats, bare_stats, lock_allocs, bare_allocs);
    handoff = b.handoffs(rounds, true);
    if (polled_rounds > 0) polled = b.handoffs(polled_rounds, false);
    observed = b.handoffs(std::min(rounds, 500), true, &split);
    bare_handoff = b.bare_handoffs(std::min(rounds, 500));
  }

  std::printf("%-52s %7s %9s %9s %9s %9s %8s\n", "uncontended, one connection (us per cycle)", "n",
              "p50", "p99", "mean", "max", "allocs");
  row("uredis distributed_lock acquire(no_wait)+release", lock_stats, lock_allocs);
  row("uredis SET NX PX + DEL (the bare pair)", bare_stats, bare_allocs);
  std::printf("%-52s %7s %8.2fx %8.2fx %8.2fx\n", "  lock / bare", "",
              lock_stats.p50_us / bare_stats.p50_us, lock_stats.p99_us / bare_stats.p99_us,
              lock_stats.mean_us / bare_stats.mean_us);
  std::printf("%-52s %7s %9s %9s %9s %9s\n", "handoff, release() -> waiter acquired (us)", "n",
              "p50", "p99", "mean", "max");
  row("uredis distributed_lock + wakeups", handoff, -1);
  if (polled_rounds > 0) row("uredis distributed_lock, no wakeups (retry 10-100 ms)", polled, -1);
  row("  bare: PUBLISH -> message -> SET NX PX (2 conns)", bare_handoff, -1);
  row("  split: the handoff again, observed", observed, -1);
  row("  split: release() -> notice, waiter's connection", split.to_notice, -1);
  row("  split: that notice -> waiter acquired", split.notice_to_acquired, -1);
  row("  split: release() -> notice at a third connection", split.to_observer, -1);

  if (argc > 5) {
    std::FILE* f = std::fopen(argv[5], "w");
    if (f == nullptr) die("cannot write the summary file");
    std::fprintf(f, "lock_p50 %.3f\nlock_p99 %.3f\nlock_mean %.3f\nlock_allocs %.3f\n",
                 lock_stats.p50_us, lock_stats.p99_us, lock_stats.mean_us, lock_allocs);
    std::fprintf(f, "bare_p50 %.3f\nbare_p99 %.3f\nbare_mean %.3f\nbare_allocs %.3f\n",
                 bare_stats.p50_us, bare_stats.p99_us, bare_stats.mean_us, bare_allocs);
    std::fprintf(f, "handoff_p50 %.3f\nhandoff_p99 %.3f\nhandoff_mean %.3f\n", handoff.p50_us,
                 handoff.p99_us, handoff.mean_us);
    std::fprintf(f, "notice_p50 %.3f\nacquire_after_notice_p50 %.3f\nobserver_p50 %.3f\n",
                 split.to_notice.p50_us, split.notice_to_acquired.p50_us, split.to_observer.p50_us);
    std::fprintf(f, "bare_handoff_p50 %.3f\nbare_handoff_p99 %.3f\nbare_handoff_mean %.3f\n",
                 bare_handoff.p50_us, bare_handoff.p99_us, bare_handoff.mean_us);
    std::fprintf(f, "polled_p50 %.3f\npolled_p99 %.3f\npolled_mean %.3f\n", polled.p50_us,
                 polled.p99_us, polled.mean_us);
    std::fclose(f);
  }
  return 0;
}
