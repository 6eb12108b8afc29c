// Replaces the global operator new and delete, every form of them, to count per thread. See
// alloc_counter.hpp.

#include "alloc_counter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace uredis::test {
namespace {

// Constant-initialized, so reading them from operator new never runs a TLS initializer (which
// could itself allocate).
constinit thread_local std::uint64_t allocations = 0;
constinit thread_local std::uint64_t deallocations = 0;
constinit thread_local std::uint64_t bytes = 0;

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
  if (p != nullptr) {
    ++allocations;
    bytes += requested;
  }
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

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  ++deallocations;
  std::free(p);
}

constexpr std::size_t plain = alignof(std::max_align_t);

}  // namespace

std::uint64_t thread_allocations() noexcept {
  return allocations;
}
std::uint64_t thread_deallocations() noexcept {
  return deallocations;
}
std::uint64_t thread_allocated_bytes() noexcept {
  return bytes;
}

}  // namespace uredis::test

using uredis::test::counted_free;
using uredis::test::counted_new;
using uredis::test::counted_new_nothrow;
using uredis::test::plain;

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
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_free(p);
}
