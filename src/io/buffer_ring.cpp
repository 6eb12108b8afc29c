#include "io/buffer_ring.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <system_error>
#include <utility>

namespace uredis::io {
namespace {

// The kernel indexes the ring with a 16-bit head and tail, so at most 2^15 entries.
constexpr std::uint32_t max_count = 32768;

// Page-aligned buffers: with a power-of-two size no two buffers share a cache line, and each
// of the default 16 KiB buffers spans exactly four pages.
constexpr std::size_t buffer_alignment = 4096;

std::size_t round_to_pages(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

result<buffer_ring> buffer_ring::create(ring& r, const buffer_ring_options& options) {
  const std::uint32_t count = options.count;
  if (count == 0 || count > max_count || (count & (count - 1)) != 0 || options.size == 0)
    return std::make_error_code(std::errc::invalid_argument);
  if (!r.features().provided_buffer_ring)
    return std::make_error_code(std::errc::operation_not_supported);

  buffer_ring br;
  br.mask_ = count - 1;
  br.size_ = options.size;
  br.group_id_ = options.group_id;

  const std::size_t data_bytes = std::size_t{count} * options.size;
  void* data = options.heap != nullptr
                   ? mi_heap_malloc_aligned(options.heap, data_bytes, buffer_alignment)
                   : mi_malloc_aligned(data_bytes, buffer_alignment);
  if (data == nullptr) return std::make_error_code(std::errc::not_enough_memory);
  br.data_ = static_cast<std::byte*>(data);

  br.entries_bytes_ = round_to_pages(std::size_t{count} * sizeof(io_uring_buf));
  void* entries = ::mmap(nullptr, br.entries_bytes_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (entries == MAP_FAILED) {
    br.release();
    return std::make_error_code(std::errc::not_enough_memory);
  }
  br.entries_ = static_cast<io_uring_buf_ring*>(entries);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br.entries_);
  reg.ring_entries = count;
  reg.bgid = options.group_id;
  if (const int status = io_uring_register_buf_ring(&r.native(), &reg, 0); status != 0) {
    br.release();
    return std::error_code(-status, std::system_category());
  }
  br.ring_ = &r.native();

  io_uring_buf_ring_init(br.entries_);
  for (std::uint32_t bid = 0; bid < count; ++bid) {
    io_uring_buf_ring_add(br.entries_, br.data_ + std::size_t{bid} * br.size_, br.size_,
                          static_cast<std::uint16_t>(bid), static_cast<int>(br.mask_),
                          static_cast<int>(bid));
  }
  io_uring_buf_ring_advance(br.entries_, static_cast<int>(count));
  return br;
}

buffer_ring::buffer_ring(buffer_ring&& other) noexcept
    : ring_(std::exchange(other.ring_, nullptr)),
      entries_(std::exchange(other.entries_, nullptr)),
      entries_bytes_(std::exchange(other.entries_bytes_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      mask_(other.mask_),
      size_(other.size_),
      group_id_(other.group_id_) {}

buffer_ring& buffer_ring::operator=(buffer_ring&& other) noexcept {
  if (this != &other) {
    release();
    ring_ = std::exchange(other.ring_, nullptr);
    entries_ = std::exchange(other.entries_, nullptr);
    entries_bytes_ = std::exchange(other.entries_bytes_, 0);
    data_ = std::exchange(other.data_, nullptr);
    mask_ = other.mask_;
    size_ = other.size_;
    group_id_ = other.group_id_;
  }
  return *this;
}

buffer_ring::~buffer_ring() {
  release();
}

void buffer_ring::release() noexcept {
  // Unregister first: once the kernel forgets the group it no longer touches either block.
  if (ring_ != nullptr) io_uring_unregister_buf_ring(ring_, group_id_);
  if (entries_ != nullptr) ::munmap(entries_, entries_bytes_);
  mi_free(data_);  // null-safe
  ring_ = nullptr;
  entries_ = nullptr;
  entries_bytes_ = 0;
  data_ = nullptr;
}

}  // namespace uredis::io
