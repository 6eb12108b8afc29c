#pragma once
// ring: one io_uring instance (submission + completion queues), owned by one shard thread.
//
// A loop turn is: get_sqe()/prep_* for each operation, then submit() (or submit_and_wait()
// when there is nothing else to do), then for_each_cqe() to dispatch completions by their
// user_data (src/io/user_data.hpp). create() asks the kernel for the fast set-up and falls back
// step by step when it refuses, recording what it got in features(); the rest of the library reads
// features() instead of guessing from the kernel version.
//
// io_uring quirks that shape this class (each bites somewhere else if forgotten):
//  - SINGLE_ISSUER: only the thread that created the ring may submit to it; another thread
//    gets -EEXIST (or -EBADF/-EINVAL when the ring fd is registered, which is per thread).
//    So a shard creates its ring on its own thread, and other threads reach it only through
//    MSG_RING (prep_msg_ring) or an eventfd, never by submitting.
//  - DEFER_TASKRUN: completions are not posted on their own. The kernel queues them as task
//    work that runs only when this thread enters io_uring_enter with GETEVENTS. The ring is
//    set up with TASKRUN_FLAG too, so the kernel raises IORING_SQ_TASKRUN when such work is
//    waiting; submit() checks that flag (a plain load, no syscall) and enters with GETEVENTS
//    when it is set, so a poll() turn never misses a completion and never pays a syscall for
//    nothing.
//  - CQ overflow: with IORING_FEAT_NODROP (5.5+) completions that did not fit are kept by the
//    kernel and IORING_SQ_CQ_OVERFLOW is raised; submit() enters to flush them, like TASKRUN.
//  - SUBMIT_ALL: without it the kernel stops a batch at the first SQE that fails to prepare and
//    leaves the rest in the SQ; with it every SQE is consumed and failures become CQEs.
//  - liburing on kernels without IORING_FEAT_EXT_ARG (before 5.11) implements a wait timeout
//    with an SQE whose user_data is ~0; for_each_cqe() drops that CQE (no op tag is 0xFF).
//
// Ownership: the ring owns the io_uring (fd and mappings) and closes it in its destructor,
// which may run on another thread once the owner has stopped using it (a joined shard). It may
// be moved only before anything keeps a pointer to it (a buffer_ring does); the move exists so
// create() can return it. Not thread-safe: one thread, the creator, uses it.

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <system_error>
#include <utility>

#include "uredis/result.hpp"

namespace uredis::io {

/// How to set a ring up. A plain struct: the defaults are the fast path.
struct ring_options {
  /// Submission queue size; the kernel rounds it up to a power of two, and create() clamps it
  /// to the kernel's maximum, 32768. Must be nonzero.
  unsigned entries = 256;
  /// Completion queue size; 0 means the kernel's default, twice `entries`.
  unsigned cq_entries = 0;
  /// Try SINGLE_ISSUER, DEFER_TASKRUN, COOP_TASKRUN and SUBMIT_ALL, dropping them one step at
  /// a time when the kernel refuses. false asks for the plain set-up directly (a ring that
  /// other threads must submit to; tests of the fallback path).
  bool fast_setup = true;
  /// Check multishot recv by running one on a socket pair during create() (a few syscalls),
  /// rather than trusting the kernel version. false leaves features().multishot_recv false.
  bool probe_multishot = true;
  /// Register the ring fd with the kernel (fewer fd look-ups per io_uring_enter). Done only
  /// when SINGLE_ISSUER was granted: the registration is an index in the creating thread's
  /// table, and only SINGLE_ISSUER makes the kernel refuse (-EEXIST) the unregister liburing
  /// issues when the ring is destroyed on another thread, which would otherwise drop that
  /// thread's own registration at the same index.
  bool register_ring_fd = true;
};

/// What the kernel granted. Each flag is true only when the kernel accepted or demonstrated it.
struct ring_features {
  bool single_issuer = false;       // IORING_SETUP_SINGLE_ISSUER (6.0)
  bool defer_taskrun = false;       // IORING_SETUP_DEFER_TASKRUN (6.1)
  bool coop_taskrun = false;        // IORING_SETUP_COOP_TASKRUN (5.19), the fallback for the above
  bool taskrun_flag = false;        // IORING_SETUP_TASKRUN_FLAG: IORING_SQ_TASKRUN is maintained
  bool submit_all = false;          // IORING_SETUP_SUBMIT_ALL (5.18)
  bool nodrop = false;              // IORING_FEAT_NODROP: overflowing completions are kept
  bool ext_arg = false;             // IORING_FEAT_EXT_ARG: wait timeouts need no SQE (5.11)
  bool fast_poll = false;           // IORING_FEAT_FAST_POLL: socket ops retry by poll, not a thread
  bool registered_ring_fd = false;  // io_uring_register_ring_fd succeeded (5.18)
  bool provided_buffer_ring = false;  // IORING_REGISTER_PBUF_RING works (5.19)
  bool multishot_recv = false;        // a multishot recv ran and reported IORING_CQE_F_MORE
  bool msg_ring = false;              // IORING_OP_MSG_RING is supported (5.18)
};

class ring {
 public:
  /// Sets up an io_uring. Failure names the cause: errc::io_uring_unsupported (ENOSYS: no
  /// io_uring in this kernel), errc::io_uring_disabled (EPERM: sysctl kernel.io_uring_disabled
  /// or a seccomp filter), errc::io_uring_memlock_limit (ENOMEM: RLIMIT_MEMLOCK on kernels
  /// before 5.12), std::errc::invalid_argument for entries == 0, otherwise the errno in
  /// std::system_category(). Call it on the thread that will use the ring (SINGLE_ISSUER).
  static result<ring> create(const ring_options& options = {});

  ring(ring&& other) noexcept;
  ring& operator=(ring&& other) noexcept;
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;
  ~ring();

  const ring_features& features() const noexcept { return features_; }
  /// The ring's file descriptor: the target of another ring's MSG_RING.
  int fd() const noexcept { return ring_.ring_fd; }
  /// The IORING_SETUP_* flags the ring was created with.
  unsigned setup_flags() const noexcept { return ring_.flags; }
  unsigned sq_entries() const noexcept { return ring_.sq.ring_entries; }
  unsigned cq_entries() const noexcept { return ring_.cq.ring_entries; }
  /// SQEs prepared and not yet submitted.
  unsigned sq_pending() const noexcept { return io_uring_sq_ready(&ring_); }
  /// CQEs posted and not yet reaped.
  unsigned cq_ready() const noexcept { return io_uring_cq_ready(&ring_); }
  /// The liburing handle, for liburing calls this class does not wrap.
  io_uring& native() noexcept { return ring_; }

  /// A free SQE to prepare, or nullptr. When the SQ is full it submits once and retries; it
  /// still returns nullptr if that submit failed or the kernel took nothing (it pushes back
  /// with -EBUSY while completions it could not post are pending): reap, then try again.
  /// The SQE's fields are stale: a liburing io_uring_prep_* (or io/socket.hpp's prep_*) sets
  /// them all except user_data, which the caller must set.
  io_uring_sqe* get_sqe() noexcept {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_); sqe != nullptr) return sqe;
    return get_sqe_after_submit();
  }

  /// Hands prepared SQEs to the kernel and, under DEFER_TASKRUN, runs the completions waiting
  /// as task work, so for_each_cqe() sees them. Makes no syscall when there is nothing to
  /// submit and the kernel signals no pending work. Returns the number of SQEs submitted
  /// (0 when the kernel pushed back with -EBUSY/-EAGAIN: reap and retry).
  result<unsigned> submit() noexcept {
    const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
    if (io_uring_sq_ready(&ring_) == 0 &&
        (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) == 0)
      return 0u;
    return enter();
  }

  /// Submits, then blocks until at least `wait_nr` CQEs are ready. Returns the number of CQEs
  /// ready (fewer than wait_nr only if a signal interrupted the wait).
  result<unsigned> submit_and_wait(unsigned wait_nr) noexcept;

  /// Submits, then blocks until at least `wait_nr` CQEs are ready or `timeout` has passed.
  /// Returns the number of CQEs ready; fewer than wait_nr means the timeout expired (or a
  /// signal came), which is not an error.
  result<unsigned> submit_and_wait(unsigned wait_nr, std::chrono::nanoseconds timeout) noexcept;

  /// Calls f(const io_uring_cqe&) for each CQE that was ready when the call began, in order,
  /// and returns how many it passed. Each CQE is copied and its slot handed back to the kernel
  /// *before* f runs, so f may prepare and submit new SQEs, and may even reap (a nested
  /// for_each_cqe continues past what the outer one saw; the outer one then stops).
  template <class F>
  unsigned for_each_cqe(F&& f) {
    io_uring_cq& cq = ring_.cq;
    const unsigned tail = io_uring_smp_load_acquire(cq.ktail);
    unsigned passed = 0;
    for (;;) {
      const unsigned head = *cq.khead;  // re-read: f may have reaped; we are the only writer
      if (static_cast<int>(tail - head) <= 0) break;
      const io_uring_cqe cqe = cq.cqes[head & cq.ring_mask];  // never CQE32 (not requested)
      io_uring_smp_store_release(cq.khead, head + 1);
      if (cqe.user_data == LIBURING_UDATA_TIMEOUT) continue;  // liburing's own, see above
      ++passed;
      f(cqe);
    }
    return passed;
  }

 private:
  ring() noexcept { ring_.ring_fd = -1; }
  io_uring_sqe* get_sqe_after_submit() noexcept;
  result<unsigned> enter() noexcept;
  void probe_features(const ring_options& options) noexcept;
  bool probe_multishot_recv() noexcept;
  void close() noexcept;

  io_uring ring_{};  // ring_fd < 0: moved from (or never set up), nothing to release
  ring_features features_{};
};

/// Prepares an IORING_OP_MSG_RING that posts a CQE on `target` with user_data
/// `target_user_data` and res `value` (the cross-shard wake-up: op::wake on the target). The
/// SQE itself completes on the sending ring with `user_data` (op::msg_ring). Only target.fd()
/// is read, so this is safe while another thread owns `target`. Needs features().msg_ring.
void prep_msg_ring(io_uring_sqe* sqe, const ring& target, std::uint64_t target_user_data,
                   std::uint32_t value, std::uint64_t user_data) noexcept;

/// The error for a failed io_uring_setup, as create() reports it (`negative_errno` is the
/// -errno liburing returns): ENOSYS, EPERM and ENOMEM become the errc values that name their
/// cause, anything else stays in std::system_category().
std::error_code setup_error(int negative_errno) noexcept;

}  // namespace uredis::io
