#include "uredis/reactor/resolver.hpp"

#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "io/user_data.hpp"

namespace uredis::reactor {

// What the resolver and its worker share. The resolver and the worker thread each hold a
// shared_ptr: whichever lets go last destroys it (and closes the eventfd).
struct resolver::worker_state {
  struct job {
    std::string host;  // a copy: the caller's string_view may not outlive resolve()
    std::uint16_t port;
    std::uint64_t sequence;
  };
  struct answer {
    std::uint64_t sequence;
    result<io::socket_address> address;
  };

  worker_state(resolve_function f, int fd) noexcept : lookup(std::move(f)), event_fd(fd) {}
  worker_state(const worker_state&) = delete;
  worker_state& operator=(const worker_state&) = delete;
  ~worker_state() { ::close(event_fd); }

  resolve_function lookup;  // called by the worker only
  const int event_fd;       // written by the worker; polled and read by the reactor's thread

  std::mutex mutex;
  std::condition_variable work_ready;  // queue became non-empty, or closed
  // Guarded by mutex.
  std::deque<job> queue;     // to the worker, in sequence order
  std::vector<answer> done;  // back to the reactor, in sequence order
  bool closed = false;       // the resolver is gone: the worker exits
};

resolver::resolver(reactor& r, resolve_function lookup)
    : reactor_(r), slot_(r.attach(*this)), lookup_(std::move(lookup)) {}

resolver::~resolver() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  pending_.clear();  // their callbacks never run
  if (state_) {
    {
      const std::lock_guard lock(state_->mutex);
      state_->closed = true;
    }
    state_->work_ready.notify_one();
    if (poll_armed_) {
      // The poll holds the eventfd open until it completes: cancel it rather than leave it
      // parked until the ring dies. Both CQEs find the slot detached and are dropped.
      if (io_uring_sqe* sqe = reactor_.sqe(); sqe != nullptr) {
        io_uring_prep_cancel64(sqe, io::encode_user_data(slot_, io::op::poll), 0);
        io_uring_sqe_set_data64(sqe, io::encode_user_data(slot_, io::op::cancel));
      }
    }
  }
  reactor_.detach(slot_);
}

std::optional<result<io::socket_address>> resolver::resolve(resolver_request& request,
                                                            std::string_view host,
                                                            std::uint16_t port) {
  assert(!request.pending() && "resolve: the request is pending; cancel it first");
  assert(request.callback_ && "resolve: the request has no callback");
  if (auto now = io::resolve_numeric(host, port)) return now;
  if (!state_) {
    if (const std::error_code ec = start_worker()) return result<io::socket_address>(ec);
  }
  request.sequence_ = next_sequence_++;
  worker_state::job job{std::string(host), port, request.sequence_};  // allocate outside the lock
  {
    const std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(job));
  }
  state_->work_ready.notify_one();
  pending_.push_back(request);
  ++lookups_on_thread_;
  return std::nullopt;
}

std::error_code resolver::start_worker() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return io::from_errno(errno);
  auto state = std::make_shared<worker_state>(std::move(lookup_), fd);
  // The worker's own reference, handed over through pthread_create's argument.
  auto handed_over = std::make_unique<std::shared_ptr<worker_state>>(state);

  // pthread rather than std::thread: an error code instead of an exception, and the thread is
  // created with every signal blocked (it inherits the creator's mask, restored just after).
  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attributes;
  ::pthread_attr_init(&attributes);
  ::pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  const int status = ::pthread_create(&thread, &attributes, &run_worker, handed_over.get());
  ::pthread_attr_destroy(&attributes);
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (status != 0) {
    lookup_ = std::move(state->lookup);  // a later resolve() tries again
    return io::from_errno(status);
  }
  handed_over.release();  // the worker owns it now
  state_ = std::move(state);
  arm_poll();
  return {};
}

void* resolver::run_worker(void* argument) noexcept {
  const std::unique_ptr<std::shared_ptr<worker_state>> owner(
      static_cast<std::shared_ptr<worker_state>*>(argument));
  worker_state& s = **owner;
  ::pthread_setname_np(::pthread_self(), "uredis-resolve");  // 15 characters at most (kernel)
  std::unique_lock lock(s.mutex);  // released before `owner`, which may destroy the mutex
  for (;;) {
    s.work_ready.wait(lock, [&s] { return s.closed || !s.queue.empty(); });
    if (s.closed) break;
    const worker_state::job job = std::move(s.queue.front());
    s.queue.pop_front();
    lock.unlock();
    result<io::socket_address> address = s.lookup(job.host, job.port);
    lock.lock();
    if (s.closed) break;
    const bool was_empty = s.done.empty();
    s.done.push_back({job.sequence, std::move(address)});
    // One doorbell per batch: the reactor takes the whole list when it wakes, and rings again
    // only for an answer pushed after that.
    if (was_empty) {
      const std::uint64_t one = 1;
      // Fails only when the counter would overflow, which the reactor's reads prevent.
      [[maybe_unused]] const ssize_t n = ::write(s.event_fd, &one, sizeof one);
    }
  }
  return nullptr;
}

void resolver::arm_poll() noexcept {
  io_uring_sqe* sqe = reactor_.sqe();
  if (sqe == nullptr) {
    // The kernel accepts nothing right now: try again at the start of the next turn (which
    // then does not sleep, so the answers cannot be stranded).
    reactor_.schedule_flush(*this);
    return;
  }
  io_uring_prep_poll_add(sqe, state_->event_fd, POLLIN);
  io_uring_sqe_set_data64(sqe, io::encode_user_data(slot_, io::op::poll));
  poll_armed_ = true;
}

void resolver::flush() {
  if (state_ && !poll_armed_) arm_poll();
}

void resolver::on_completion(io::op op, const io_uring_cqe&) {
  if (op != io::op::poll) return;
  poll_armed_ = false;
  // Reset the counter before taking the done list, so that a doorbell rung after the take is
  // not lost: it leaves the counter set and the poll armed below fires again. The read's result
  // does not matter (-EAGAIN: already reset), nor does the CQE's: whatever woke us, the done
  // list is the truth, and the poll is re-armed in any case.
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(state_->event_fd, &count, sizeof count);
  arm_poll();  // before the callbacks, which may destroy *this
  deliver();
}

void resolver::deliver() {
  assert(destroyed_ == nullptr && "resolver: answers delivered from inside a callback");
  std::vector<worker_state::answer> batch;
  {
    const std::lock_guard lock(state_->mutex);
    batch.swap(state_->done);
  }
  bool destroyed = false;
  destroyed_ = &destroyed;
  for (worker_state::answer& a : batch) {
    // Answers and pending_ are both in sequence order, and only cancellation removes a request
    // early: a request that was never answered cannot be behind the front.
    assert(pending_.empty() || pending_.front().sequence_ >= a.sequence);
    if (pending_.empty() || pending_.front().sequence_ != a.sequence) continue;  // cancelled
    resolver_request& request = pending_.front();
    pending_.pop_front();
    request.callback_(std::move(a.address));
    if (destroyed) return;  // batch is ours: the rest is dropped with it
  }
  destroyed_ = nullptr;
  // Hand the vector back when the worker has not started a new one: no allocation next time.
  batch.clear();
  const std::lock_guard lock(state_->mutex);
  if (state_->done.empty()) state_->done.swap(batch);
}

}  // namespace uredis::reactor
