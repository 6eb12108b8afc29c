// mailbox: posting and draining on one thread, per-sender order, a full queue, the sleep/wake
// protocol step by step (which posts write the eventfd and which do not), the owner woken while
// blocked in poll(2) and in an io_uring read (how the reactor waits), N sender threads into one
// owner, no lost wake-up over 1M posts with the owner sleeping between bursts, a custom wake
// strategy, and no allocation per post.

#include "uredis/reactor/mailbox.hpp"

#include <gtest/gtest.h>
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "allocation_counter.hpp"
#include "support/kernel_feature.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/util/random.hpp"

namespace uredis::reactor {
namespace {

using namespace std::chrono_literals;
using task = mailbox::task;

std::unique_ptr<mailbox> make_mailbox(unsigned senders, mailbox::wake_strategy s = {}) {
  result<std::unique_ptr<mailbox>> r = mailbox::create(senders, s);
  EXPECT_TRUE(r.has_value());
  return std::move(*r);
}

// The eventfd's counter, read (and so reset) without blocking; 0 when it was not written.
std::uint64_t take_wake_count(const mailbox& mb) {
  std::uint64_t count = 0;
  if (::read(mb.wake_fd(), &count, sizeof count) != sizeof count) return 0;
  return count;
}

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST(Mailbox, CreateGivesAnEventfd) {
  auto mb = make_mailbox(3);
  EXPECT_EQ(mb->senders(), 3u);
  EXPECT_GE(mb->wake_fd(), 0);
  EXPECT_TRUE(mb->empty());
  EXPECT_EQ(mb->drain(), 0u);
  EXPECT_FALSE(readable(mb->wake_fd(), 0));
}

TEST(Mailbox, DrainRunsTasksInPostOrderPerSender) {
  auto mb = make_mailbox(2);
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(mb->post(0, [&ran, i] { ran.push_back(i); }));
    ASSERT_TRUE(mb->post(1, [&ran, i] { ran.push_back(100 + i); }));
  }
  EXPECT_FALSE(mb->empty());
  EXPECT_EQ(mb->drain(), 10u);
  EXPECT_TRUE(mb->empty());
  // Sender by sender: all of 0's, then all of 1's, each in its own order.
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 100, 101, 102, 103, 104}));
  EXPECT_EQ(mb->drain(), 0u);
}

TEST(Mailbox, DrainRunsOnlyWhatWasQueuedWhenItStarted) {
  auto mb = make_mailbox(1);
  int runs = 0;
  // A task that posts itself again (to its own shard) must not keep drain() busy forever.
  struct again {
    mailbox* mb;
    int* runs;
    void operator()() {
      ++*runs;
      EXPECT_TRUE(mb->post(0, again{mb, runs}));
    }
  };
  ASSERT_TRUE(mb->post(0, again{mb.get(), &runs}));
  EXPECT_EQ(mb->drain(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(mb->empty());
  EXPECT_EQ(mb->drain(), 1u);
  EXPECT_EQ(runs, 2);
}

TEST(Mailbox, FullQueueRefusesAndKeepsTheTask) {
  auto mb = make_mailbox(2);
  int ran = 0;
  for (std::size_t i = 0; i < mailbox::capacity_per_sender; ++i)
    ASSERT_TRUE(mb->post(0, [&ran] { ++ran; })) << i;
  auto owned = std::make_unique<int>(5);
  int seen = 0;
  task extra([&seen, p = std::move(owned)] { seen = *p; });
  EXPECT_FALSE(mb->post(0, std::move(extra)));
  ASSERT_TRUE(static_cast<bool>(extra));  // still the caller's: retry later
  // Another sender's queue is independent.
  EXPECT_TRUE(mb->post(1, [&ran] { ran += 1000; }));
  EXPECT_EQ(mb->drain(), mailbox::capacity_per_sender + 1);
  EXPECT_EQ(ran, static_cast<int>(mailbox::capacity_per_sender) + 1000);
  // Room again: the retry succeeds and the task still carries its capture.
  EXPECT_TRUE(mb->post(0, std::move(extra)));
  EXPECT_EQ(mb->drain(), 1u);
  EXPECT_EQ(seen, 5);
}

TEST(Mailbox, DestructionDestroysUnrunTasksWithoutRunningThem) {
  auto token = std::make_shared<int>(0);
  int ran = 0;
  {
    auto mb = make_mailbox(2);
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(mb->post(static_cast<unsigned>(i % 2), [token, &ran] { ++ran; }));
    EXPECT_EQ(token.use_count(), 11);
  }
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(token.use_count(), 1);  // every captured copy was destroyed
}

TEST(Mailbox, AwakeOwnerCostsNoWakeUp) {
  auto mb = make_mailbox(1);
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(mb->post(0, [] {}));
  // The owner never announced a sleep: no eventfd write (no syscall) for any post.
  EXPECT_FALSE(readable(mb->wake_fd(), 0));
  EXPECT_EQ(take_wake_count(*mb), 0u);
  EXPECT_EQ(mb->drain(), 100u);
}

TEST(Mailbox, SleepingOwnerIsWokenOnceForManyPosts) {
  auto mb = make_mailbox(2);
  ASSERT_TRUE(mb->begin_sleep());
  EXPECT_FALSE(readable(mb->wake_fd(), 0));
  ASSERT_TRUE(mb->post(0, [] {}));
  EXPECT_TRUE(readable(mb->wake_fd(), 0));
  // The first post took the flag: later posts (from any sender) skip the syscall.
  ASSERT_TRUE(mb->post(1, [] {}));
  ASSERT_TRUE(mb->post(0, [] {}));
  EXPECT_EQ(take_wake_count(*mb), 1u);
  mb->end_sleep();
  EXPECT_EQ(mb->drain(), 3u);
  // Awake again: posts do not write.
  ASSERT_TRUE(mb->post(0, [] {}));
  EXPECT_EQ(take_wake_count(*mb), 0u);
}

TEST(Mailbox, BeginSleepRefusesWhenWorkIsQueued) {
  auto mb = make_mailbox(2);
  ASSERT_TRUE(mb->post(1, [] {}));
  EXPECT_FALSE(mb->begin_sleep());
  // The refused announcement was withdrawn: a post does not wake anyone.
  ASSERT_TRUE(mb->post(0, [] {}));
  EXPECT_EQ(take_wake_count(*mb), 0u);
  EXPECT_EQ(mb->drain(), 2u);
  EXPECT_TRUE(mb->begin_sleep());
  mb->end_sleep();
  ASSERT_TRUE(mb->post(0, [] {}));
  EXPECT_EQ(take_wake_count(*mb), 0u);  // end_sleep() also withdraws it
}

TEST(Mailbox, ResetWakeClearsReadinessWithoutBlocking) {
  auto mb = make_mailbox(1);
  mb->reset_wake();  // nothing to read: must return at once
  mb->wake();
  mb->wake();
  EXPECT_TRUE(readable(mb->wake_fd(), 0));
  mb->reset_wake();
  EXPECT_FALSE(readable(mb->wake_fd(), 0));
}

TEST(Mailbox, WakesAnOwnerBlockedInPoll) {
  auto mb = make_mailbox(1);
  std::atomic<bool> blocked{false};
  std::atomic<int> ran{0};
  std::thread owner([&] {
    ASSERT_TRUE(mb->begin_sleep());
    blocked.store(true);
    const bool woke = readable(mb->wake_fd(), 10'000);  // a lost wake-up fails after 10 s
    mb->end_sleep();
    mb->reset_wake();
    EXPECT_TRUE(woke);
    mb->drain();
  });
  while (!blocked.load())
    std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // let it really block in poll()
  ASSERT_TRUE(mb->post(0, [&ran] { ran.fetch_add(1); }));
  owner.join();
  EXPECT_EQ(ran.load(), 1);
}

// How the reactor waits: an io_uring read armed on wake_fd(), the thread blocked in
// io_uring_wait_cqe. The post must complete that read.
TEST(Mailbox, WakesAnOwnerBlockedInAnIoUringRead) {
  io_uring ring;
  const int rc = io_uring_queue_init(4, &ring, 0);
  if (rc < 0 && test::lacks_io_uring(io::setup_error(rc))) return;
  ASSERT_EQ(rc, 0) << io::setup_error(rc).message();
  auto mb = make_mailbox(1);
  std::atomic<bool> blocked{false};
  std::atomic<int> ran{0};
  std::uint64_t counter = 0;
  int read_result = 0;
  std::thread owner([&] {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, mb->wake_fd(), &counter, sizeof counter, 0);
    ASSERT_EQ(io_uring_submit(&ring), 1);
    ASSERT_TRUE(mb->begin_sleep());
    blocked.store(true);
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec limit{10, 0};  // a lost wake-up fails after 10 s
    const int waited = io_uring_wait_cqe_timeout(&ring, &cqe, &limit);
    mb->end_sleep();
    ASSERT_EQ(waited, 0);
    read_result = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    mb->drain();
  });
  while (!blocked.load())
    std::this_thread::yield();
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(mb->post(0, [&ran] { ran.fetch_add(1); }));
  owner.join();
  io_uring_queue_exit(&ring);
  EXPECT_EQ(read_result, static_cast<int>(sizeof counter));
  EXPECT_EQ(counter, 1u);
  EXPECT_EQ(ran.load(), 1);
}

// Per-sender order checked by the tasks themselves, on the owner's thread.
struct order_check {
  std::vector<std::uint64_t>* next;  // next expected sequence number, per sender (owner-only)
  std::uint64_t* errors;
  unsigned sender;
  std::uint64_t seq;
  void operator()() const {
    if ((*next)[sender] != seq) ++*errors;
    (*next)[sender] = seq + 1;
  }
};

// What the owner did over a run.
struct owner_stats {
  std::uint64_t ran = 0;
  std::uint64_t sleep_attempts = 0;  // begin_sleep() calls
  std::uint64_t sleeps = 0;          // ... that returned true
  std::uint64_t timeouts = 0;        // sleeps that ended without a wake-up: lost wake-ups
};

// A sleep that lasts this long with senders waiting on the owner is a lost wake-up.
constexpr int lost_wake_up_ms = 2'000;

// The owner's loop as the reactor will run it: drain, then sleep in poll() when idle. Gives up
// after a few lost wake-ups, so a broken protocol fails in seconds rather than hanging.
owner_stats run_owner(mailbox& mb, std::uint64_t total) {
  owner_stats st;
  while (st.ran < total && st.timeouts < 3) {
    st.ran += mb.drain();
    if (st.ran >= total) break;
    ++st.sleep_attempts;
    if (mb.begin_sleep()) {
      ++st.sleeps;
      if (!readable(mb.wake_fd(), lost_wake_up_ms)) ++st.timeouts;
      mb.end_sleep();
      mb.reset_wake();
    }
  }
  return st;
}

TEST(Mailbox, ManySendersOneOwnerKeepPerSenderOrder) {
  constexpr unsigned senders = 4;
  constexpr std::uint64_t per_sender = 200'000;
  auto mb = make_mailbox(senders);
  std::vector<std::uint64_t> next(senders, 0);
  std::uint64_t errors = 0;
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};  // set if the owner gives up
  for (unsigned s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      for (std::uint64_t i = 0; i < per_sender && !stop.load(); ++i) {
        task t(order_check{&next, &errors, s, i});
        while (!mb->post(s, std::move(t)) && !stop.load())
          std::this_thread::yield();  // backpressure: wait for the owner to drain
      }
    });
  }
  const owner_stats st = run_owner(*mb, senders * per_sender);
  stop.store(true);
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(st.ran, senders * per_sender);
  EXPECT_EQ(errors, 0u);
  for (unsigned s = 0; s < senders; ++s)
    EXPECT_EQ(next[s], per_sender) << "sender " << s;
  EXPECT_EQ(st.timeouts, 0u);
  EXPECT_TRUE(mb->empty());
}

// Per-sender order as above, and an acknowledgement the sender can wait for.
struct acked_check {
  std::vector<std::uint64_t>* next;
  std::uint64_t* errors;
  std::atomic<std::uint64_t>* acked;  // this sender's: how many of its tasks have run
  unsigned sender;
  std::uint64_t seq;
  void operator()() const {
    if ((*next)[sender] != seq) ++*errors;
    (*next)[sender] = seq + 1;
    acked->store(seq + 1, std::memory_order_release);
  }
};

// 1M posts in random bursts. After each burst a sender waits until the owner has run it, then
// pauses, so the owner drains everything and goes to sleep between bursts, over and over, and
// every burst's last post is the one that must wake it. A lost wake-up leaves the owner asleep
// with work queued and the sender waiting: the owner's poll times out and the test fails.
TEST(Mailbox, NoLostWakeUpWithOwnerSleepingBetweenBursts) {
  constexpr unsigned senders = 3;
  constexpr std::uint64_t per_sender = 1'000'000 / senders + 1;
  // Count the wake-ups (the default eventfd write, behind a counting hook).
  struct counting_eventfd {
    std::atomic<std::uint64_t> wakes{0};
    mailbox* mb = nullptr;
    static void wake(void* context, unsigned) noexcept {
      auto* self = static_cast<counting_eventfd*>(context);
      self->wakes.fetch_add(1, std::memory_order_relaxed);
      self->mb->wake();
    }
  } waker;
  auto mb = make_mailbox(senders, {&counting_eventfd::wake, &waker});
  waker.mb = mb.get();
  std::vector<std::uint64_t> next(senders, 0);
  std::uint64_t errors = 0;
  std::vector<std::atomic<std::uint64_t>> acked(senders);
  std::atomic<bool> stop{false};  // set by the owner if it gives up
  std::vector<std::thread> threads;
  for (unsigned s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      util::rng rng(1234 + s);
      std::uint64_t i = 0;
      while (i < per_sender && !stop.load()) {
        const std::uint64_t burst = 1 + rng.below(200);
        for (std::uint64_t b = 0; b < burst && i < per_sender; ++b, ++i) {
          task t(acked_check{&next, &errors, &acked[s], s, i});
          while (!mb->post(s, std::move(t)))
            std::this_thread::yield();
        }
        while (acked[s].load(std::memory_order_acquire) < i && !stop.load())
          std::this_thread::yield();
        if (rng.below(4) == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(rng.below(50)));
      }
    });
  }
  const owner_stats st = run_owner(*mb, senders * per_sender);
  stop.store(true);
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(st.timeouts, 0u) << "lost wake-ups";
  EXPECT_EQ(st.ran, senders * per_sender);
  EXPECT_EQ(errors, 0u);
  // The test is only meaningful if the owner really slept between bursts, many times.
  EXPECT_GT(st.sleeps, 1000u);
  // Each announcement is taken by at most one sender: at most one syscall per begin_sleep(), and
  // none for the posts that found the owner awake.
  EXPECT_LE(waker.wakes.load(), st.sleep_attempts);
  EXPECT_GT(waker.wakes.load(), 0u);
}

// A custom strategy replaces the eventfd write and sees which sender woke the owner.
struct counting_waker {
  std::atomic<int> calls{0};
  std::atomic<unsigned> last_sender{~0u};
  static void wake(void* context, unsigned sender) noexcept {
    auto* self = static_cast<counting_waker*>(context);
    self->last_sender.store(sender);
    self->calls.fetch_add(1);
  }
};

TEST(Mailbox, WakeStrategyReplacesTheEventfd) {
  counting_waker w;
  auto mb = make_mailbox(3, {&counting_waker::wake, &w});
  ASSERT_TRUE(mb->post(2, [] {}));  // awake: no wake at all
  EXPECT_EQ(w.calls.load(), 0);
  EXPECT_EQ(mb->drain(), 1u);
  ASSERT_TRUE(mb->begin_sleep());
  ASSERT_TRUE(mb->post(2, [] {}));
  ASSERT_TRUE(mb->post(1, [] {}));
  EXPECT_EQ(w.calls.load(), 1);
  EXPECT_EQ(w.last_sender.load(), 2u);
  EXPECT_EQ(take_wake_count(*mb), 0u);  // the eventfd was not written
  mb->end_sleep();
  EXPECT_EQ(mb->drain(), 2u);
}

TEST(Mailbox, PostAndDrainAllocateNothing) {
  auto mb = make_mailbox(2);
  std::uint64_t sum = 0;
  // Warm up (first use of thread-locals, lazy binding) outside the counted scope.
  ASSERT_TRUE(mb->post(0, [&sum] { sum += 1; }));
  mb->drain();
  dev::allocation_scope scope;
  for (int round = 0; round < 100; ++round) {
    for (std::uint64_t i = 0; i < 100; ++i)
      ASSERT_TRUE(mb->post(static_cast<unsigned>(i % 2), [&sum, i] { sum += i; }));
    ASSERT_TRUE(mb->begin_sleep() == false);
    mb->drain();
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(sum, 1u + 100u * (99u * 100u / 2u));
}

}  // namespace
}  // namespace uredis::reactor
