#include "uredis/io/ring.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/user_data.hpp"

namespace uredis::io {
namespace {

// The kernel's limits (IORING_MAX_ENTRIES, IORING_MAX_CQ_ENTRIES). Clamping here instead of
// with IORING_SETUP_CLAMP keeps the last set-up attempt free of any flag an old kernel lacks.
constexpr unsigned max_sq_entries = 32768;
constexpr unsigned max_cq_entries = 2 * max_sq_entries;

// Set-up attempts, fastest first. The kernel answers -EINVAL to a flag it does not know, so
// each step drops what the previous kernel generation added. DEFER_TASKRUN needs
// SINGLE_ISSUER; TASKRUN_FLAG needs COOP_TASKRUN or DEFER_TASKRUN.
constexpr unsigned setup_attempts[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
        IORING_SETUP_SUBMIT_ALL,  // 6.1
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
        IORING_SETUP_SUBMIT_ALL,                                                      // 6.0
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,  // 5.19
    IORING_SETUP_SUBMIT_ALL,                                                          // 5.18
    0,
};

// The buffer group the feature probes borrow for a moment; unregistered before create()
// returns, so any group id is free for buffer_ring afterwards.
constexpr std::uint16_t probe_group_id = 0xFFFF;

// One anonymous page: a 1-entry provided-buffer ring, with its one 64-byte buffer after it.
// The kernel pins the ring's pages, so the ring must be page-aligned: mmap gives that.
class probe_page {
 public:
  probe_page() noexcept
      : size_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
        memory_(
            ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
  ~probe_page() {
    if (ok()) ::munmap(memory_, size_);
  }
  probe_page(const probe_page&) = delete;
  probe_page& operator=(const probe_page&) = delete;

  bool ok() const noexcept { return memory_ != MAP_FAILED; }
  io_uring_buf_ring* ring() const noexcept { return static_cast<io_uring_buf_ring*>(memory_); }
  void* buffer() const noexcept { return static_cast<char*>(memory_) + buffer_offset; }

  static constexpr unsigned buffer_offset = 64;
  static constexpr unsigned buffer_size = 64;

 private:
  std::size_t size_;
  void* memory_;
};

bool register_probe_group(io_uring& ring, const probe_page& page) noexcept {
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(page.ring());
  reg.ring_entries = 1;
  reg.bgid = probe_group_id;
  if (io_uring_register_buf_ring(&ring, &reg, 0) != 0) return false;
  io_uring_buf_ring_init(page.ring());
  io_uring_buf_ring_add(page.ring(), page.buffer(), probe_page::buffer_size, 0,
                        io_uring_buf_ring_mask(1), 0);
  io_uring_buf_ring_advance(page.ring(), 1);
  return true;
}

class fd_guard {
 public:
  explicit fd_guard(int fd = -1) noexcept : fd_(fd) {}
  ~fd_guard() { reset(); }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

std::error_code setup_error(int negative_errno) noexcept {
  switch (-negative_errno) {
    case ENOSYS:
      return errc::io_uring_unsupported;
    case EPERM:
      return errc::io_uring_disabled;
    case ENOMEM:
      return errc::io_uring_memlock_limit;
    default:
      return {-negative_errno, std::system_category()};
  }
}

result<ring> ring::create(const ring_options& options) {
  if (options.entries == 0) return std::make_error_code(std::errc::invalid_argument);

  ring r;
  const unsigned* attempt = std::begin(setup_attempts);
  if (!options.fast_setup) attempt = std::end(setup_attempts) - 1;
  int status = -EINVAL;
  for (; attempt != std::end(setup_attempts); ++attempt) {
    io_uring_params params{};
    params.flags = *attempt;
    if (options.cq_entries != 0) {
      params.flags |= IORING_SETUP_CQSIZE;
      params.cq_entries = std::min(options.cq_entries, max_cq_entries);
    }
    status =
        io_uring_queue_init_params(std::min(options.entries, max_sq_entries), &r.ring_, &params);
    if (status == 0) {
      r.features_.single_issuer = (params.flags & IORING_SETUP_SINGLE_ISSUER) != 0;
      r.features_.defer_taskrun = (params.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
      r.features_.coop_taskrun = (params.flags & IORING_SETUP_COOP_TASKRUN) != 0;
      r.features_.taskrun_flag = (params.flags & IORING_SETUP_TASKRUN_FLAG) != 0;
      r.features_.submit_all = (params.flags & IORING_SETUP_SUBMIT_ALL) != 0;
      r.features_.nodrop = (params.features & IORING_FEAT_NODROP) != 0;
      r.features_.ext_arg = (params.features & IORING_FEAT_EXT_ARG) != 0;
      r.features_.fast_poll = (params.features & IORING_FEAT_FAST_POLL) != 0;
      break;
    }
    // -EINVAL is "a flag (or size) I do not know": try the next, plainer set-up. Anything
    // else (no io_uring at all, forbidden, out of memory) would fail the same way again.
    if (status != -EINVAL) break;
  }
  if (status != 0) {
    r.ring_.ring_fd = -1;  // liburing leaves the struct untouched on failure
    return setup_error(status);
  }
  r.probe_features(options);
  return r;
}

ring::ring(ring&& other) noexcept : ring_(other.ring_), features_(other.features_) {
  other.ring_.ring_fd = -1;
}

ring& ring::operator=(ring&& other) noexcept {
  if (this != &other) {
    close();
    ring_ = other.ring_;
    features_ = other.features_;
    other.ring_.ring_fd = -1;
  }
  return *this;
}

ring::~ring() {
  close();
}

void ring::close() noexcept {
  if (ring_.ring_fd >= 0) io_uring_queue_exit(&ring_);
  ring_.ring_fd = -1;
}

io_uring_sqe* ring::get_sqe_after_submit() noexcept {
  const result<unsigned> submitted = submit();
  if (!submitted || *submitted == 0) return nullptr;
  return io_uring_get_sqe(&ring_);
}

result<unsigned> ring::enter() noexcept {
  // GETEVENTS with min_complete 0 never blocks; under DEFER_TASKRUN it is what runs the
  // completions queued as task work, and on any ring it flushes overflowed CQEs.
  const int status = io_uring_submit_and_get_events(&ring_);
  if (status >= 0) return static_cast<unsigned>(status);
  // Push-back, not failure: -EBUSY/-EAGAIN while the kernel holds completions it could not
  // post (reap, then submit again), -EINTR from a signal. The SQEs stay queued in the SQ.
  if (status == -EBUSY || status == -EAGAIN || status == -EINTR) return 0u;
  return std::error_code(-status, std::system_category());
}

result<unsigned> ring::submit_and_wait(unsigned wait_nr) noexcept {
  const int status = io_uring_submit_and_wait(&ring_, wait_nr);
  if (status < 0 && status != -EINTR && status != -EBUSY && status != -EAGAIN)
    return std::error_code(-status, std::system_category());
  return cq_ready();
}

result<unsigned> ring::submit_and_wait(unsigned wait_nr,
                                       std::chrono::nanoseconds timeout) noexcept {
  if (wait_nr == 0 || timeout <= std::chrono::nanoseconds::zero()) {
    const result<unsigned> submitted = submit();
    if (!submitted) return submitted.error();
    return cq_ready();
  }
  __kernel_timespec ts{};
  ts.tv_sec = static_cast<decltype(ts.tv_sec)>(timeout.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<decltype(ts.tv_nsec)>(timeout.count() % 1'000'000'000);
  io_uring_cqe* first = nullptr;
  // liburing 2.3 returns the number submitted, -ETIME when the wait timed out, or another
  // -errno; with IORING_FEAT_EXT_ARG the timeout travels in the syscall, without it liburing
  // queues a timeout SQE of its own (see for_each_cqe).
  const int status = io_uring_submit_and_wait_timeout(&ring_, &first, wait_nr, &ts, nullptr);
  if (status < 0 && status != -ETIME && status != -EINTR && status != -EBUSY && status != -EAGAIN)
    return std::error_code(-status, std::system_category());
  return cq_ready();
}

void ring::probe_features(const ring_options& options) noexcept {
  if (options.register_ring_fd && features_.single_issuer)
    features_.registered_ring_fd = io_uring_register_ring_fd(&ring_) == 1;

  bool recv_supported = false;
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_); probe != nullptr) {
    features_.msg_ring = io_uring_opcode_supported(probe, IORING_OP_MSG_RING) != 0;
    recv_supported = io_uring_opcode_supported(probe, IORING_OP_RECV) != 0;
    io_uring_free_probe(probe);
  }

  // Registering a ring is the only reliable test: the opcode list does not mention it.
  {
    const probe_page page;
    if (page.ok() && register_probe_group(ring_, page)) {
      features_.provided_buffer_ring = true;
      io_uring_unregister_buf_ring(&ring_, probe_group_id);
    }
  }

  if (options.probe_multishot && recv_supported && features_.provided_buffer_ring)
    features_.multishot_recv = probe_multishot_recv();
}

// Runs one multishot recv on a Unix socket pair. Kernels before 6.0 reject the
// IORING_RECV_MULTISHOT flag with -EINVAL; one that has it delivers the byte with
// IORING_CQE_F_MORE (the request stays armed). Closing the peer then ends the request (EOF, or
// -ENOBUFS since the only buffer is spent), and create() returns with the CQ empty.
bool ring::probe_multishot_recv() noexcept {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
  fd_guard receiver(pair[0]);
  fd_guard sender(pair[1]);
  const probe_page page;
  if (!page.ok() || !register_probe_group(ring_, page)) return false;

  bool multishot = false;
  io_uring_sqe* sqe = get_sqe();
  if (sqe != nullptr && ::write(sender.get(), "x", 1) == 1) {
    io_uring_prep_recv_multishot(sqe, receiver.get(), nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = probe_group_id;
    io_uring_sqe_set_data64(sqe, encode_user_data(0, op::probe));

    bool armed = true;
    bool first = true;
    // Bounded: a kernel that neither answers nor ends the request within a few seconds has
    // no usable multishot recv; its late CQEs carry op::probe, which dispatch ignores.
    for (int round = 0; armed && round < 3; ++round) {
      if (!submit_and_wait(1, std::chrono::seconds(1))) break;
      for_each_cqe([&](const io_uring_cqe& cqe) {
        if (decode_op(cqe.user_data) != op::probe) return;
        const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
        if (first) {
          multishot = cqe.res == 1 && more;
          first = false;
          if (more) sender.reset();  // ends the request: EOF or -ENOBUFS
        }
        if (!more) armed = false;
      });
    }
  }
  io_uring_unregister_buf_ring(&ring_, probe_group_id);
  return multishot;
}

void prep_msg_ring(io_uring_sqe* sqe, const ring& target, std::uint64_t target_user_data,
                   std::uint32_t value, std::uint64_t user_data) noexcept {
  io_uring_prep_msg_ring(sqe, target.fd(), value, target_user_data, 0);
  io_uring_sqe_set_data64(sqe, user_data);
}

}  // namespace uredis::io
