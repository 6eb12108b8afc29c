#include "uredis/reactor/runtime.hpp"

#include <pthread.h>
#include <sched.h>

#include <cassert>
#include <thread>
#include <utility>

namespace uredis {
namespace {

// Which runtime, and which of its shards, this thread is (null / no_shard: not a shard).
thread_local const runtime* current_runtime = nullptr;
thread_local unsigned current_shard_index = runtime::no_shard;

// The CPUs this process may run on, ascending (a cpuset or taskset may leave out some).
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

std::error_code pin_this_thread(int cpu) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int status = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  if (status != 0) return {status, std::system_category()};
  return {};
}

}  // namespace

result<std::unique_ptr<runtime>> runtime::create(const runtime_options& options) {
  // hardware_concurrency() is 0 when unknown: then only pinning, below, bounds the count.
  const unsigned cores = std::thread::hardware_concurrency();
  if (options.shards == 0 || (cores != 0 && options.shards > cores))
    return make_error_code(errc::invalid_shard_count);

  std::unique_ptr<runtime> rt(new runtime(options.shards));
  if (options.pin) {
    const std::vector<int> cpus = allowed_cpus();
    if (cpus.size() < options.shards) return make_error_code(errc::invalid_shard_count);
    for (unsigned i = 0; i < options.shards; ++i)
      rt->shards_[i].cpu = cpus[i];
  }
  // Every mailbox exists before any shard runs: a shard may post to another at once.
  for (shard& s : rt->shards_) {
    auto inbox = reactor::mailbox::create(options.shards + 1);  // + the external sender
    if (!inbox) return inbox.error();
    s.inbox = std::move(*inbox);
  }

  reactor::reactor_options reactor_options = options.reactor;
  reactor_options.busy_poll = reactor_options.busy_poll || options.busy_poll;
  reactor_options.mailbox_senders = 0;  // the runtime's mailbox, not one of the reactor's own
  std::error_code spawn_error;
  for (unsigned i = 0; i < options.shards; ++i) {
    try {
      rt->shards_[i].thread =
          std::thread([r = rt.get(), i, reactor_options] { r->shard_main(i, reactor_options); });
    } catch (const std::system_error& e) {  // the system could not start another thread
      spawn_error = e.code();
      break;
    }
    ++rt->spawned_;
  }
  if (spawn_error) {
    rt->request_stop();
    // The shards never started will never arrive: arrive for them, so the others can finish.
    for (unsigned i = rt->spawned_; i < options.shards; ++i)
      rt->arrive();
    rt->wait();
    return spawn_error;
  }

  for (unsigned started = rt->started_.load(std::memory_order_acquire); started < rt->spawned_;
       started = rt->started_.load(std::memory_order_acquire))
    rt->started_.wait(started, std::memory_order_acquire);
  for (const shard& s : rt->shards_) {
    if (s.setup_error) {
      const std::error_code failure = s.setup_error;
      rt->stop();
      return failure;
    }
  }
  return rt;
}

runtime::runtime(unsigned shards) : shards_(shards) {}

runtime::~runtime() {
  stop();
}

unsigned runtime::current_shard() noexcept {
  return current_shard_index;
}

bool runtime::on_shard() const noexcept {
  return current_runtime == this;
}

bool runtime::submit_to(unsigned shard, task_fn&& fn) noexcept {
  assert(shard < shards_.size());
  const unsigned sender = current_runtime == this ? current_shard_index : shard_count();
  std::atomic<unsigned>& posting =
      sender < shard_count() ? shards_[sender].posting : outside_posting_;
  // Announced before the phase is read (both seq_cst, against arrive()'s store and
  // await_posts_in_flight()'s loads): either this sees `draining` and refuses, for good, or the
  // target's last drain sees this post in flight and waits for it to land.
  posting.fetch_add(1, std::memory_order_seq_cst);
  bool accepted = false;
  if (phase_.load(std::memory_order_seq_cst) != phase::draining)
    accepted = shards_[shard].inbox->post(sender, std::move(fn));
  posting.fetch_sub(1, std::memory_order_release);
  return accepted;
}

bool runtime::at_stop(task_fn&& fn) {
  if (current_runtime != this) return false;
  shards_[current_shard_index].stop_handlers.push_back(std::move(fn));
  return true;
}

void runtime::request_stop() noexcept {
  phase expected = phase::running;
  // Release: the tasks posted before this call are visible to each shard that sees `stopping`.
  if (!phase_.compare_exchange_strong(expected, phase::stopping, std::memory_order_acq_rel)) return;
  // Unconditional wake-ups: a sleeping shard must look at phase_ again.
  for (shard& s : shards_)
    if (s.inbox) s.inbox->wake();
}

void runtime::wait() {
  assert(current_runtime != this && "a shard cannot wait for itself");
  for (shard& s : shards_)
    if (s.thread.joinable()) s.thread.join();
}

void runtime::stop() {
  request_stop();
  wait();
}

std::error_code runtime::error() const noexcept {
  for (const shard& s : shards_)
    if (s.run_error) return s.run_error;
  return {};
}

void runtime::arrive() noexcept {
  // The acq_rel chain on arrived_ carries every arriving shard's posts to the last arriver,
  // whose store of `draining` carries them to each shard's last drain. Posts made after a
  // shard arrived (step 2 still serves) are covered by the posting counters: no accepted task
  // can land in a mailbox after its owner's last drain.
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 != shards_.size()) return;
  phase_.store(phase::draining, std::memory_order_seq_cst);
  phase_.notify_all();  // shards without a reactor wait on phase_ itself
  for (shard& s : shards_)
    if (s.inbox) s.inbox->wake();
}

void runtime::await_draining(reactor::reactor* r) noexcept {
  // Keep serving (tasks, I/O) while waiting; a shard whose ring failed can only block.
  if (r != nullptr)
    r->run_until([this] { return phase_.load(std::memory_order_acquire) == phase::draining; });
  for (phase p = phase_.load(std::memory_order_acquire); p != phase::draining;
       p = phase_.load(std::memory_order_acquire))
    phase_.wait(p, std::memory_order_acquire);
}

void runtime::await_posts_in_flight() const noexcept {
  const auto in_flight = [this] {
    for (const shard& s : shards_)
      if (s.posting.load(std::memory_order_seq_cst) != 0) return true;
    return outside_posting_.load(std::memory_order_seq_cst) != 0;
  };
  while (in_flight())  // a few instructions long: the sender is between its check and its push
    std::this_thread::yield();
}

void runtime::run_stop_handlers(shard& s) {
  // Most recent first; a handler may register another, which runs in this same call.
  while (!s.stop_handlers.empty()) {
    task_fn fn = std::move(s.stop_handlers.back());
    s.stop_handlers.pop_back();
    fn();
  }
}

void runtime::shard_main(unsigned index, reactor::reactor_options options) {
  current_runtime = this;
  current_shard_index = index;
  shard& s = shards_[index];

  // Set-up: pin first, so the ring's kernel memory is allocated near the core that uses it.
  std::unique_ptr<reactor::reactor> r;
  std::error_code failure;
  if (s.cpu >= 0) failure = pin_this_thread(s.cpu);
  if (!failure) {
    auto created = reactor::reactor::create(options, *s.inbox);
    if (created) {
      r = std::move(*created);
    } else {
      failure = created.error();
    }
  }
  s.setup_error = failure;
  started_.fetch_add(1, std::memory_order_release);
  started_.notify_all();
  if (!r) {
    // create() is about to fail and stop the others; nobody has posted to this shard.
    arrive();
    await_draining(nullptr);
    current_runtime = nullptr;
    return;
  }

  r->run_until([this] { return phase_.load(std::memory_order_acquire) != phase::running; });
  if (r->error()) {
    s.run_error = r->error();
    request_stop();
  }
  // Step 1: the tasks posted so far, then the stop handlers, and out with what they queued.
  r->poll();
  run_stop_handlers(s);
  r->poll();
  arrive();
  // Step 2: serve until every shard is through step 1.
  await_draining(r.get());
  // Step 3: new posts are refused; what was accepted (landing now, perhaps) runs now.
  await_posts_in_flight();
  while (!s.inbox->empty())
    r->poll();
  run_stop_handlers(s);
  r->poll();
  if (r->error() && !s.run_error) s.run_error = r->error();
  r.reset();
  current_runtime = nullptr;
}

}  // namespace uredis
