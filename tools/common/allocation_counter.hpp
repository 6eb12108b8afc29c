#pragma once
// allocation_counter: counts heap allocations, for the tests that prove a path allocates nothing
// and for uredis-bench --count-allocations. One implementation for both (allocation_counter.cpp,
// which meson.build links whole with the linker flags it needs: use allocation_counter_dep). It
// lives here, beside the tools, because the tests and the tools can each be turned off and both
// need it; it is never part of the library.
//
// Two doors into the heap are counted, alike:
//   - the global operator new and delete, every form (replaced: malloc underneath, which in a
//     uredis process is mimalloc's);
//   - mimalloc's own entry points, which util::byte_buffer and io::buffer_ring call directly:
//     wrapped at link time (-Wl,--wrap=mi_malloc ...), so every call to mi_X from an object of
//     the executable, the static uredis library included, goes to a counting __wrap_mi_X.
// Not seen: malloc() called directly, and allocations made inside shared libraries other than
// through operator new (with -Ddefault_library=shared that includes liburedis.so's own mimalloc
// calls; the scripts and CI build the static library). mi_realloc counts as one allocation,
// whether or not the block moved. A mimalloc function the library starts calling must join the
// list in meson.build and get its wrapper, or it goes unseen.
//
// Counts are kept per thread, for the tests (another thread's allocations are not what a test
// asserts on), and for the whole process, for uredis-bench (its shards are threads).
//
//   dev::allocation_scope scope;
//   ... the code under test ...
//   EXPECT_EQ(scope.allocations(), 0u);

#include <cstdint>

namespace uredis::dev {

/// Allocations (operator new, every form, and mimalloc's) made by the calling thread so far.
std::uint64_t thread_allocations() noexcept;
/// Deallocations of a non-null pointer (operator delete, mi_free) by the calling thread so far.
std::uint64_t thread_deallocations() noexcept;
/// Bytes asked for by the calling thread's allocations so far.
std::uint64_t thread_allocated_bytes() noexcept;
/// Allocations made by every thread of the process so far.
std::uint64_t process_allocations() noexcept;

/// Reads the calling thread's counts relative to the moment it was constructed.
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

}  // namespace uredis::dev
