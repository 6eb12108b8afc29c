#pragma once
// Counts heap allocations per thread, for the tests that prove a path allocates nothing.
//
// alloc_counter.cpp replaces every form of the global operator new and delete (plain, array,
// aligned, nothrow, sized) with versions that bump thread_local counters and then use malloc.
// Link it only into the tests that assert on it. The counters see operator new only: memory a
// component takes from mimalloc directly (util::byte_buffer) is invisible here, which is why such
// components expose their own growth counters.
//
//   test::allocation_scope scope;
//   ... the code under test ...
//   EXPECT_EQ(scope.allocations(), 0u);

#include <cstdint>

namespace uredis::test {

/// operator new calls (every form) made by the calling thread since it started.
std::uint64_t thread_allocations() noexcept;
/// operator delete calls with a non-null pointer made by the calling thread since it started.
std::uint64_t thread_deallocations() noexcept;
/// Bytes requested from operator new by the calling thread since it started.
std::uint64_t thread_allocated_bytes() noexcept;

/// Reads the calling thread's counters relative to the moment it was constructed.
class allocation_scope {
 public:
  allocation_scope() noexcept
      : allocations_(thread_allocations()),
        deallocations_(thread_deallocations()),
        bytes_(thread_allocated_bytes()) {}

  std::uint64_t allocations() const noexcept { return thread_allocations() - allocations_; }
  std::uint64_t deallocations() const noexcept { return thread_deallocations() - deallocations_; }
  std::uint64_t bytes() const noexcept { return thread_allocated_bytes() - bytes_; }

 private:
  std::uint64_t allocations_;
  std::uint64_t deallocations_;
  std::uint64_t bytes_;
};

/// Keeps the optimizer from deleting a computation whose result a test does not otherwise use
/// (or a new/delete pair it could elide, which would make a zero count vacuous).
template <class T>
inline void do_not_optimize(const T& value) noexcept {
  asm volatile("" : : "r,m"(value) : "memory");
}

}  // namespace uredis::test
