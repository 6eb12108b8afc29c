#pragma once
// buffer_ring: a provided-buffer ring (IORING_REGISTER_PBUF_RING) that a multishot recv draws
// its buffers from, so a socket with nothing to read holds no buffer.
//
//   ring entries (mmap, page-aligned)          buffers (one block, count * size bytes)
//   +--------+--------+-----+----------+       +-----------+-----------+-----+-----------+
//   | bid 0  | bid 1  | ... | bid n-1  |  -->  |  bid 0    |  bid 1    | ... |  bid n-1  |
//   +--------+--------+-----+----------+       +-----------+-----------+-----+-----------+
//     the kernel takes entries at the head; recycle() adds them back at the tail
//
// The life of a buffer: the kernel picks one when data arrives and names it in the CQE
// (IORING_CQE_F_BUFFER, id in the upper 16 bits of cqe.flags: buffer_id()); the owner reads
// buffer(bid, cqe.res) and calls recycle(bid) when done with the bytes. Until then the kernel
// cannot reuse it. Recycle promptly: when the ring runs dry, a multishot recv completes with
// -ENOBUFS and without IORING_CQE_F_MORE, and must be re-armed after buffers come back. The
// kernel can fill every buffer in one batch of completions, before the loop recycles any, so
// size the ring for a burst: 8 x 1 KiB buffers took 8 re-arms for 10,000 pipelined PONGs
// (70 KB) in the tests; the default 256 x 16 KiB holds 4 MiB.
//
// Invariants: count is a power of two in [1, 32768] (the kernel's ring is indexed by mask;
// bids are 16 bits); every bid is either in the ring or out with exactly one owner.
//
// Fallback: kernels before 5.19 have no provided-buffer rings; ring::features()
// .provided_buffer_ring says so up front, and create() then fails with
// std::errc::operation_not_supported. A connection then uses a one-shot recv into its own
// buffer (socket.hpp prep_recv) instead.
//
// Ownership: a buffer_ring belongs to the ring it was registered with and to that ring's
// thread; it keeps a pointer to the ring, which must neither move nor die first. Its
// destructor unregisters the group and frees the memory (any armed recv on the group must be
// finished or cancelled by then).

#include <liburing.h>
#include <mimalloc.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "uredis/io/buffer_ring_options.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/result.hpp"

namespace uredis::io {

class buffer_ring {
 public:
  /// Allocates the buffers and registers them with `r` under options.group_id. Fails with
  /// std::errc::operation_not_supported when the kernel lacks provided-buffer rings,
  /// std::errc::invalid_argument for a bad count or size, std::errc::not_enough_memory, or the
  /// kernel's errno (EEXIST: the group id is taken).
  static result<buffer_ring> create(ring& r, const buffer_ring_options& options = {});

  buffer_ring(buffer_ring&& other) noexcept;
  buffer_ring& operator=(buffer_ring&& other) noexcept;
  buffer_ring(const buffer_ring&) = delete;
  buffer_ring& operator=(const buffer_ring&) = delete;
  ~buffer_ring();

  std::uint16_t group_id() const noexcept { return group_id_; }
  std::uint32_t count() const noexcept { return mask_ + 1; }
  std::uint32_t buffer_size() const noexcept { return size_; }

  /// The first `len` bytes of buffer `bid` (what a CQE with res == len delivered). Valid until
  /// recycle(bid). Precondition: bid < count(), len <= buffer_size().
  std::span<const std::byte> buffer(std::uint16_t bid, std::size_t len) const noexcept {
    assert(bid <= mask_ && len <= size_);
    return {data_ + std::size_t{bid} * size_, len};
  }

  /// Gives buffer `bid` back to the kernel. Precondition: the caller owns bid (a CQE handed
  /// it out and it has not been recycled since).
  void recycle(std::uint16_t bid) noexcept {
    assert(bid <= mask_);
    io_uring_buf_ring_add(entries_, data_ + std::size_t{bid} * size_, size_, bid,
                          static_cast<int>(mask_), 0);
    io_uring_buf_ring_advance(entries_, 1);  // a release store: the kernel sees the entry
  }

 private:
  buffer_ring() noexcept = default;
  void release() noexcept;

  io_uring* ring_ = nullptr;  // null: moved from, nothing to release
  io_uring_buf_ring* entries_ = nullptr;
  std::size_t entries_bytes_ = 0;
  std::byte* data_ = nullptr;
  std::uint32_t mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint16_t group_id_ = 0;
};

/// The provided buffer a CQE carries (IORING_CQE_F_BUFFER set), or nullopt. A CQE that carries
/// one passes its ownership to the reader whatever res says: recycle it.
inline std::optional<std::uint16_t> buffer_id(const io_uring_cqe& cqe) noexcept {
  if ((cqe.flags & IORING_CQE_F_BUFFER) == 0) return std::nullopt;
  return static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
}

}  // namespace uredis::io
