// count_allocations: uredis-bench's allocation counter (allocation_count.hpp). Linked into the
// executable only.
//
// Two doors into the heap are counted:
//   - the global operator new, every form (replaced here: malloc/aligned_alloc underneath,
//     which in this process are mimalloc's when the library's mimalloc overrides malloc);
//   - mimalloc's own entry points, which util::byte_buffer and io::buffer_ring call directly.
//     These are wrapped at link time (-Wl,--wrap=mi_malloc ... in meson.build): every call to
//     mi_X from an object of this executable, the static library included, goes to __wrap_mi_X
//     below, which counts and calls the real __real_mi_X.
// Not counted: direct malloc() calls (neither the library nor the tool makes any on the request
// path) and allocations inside shared libraries other than through operator new.

#include <mimalloc.h>

#include <cstddef>
#include <cstdlib>
#include <new>

#include "allocation_count.hpp"

namespace {

// Marks the counter as live before main() runs.
[[maybe_unused]] const bool installed = [] {
  uredis::bench::detail::allocation_counting.store(true, std::memory_order_relaxed);
  return true;
}();

void* allocate(std::size_t size) noexcept {
  uredis::bench::count_allocation();
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_aligned(std::size_t size, std::align_val_t alignment) noexcept {
  uredis::bench::count_allocation();
  const auto align = static_cast<std::size_t>(alignment);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = (size + align - 1) / align * align;
  return std::aligned_alloc(align, rounded == 0 ? align : rounded);
}

// operator new's contract: retry through the new-handler, else throw.
template <class Allocate>
void* allocate_or_throw(Allocate allocate_once) {
  for (;;) {
    if (void* p = allocate_once()) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

void* operator new(std::size_t size) {
  return allocate_or_throw([size] { return allocate(size); });
}
void* operator new[](std::size_t size) {
  return allocate_or_throw([size] { return allocate(size); });
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw([=] { return allocate_aligned(size, alignment); });
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw([=] { return allocate_aligned(size, alignment); });
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, alignment);
}

void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}

// The link-time wrappers (see the top of this file). The names are the linker's convention.
extern "C" {
void* __real_mi_malloc(std::size_t size);
void* __real_mi_zalloc(std::size_t size);
void* __real_mi_calloc(std::size_t count, std::size_t size);
void* __real_mi_realloc(void* p, std::size_t size);
void* __real_mi_malloc_aligned(std::size_t size, std::size_t alignment);
void* __real_mi_heap_malloc(mi_heap_t* heap, std::size_t size);
void* __real_mi_heap_zalloc(mi_heap_t* heap, std::size_t size);
void* __real_mi_heap_malloc_aligned(mi_heap_t* heap, std::size_t size, std::size_t alignment);

void* __wrap_mi_malloc(std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_malloc(size);
}
void* __wrap_mi_zalloc(std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_zalloc(size);
}
void* __wrap_mi_calloc(std::size_t count, std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_calloc(count, size);
}
void* __wrap_mi_realloc(void* p, std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_realloc(p, size);
}
void* __wrap_mi_malloc_aligned(std::size_t size, std::size_t alignment) {
  uredis::bench::count_allocation();
  return __real_mi_malloc_aligned(size, alignment);
}
void* __wrap_mi_heap_malloc(mi_heap_t* heap, std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_heap_malloc(heap, size);
}
void* __wrap_mi_heap_zalloc(mi_heap_t* heap, std::size_t size) {
  uredis::bench::count_allocation();
  return __real_mi_heap_zalloc(heap, size);
}
void* __wrap_mi_heap_malloc_aligned(mi_heap_t* heap, std::size_t size, std::size_t alignment) {
  uredis::bench::count_allocation();
  return __real_mi_heap_malloc_aligned(heap, size, alignment);
}
}
