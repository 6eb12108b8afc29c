#pragma once
// buffer_ring_options: the shape of a shard's receive buffers (reactor_options::receive_buffers),
// the buffers the kernel fills for multishot recv. The ring of them is internal to the library.

#include <mimalloc.h>

#include <cstdint>

namespace uredis::io {

struct buffer_ring_options {
  /// Number of buffers: a power of two, at most 32768.
  std::uint32_t count = 256;
  /// Bytes per buffer (nonzero). 256 x 16 KiB = 4 MiB per shard, enough for a burst of large
  /// replies without -ENOBUFS while each chunk is parsed and recycled within the loop turn.
  std::uint32_t size = 16 * 1024;
  /// The buffer group id the recv SQEs name (sqe->buf_group); unique per ring.
  std::uint16_t group_id = 0;
  /// Where the buffers come from: this mimalloc heap (the shard's), or mimalloc's default
  /// heap when null. The heap must outlive the buffer_ring.
  mi_heap_t* heap = nullptr;
};

}  // namespace uredis::io
