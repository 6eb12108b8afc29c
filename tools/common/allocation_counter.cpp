// The allocation counter (allocation_counter.hpp): replaces the global operator new and delete,
// every form, and defines the link-time wrappers of mimalloc's entry points that meson.build
// asks the linker for. Each counted call bumps the thread's counters and the process's.

#include "allocation_counter.hpp"

#include <mimalloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace uredis::dev {
namespace {

// Constant-initialized, so reading them from operator new never runs a TLS initializer (which
// could itself allocate).
constinit thread_local std::uint64_t thread_allocation_count = 0;
constinit thread_local std::uint64_t thread_deallocation_count = 0;
constinit thread_local std::uint64_t thread_byte_count = 0;
// Relaxed: uredis-bench reads it between phases, after the barrier that ends one (whose mutex
// orders the read after the shards' increments).
constinit std::atomic<std::uint64_t> process_allocation_count{0};

void count_allocation(std::size_t bytes) noexcept {
  ++thread_allocation_count;
  thread_byte_count += bytes;
  process_allocation_count.fetch_add(1, std::memory_order_relaxed);
}

void count_deallocation(const void* p) noexcept {
  if (p != nullptr) ++thread_deallocation_count;
}

void* counted_malloc(std::size_t size, std::size_t alignment) noexcept {
  const std::size_t requested = size;
  if (size == 0) size = 1;  // operator new(0) must still return a unique pointer
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (size <= SIZE_MAX - alignment) {
    // aligned_alloc wants a size that is a multiple of the alignment (a power of two).
    p = std::aligned_alloc(alignment, (size + alignment - 1) & ~(alignment - 1));
  }
  if (p != nullptr) count_allocation(requested);
  return p;
}

// The throwing forms: retry through the new-handler, as the standard's operator new does.
void* counted_new(std::size_t size, std::size_t alignment) {
  for (;;) {
    if (void* p = counted_malloc(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* counted_new_nothrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return counted_new(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

void counted_delete(void* p) noexcept {
  count_deallocation(p);
  std::free(p);
}

constexpr std::size_t plain = alignof(std::max_align_t);

}  // namespace

std::uint64_t thread_allocations() noexcept {
  return thread_allocation_count;
}
std::uint64_t thread_deallocations() noexcept {
  return thread_deallocation_count;
}
std::uint64_t thread_allocated_bytes() noexcept {
  return thread_byte_count;
}
std::uint64_t process_allocations() noexcept {
  return process_allocation_count.load(std::memory_order_relaxed);
}

}  // namespace uredis::dev

using uredis::dev::counted_delete;
using uredis::dev::counted_new;
using uredis::dev::counted_new_nothrow;
using uredis::dev::plain;

void* operator new(std::size_t size) {
  return counted_new(size, plain);
}
void* operator new[](std::size_t size) {
  return counted_new(size, plain);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, plain);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, plain);
}
void* operator new(std::size_t size, std::align_val_t al) {
  return counted_new(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return counted_new(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, static_cast<std::size_t>(al));
}

void operator delete(void* p) noexcept {
  counted_delete(p);
}
void operator delete[](void* p) noexcept {
  counted_delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_delete(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  counted_delete(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  counted_delete(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  counted_delete(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(p);
}

// The link-time wrappers (the names are the linker's convention for -Wl,--wrap=mi_X). A failed
// allocation (null) is not counted, as with operator new.
using uredis::dev::count_allocation;
using uredis::dev::count_deallocation;

extern "C" {
void* __real_mi_malloc(std::size_t size);
void* __real_mi_zalloc(std::size_t size);
void* __real_mi_calloc(std::size_t count, std::size_t size);
void* __real_mi_realloc(void* p, std::size_t size);
void* __real_mi_malloc_aligned(std::size_t size, std::size_t alignment);
void* __real_mi_heap_malloc(mi_heap_t* heap, std::size_t size);
void* __real_mi_heap_zalloc(mi_heap_t* heap, std::size_t size);
void* __real_mi_heap_malloc_aligned(mi_heap_t* heap, std::size_t size, std::size_t alignment);
void __real_mi_free(void* p);

void* __wrap_mi_malloc(std::size_t size) {
  void* p = __real_mi_malloc(size);
  if (p != nullptr) count_allocation(size);
  return p;
}
void* __wrap_mi_zalloc(std::size_t size) {
  void* p = __real_mi_zalloc(size);
  if (p != nullptr) count_allocation(size);
  return p;
}
void* __wrap_mi_calloc(std::size_t count, std::size_t size) {
  void* p = __real_mi_calloc(count, size);
  if (p != nullptr) count_allocation(count * size);  // the product fits: mimalloc checked it
  return p;
}
void* __wrap_mi_realloc(void* p, std::size_t size) {
  void* q = __real_mi_realloc(p, size);
  if (q != nullptr) count_allocation(size);
  return q;
}
void* __wrap_mi_malloc_aligned(std::size_t size, std::size_t alignment) {
  void* p = __real_mi_malloc_aligned(size, alignment);
  if (p != nullptr) count_allocation(size);
  return p;
}
void* __wrap_mi_heap_malloc(mi_heap_t* heap, std::size_t size) {
  void* p = __real_mi_heap_malloc(heap, size);
  if (p != nullptr) count_allocation(size);
  return p;
}
void* __wrap_mi_heap_zalloc(mi_heap_t* heap, std::size_t size) {
  void* p = __real_mi_heap_zalloc(heap, size);
  if (p != nullptr) count_allocation(size);
  return p;
}
void* __wrap_mi_heap_malloc_aligned(mi_heap_t* heap, std::size_t size, std::size_t alignment) {
  void* p = __real_mi_heap_malloc_aligned(heap, size, alignment);
  if (p != nullptr) count_allocation(size);
  return p;
}
void __wrap_mi_free(void* p) {
  count_deallocation(p);
  __real_mi_free(p);
}
}
