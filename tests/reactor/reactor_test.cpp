// reactor: one turn without blocking, run()/stop(), the mailbox integration (tasks posted from
// other threads wake a sleeping reactor; a busy or busy-polling reactor costs a poster no
// wake-up; what a task queues goes out in the same turn), reactor::current(), and a fatal
// submit error ending run().

#include "uredis/reactor/reactor.hpp"

#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/user_data.hpp"
#include "support/kernel_feature.hpp"
#include "uredis/reactor/mailbox.hpp"

namespace uredis::reactor {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::unique_ptr<reactor> make_reactor(reactor_options options = {}) {
  auto r = reactor::create(options);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? std::move(*r) : nullptr;
}

reactor_options with_mailbox(unsigned senders, bool busy_poll = false) {
  reactor_options o;
  o.mailbox_senders = senders;
  o.busy_poll = busy_poll;
  return o;
}

// Records its completions; optionally stops the reactor on the first one.
class nop_target final : public io_target {
 public:
  explicit nop_target(reactor& r, bool stop_on_completion = false)
      : reactor_(r), stop_(stop_on_completion), id_(r.attach(*this)) {}
  ~nop_target() { reactor_.detach(id_); }

  void submit_nop() {
    io_uring_sqe* sqe = reactor_.sqe();
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, io::encode_user_data(id_, io::op::nop));
  }
  void on_completion(io::op op, const io_uring_cqe& cqe) override {
    ops.push_back(op);
    results.push_back(cqe.res);
    if (stop_) reactor_.stop();
  }

  std::vector<io::op> ops;
  std::vector<int> results;

 private:
  reactor& reactor_;
  bool stop_;
  std::uint64_t id_;
};

// A reactor created and run on its own thread (SINGLE_ISSUER), published once it exists.
class reactor_thread {
 public:
  explicit reactor_thread(reactor_options options) {
    thread_ = std::thread([this, options] {
      auto r = reactor::create(options);
      if (!r) {
        failed_.store(true);
        ready_.store(true);
        return;
      }
      reactor_ = std::move(*r);
      ready_.store(true);
      reactor_->run();
      stopped_.store(true);
    });
    while (!ready_.load())
      std::this_thread::yield();
  }
  ~reactor_thread() {
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return !failed_.load(); }
  reactor& get() { return *reactor_; }
  mailbox& inbox() { return *reactor_->inbox(); }
  bool stopped() const { return stopped_.load(); }
  void join() { thread_.join(); }

 private:
  std::thread thread_;
  std::unique_ptr<reactor> reactor_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> stopped_{false};
};

// Posts until accepted: a full queue means the owner has not drained yet.
void post(mailbox& mb, unsigned sender, mailbox::task t) {
  while (!mb.post(sender, std::move(t)))
    std::this_thread::yield();
}

TEST(Reactor, PollWithNothingToDoDoesNotBlock) {
  auto r = make_reactor(with_mailbox(1));
  ASSERT_TRUE(r);
  const auto start = steady::now();
  std::size_t handled = 0;
  for (int i = 0; i < 1000; ++i)
    handled += r->poll();
  EXPECT_LT(steady::now() - start, 1s);
  EXPECT_EQ(handled, 0u);
  EXPECT_FALSE(r->error());
}

TEST(Reactor, ASleepingReactorWakesForItsEarliestTimer) {
  auto r = make_reactor();
  int fired = 0;
  timer late([&] { ++fired; });
  timer early([&] { ++fired; });
  const auto start = std::chrono::steady_clock::now();
  r->timers().arm_in(late, std::chrono::milliseconds(40));
  r->timers().arm_in(early, std::chrono::milliseconds(20));
  // Nothing but the timers: without waking for them, run_until would sleep forever.
  r->run_until([&] { return fired == 1; });
  const auto first = std::chrono::steady_clock::now() - start;
  r->run_until([&] { return fired == 2; });
  const auto second = std::chrono::steady_clock::now() - start;
  EXPECT_GE(first, std::chrono::milliseconds(20));
  EXPECT_GE(second, std::chrono::milliseconds(40));
  EXPECT_LT(second, std::chrono::seconds(5));  // generous: a shared machine
}

TEST(Reactor, TimersRunOnTheReactorsManualClock) {
  util::manual_clock clock;
  reactor_options options;
  options.clock = &clock;
  auto r = make_reactor(options);
  int fired = 0;
  timer t([&] { ++fired; });
  r->timers().arm_in(t, std::chrono::milliseconds(5));
  r->poll();
  EXPECT_EQ(fired, 0);
  clock.advance(std::chrono::milliseconds(5));
  r->poll();
  EXPECT_EQ(fired, 1);
}

TEST(Reactor, PollHandlesAReadyCompletion) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  nop_target t{*r};
  t.submit_nop();
  // The first poll submits; the NOP completes inline, so this turn or the next reaps it.
  std::size_t handled = 0;
  for (int i = 0; i < 10 && handled == 0; ++i)
    handled += r->poll();
  EXPECT_EQ(handled, 1u);
  EXPECT_EQ(t.ops, std::vector<io::op>{io::op::nop});
  EXPECT_EQ(t.results, std::vector<int>{0});
  EXPECT_EQ(r->completions(), 1u);
}

TEST(Reactor, RunReturnsAfterStopFromACompletion) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  nop_target t{*r, /*stop_on_completion=*/true};
  t.submit_nop();
  r->run();
  EXPECT_EQ(t.ops.size(), 1u);
  // run() can run again, and stop() before run() makes it return at once.
  t.submit_nop();
  r->run();
  EXPECT_EQ(t.ops.size(), 2u);
  r->stop();
  r->run();
  EXPECT_EQ(t.ops.size(), 2u);
}

TEST(Reactor, DetachedTargetsCompletionIsDropped) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  {
    nop_target t{*r};
    t.submit_nop();
  }  // detached with the NOP in flight
  for (int i = 0; i < 10 && r->dropped_completions() == 0; ++i)
    r->poll();
  EXPECT_EQ(r->dropped_completions(), 1u);
  EXPECT_EQ(r->completions(), 0u);
}

TEST(Reactor, OwnsAMailboxWhenAskedOrUsesTheCallers) {
  auto none = make_reactor();
  ASSERT_TRUE(none);
  EXPECT_EQ(none->inbox(), nullptr);

  auto owning = make_reactor(with_mailbox(3));
  ASSERT_TRUE(owning);
  ASSERT_NE(owning->inbox(), nullptr);
  EXPECT_EQ(owning->inbox()->senders(), 3u);

  auto mb = mailbox::create(2);
  ASSERT_TRUE(mb.has_value());
  auto borrowing = reactor::create({}, **mb);
  ASSERT_TRUE(borrowing.has_value());
  EXPECT_EQ((*borrowing)->inbox(), mb->get());
  int ran = 0;
  ASSERT_TRUE((*mb)->post(1, [&] { ++ran; }));
  (*borrowing)->poll();
  EXPECT_EQ(ran, 1);
}

TEST(Reactor, TaskQueuedWorkIsFlushedInTheSameTurn) {
  auto r = make_reactor(with_mailbox(1));
  ASSERT_TRUE(r);
  // The task schedules a flush, the flush prepares a NOP: if the task ran before the flush and
  // the submit of the same turn, the NOP's completion (posted inline at submit) is reaped by
  // that turn, so one poll() sees it.
  nop_target t{*r};
  struct nop_on_flush final : flushable {
    nop_target* target;
    int flushes = 0;
    void flush() override {
      ++flushes;
      target->submit_nop();
    }
  } f;
  f.target = &t;
  ASSERT_TRUE(r->inbox()->post(0, [&] { r->schedule_flush(f); }));
  EXPECT_EQ(r->poll(), 1u);
  EXPECT_EQ(f.flushes, 1);
  EXPECT_EQ(t.ops, std::vector<io::op>{io::op::nop});
}

TEST(Reactor, TaskThatStopsRunDoesNotLetItSleep) {
  auto r = make_reactor(with_mailbox(1));
  ASSERT_TRUE(r);
  // The only event is this task: if run() slept after draining it, it would never return.
  ASSERT_TRUE(r->inbox()->post(0, [&] { r->stop(); }));
  r->run();
  EXPECT_TRUE(r->inbox()->empty());
}

TEST(Reactor, PostWakesASleepingReactor) {
  reactor_thread owner{with_mailbox(1)};
  ASSERT_TRUE(owner.ok());
  // Give it time to block in the kernel, then post.
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(owner.stopped());
  std::atomic<bool> ran{false};
  reactor* r = &owner.get();
  post(owner.inbox(), 0, [&ran, r] {
    ran.store(true);
    r->stop();
  });
  const auto deadline = steady::now() + 5s;
  while (!owner.stopped() && steady::now() < deadline)
    std::this_thread::sleep_for(1ms);
  const bool woken = owner.stopped();
  if (!woken) owner.inbox().wake();  // the unconditional doorbell, so the test ends either way
  owner.join();
  EXPECT_TRUE(woken) << "the post did not wake the reactor";
  EXPECT_TRUE(ran.load());
  EXPECT_GE(owner.get().wake_ups(), 1u);
}

// Two reactors on two threads bounce a task back and forth; each waits (sleeps in the kernel)
// for the other's post. Every hop is a wake-up, so the total time bounds the wake latency.
void ping_pong(bool busy_poll, int round_trips, std::uint64_t& wake_ups) {
  reactor_thread a{with_mailbox(2, busy_poll)};
  reactor_thread b{with_mailbox(2, busy_poll)};
  ASSERT_TRUE(a.ok() && b.ok());

  struct game {
    reactor* a;
    reactor* b;
    int left;
    int hops = 0;
  } g{&a.get(), &b.get(), round_trips};

  // Sender index: 0 for thread a, 1 for thread b.
  struct bounce {
    static void to_b(game* g) {
      post(*g->b->inbox(), 0, [g] {
        ++g->hops;
        to_a(g);
      });
    }
    static void to_a(game* g) {
      post(*g->a->inbox(), 1, [g] {
        ++g->hops;
        if (--g->left == 0) {
          g->a->stop();
          post(*g->b->inbox(), 0, [g] { g->b->stop(); });
          return;
        }
        to_b(g);
      });
    }
  };

  const auto start = steady::now();
  // The first hop is posted from thread a, through a task this thread sends with index 1
  // (thread b's index is not in use yet: b only posts from its own tasks, later).
  post(*g.a->inbox(), 1, [p = &g] { bounce::to_b(p); });
  a.join();
  b.join();
  const auto elapsed = steady::now() - start;
  EXPECT_EQ(g.left, 0);
  EXPECT_EQ(g.hops, 2 * round_trips);
  EXPECT_LT(elapsed, 10s) << "wake-ups are too slow";
  wake_ups = a.get().wake_ups() + b.get().wake_ups();
}

// A send announced quiet, as a connection announces its sends, to a peer that never reads:
// more bytes than the socket holds, so it stays pending (MSG_WAITALL).
class stuck_send final : public io_target {
 public:
  stuck_send(reactor& r, int fd, const std::string& bytes) : reactor_(r), id_(r.attach(*this)) {
    io_uring_sqe* sqe = r.sqe();
    io_uring_prep_send(sqe, fd, bytes.data(), bytes.size(), MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, io::encode_user_data(id_, io::op::send));
    r.begin_quiet();
  }
  ~stuck_send() { reactor_.detach(id_); }
  void on_completion(io::op, const io_uring_cqe&) override { reactor_.end_quiet(); }

 private:
  reactor& reactor_;
  std::uint64_t id_;
};

TEST(Reactor, APostWakesAReactorWhoseQuietSendStaysPending) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  const std::string bytes(8 << 20, 'x');  // far more than a socket buffer
  std::unique_ptr<stuck_send> send;
  {
    reactor_thread owner{with_mailbox(1)};
    ASSERT_TRUE(owner.ok());
    reactor* r = &owner.get();
    std::atomic<bool> started{false};
    post(owner.inbox(), 0, [&, r] {
      send = std::make_unique<stuck_send>(*r, fds[0], bytes);
      started.store(true);
    });
    while (!started.load())
      std::this_thread::yield();
    std::this_thread::sleep_for(50ms);  // asleep in the kernel, the send still pending
    const auto posted = steady::now();
    std::atomic<bool> ran{false};
    post(owner.inbox(), 0, [&ran, r] {
      ran.store(true);
      r->stop();
    });
    while (!ran.load() && steady::now() - posted < 2s)
      std::this_thread::sleep_for(1ms);
    const auto took = steady::now() - posted;
    // Either way the test ends: the reader gone, the send fails, a second completion.
    if (!ran.load()) ::shutdown(fds[1], SHUT_RDWR);
    owner.join();
    send.reset();  // on this thread now: the reactor's own has ended
    EXPECT_LT(took, 500ms) << "the post waited for a second completion";
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

// Another connection's quiet sends, each completing at once: counts them as they complete.
class quick_sends final : public io_target {
 public:
  quick_sends(reactor& r, int fd) : reactor_(r), fd_(fd), id_(r.attach(*this)) {}
  ~quick_sends() { reactor_.detach(id_); }
  void send() {
    io_uring_sqe* sqe = reactor_.sqe();
    io_uring_prep_send(sqe, fd_, "ping", 4, MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, io::encode_user_data(id_, io::op::send));
    reactor_.begin_quiet();
  }
  void on_completion(io::op, const io_uring_cqe&) override {
    ++completed;
    reactor_.end_quiet();
  }
  int completed = 0;

 private:
  reactor& reactor_;
  int fd_;
  std::uint64_t id_;
};

TEST(Reactor, AQuietSendThatStaysPendingDoesNotSlowTheOtherRoundTrips) {
  int stuck[2];
  int quick[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stuck), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, quick), 0);
  const std::string bytes(8 << 20, 'x');
  {
    auto r = make_reactor();
    ASSERT_TRUE(r);
    stuck_send pending(*r, stuck[0], bytes);
    quick_sends other(*r, quick[0]);
    // Round trips of another connection: its send (done at once) and its "reply" (a nop). The
    // grace of the pending send runs out once; it must not start again with each of them.
    const auto start = steady::now();
    for (int i = 1; i <= 20; ++i) {
      other.send();
      nop_target reply(*r);
      reply.submit_nop();
      r->run_until([&] { return !reply.ops.empty() && other.completed == i; });
      char drained[64];
      while (::recv(quick[1], drained, sizeof drained, MSG_DONTWAIT) > 0) {
      }
    }
    EXPECT_LT(steady::now() - start, 100ms) << "round trips waited out the grace again and again";
    ::shutdown(stuck[1], SHUT_RDWR);  // the pending send fails now
    r->run_until([&] { return r->quiet() == 0; });
  }
  for (const int fd : {stuck[0], stuck[1], quick[0], quick[1]})
    ::close(fd);
}

TEST(Reactor, ThousandRoundTripsBetweenSleepingReactors) {
  std::uint64_t wake_ups = 0;
  ping_pong(/*busy_poll=*/false, 1000, wake_ups);
  // Each reactor slept between hops (nothing else to do): posts woke it.
  EXPECT_GT(wake_ups, 0u);
}

TEST(Reactor, BusyPollReactorsNeverSleepSoPostsNeverWake) {
  std::uint64_t wake_ups = 0;
  // Fewer hops: two spinning threads on a loaded two-core machine hand the cores back and forth
  // at the scheduler's pace, not the mailbox's.
  ping_pong(/*busy_poll=*/true, 200, wake_ups);
  EXPECT_EQ(wake_ups, 0u);
}

TEST(Reactor, PostsToABusyPollingReactorCostNoWakeUp) {
  reactor_thread owner{with_mailbox(1, /*busy_poll=*/true)};
  ASSERT_TRUE(owner.ok());
  constexpr int n = 20'000;
  std::atomic<int> ran{0};
  reactor* r = &owner.get();
  for (int i = 0; i < n; ++i)
    post(owner.inbox(), 0, [&ran] { ran.fetch_add(1); });
  post(owner.inbox(), 0, [r] { r->stop(); });
  owner.join();
  EXPECT_EQ(ran.load(), n);
  EXPECT_EQ(owner.get().wake_ups(), 0u);
  EXPECT_FALSE(owner.get().error());
}

TEST(Reactor, CurrentIsTheFirstLiveReactorOfTheThread) {
  EXPECT_EQ(reactor::current(), nullptr);
  auto first = make_reactor();
  ASSERT_TRUE(first);
  EXPECT_EQ(reactor::current(), first.get());
  {
    auto second = make_reactor();  // a private one (the blocking client's) does not take over
    ASSERT_TRUE(second);
    EXPECT_EQ(reactor::current(), first.get());
  }
  EXPECT_EQ(reactor::current(), first.get());
  reactor* seen_elsewhere = first.get();
  std::thread([&] { seen_elsewhere = reactor::current(); }).join();
  EXPECT_EQ(seen_elsewhere, nullptr);
  first.reset();
  EXPECT_EQ(reactor::current(), nullptr);
  auto third = make_reactor();
  ASSERT_TRUE(third);
  EXPECT_EQ(reactor::current(), third.get());
}

TEST(Reactor, FatalSubmitErrorEndsRun) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  if (test::lacks(r->ring().features().single_issuer, {6, 0, 0}, "SINGLE_ISSUER")) return;
  // Submitting from another thread breaks SINGLE_ISSUER: the kernel refuses the enter (EEXIST,
  // or EBADF for a registered ring fd, which is per thread). The reactor records it.
  nop_target t{*r};
  t.submit_nop();
  std::thread([&] { r->poll(); }).join();
  ASSERT_TRUE(r->error());
  const std::error_code first = r->error();
  // run() and run_until() return at once instead of spinning on a dead ring.
  r->run();
  r->run_until([] { return false; });
  EXPECT_EQ(r->error(), first);
}

}  // namespace
}  // namespace uredis::reactor
