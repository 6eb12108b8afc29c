// The allocation counter (tools/common/allocation_counter.hpp) is not vacuous: it sees every form
// of operator new, mimalloc called from a header (util::byte_buffer) and from the library's own
// objects (io::buffer_ring), per thread, and every thread in the process's total.

#include "allocation_counter.hpp"

#include <gtest/gtest.h>
#include <mimalloc.h>

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "io/buffer_ring.hpp"
#include "kernel_feature.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis {
namespace {

using dev::allocation_scope;
using dev::do_not_optimize;

TEST(AllocationCounter, sees_allocations) {
  allocation_scope scope;
  auto p = std::make_unique<int>(7);
  do_not_optimize(p.get());
  EXPECT_EQ(scope.allocations(), 1u);
  EXPECT_GE(scope.bytes(), sizeof(int));
  p.reset();
  EXPECT_EQ(scope.deallocations(), 1u);
}

TEST(AllocationCounter, sees_every_form) {
  struct alignas(64) over_aligned {
    char bytes[64];
  };
  allocation_scope scope;
  auto* a = new int[4];
  do_not_optimize(a);
  auto* b = new (std::nothrow) int(1);
  do_not_optimize(b);
  auto* c = new over_aligned;
  do_not_optimize(c);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c) % 64, 0u);
  auto* d = new (std::nothrow) over_aligned[2];
  do_not_optimize(d);
  std::string s(100, 'x');  // past the small-string buffer
  do_not_optimize(s);
  const std::uint64_t allocations = scope.allocations();
  delete[] a;
  delete b;
  delete c;
  delete[] d;
  EXPECT_EQ(allocations, 5u);
  EXPECT_EQ(scope.deallocations(), 4u);
}

TEST(AllocationCounter, counts_per_thread) {
  allocation_scope scope;
  std::uint64_t seen_by_worker = 0;
  std::thread worker([&] {
    allocation_scope inner;
    for (int i = 0; i < 10; ++i)
      do_not_optimize(std::make_unique<int>(i).get());
    seen_by_worker = inner.allocations();
  });
  const std::uint64_t before_join = scope.allocations();  // the std::thread's own state
  worker.join();
  EXPECT_EQ(seen_by_worker, 10u);
  // None of the worker's ten showed up here.
  EXPECT_EQ(scope.allocations(), before_join);
  EXPECT_LT(before_join, 10u);
}

TEST(AllocationCounter, the_process_total_sums_every_thread) {
  const std::uint64_t before = dev::process_allocations();
  std::thread worker([] {
    for (int i = 0; i < 10; ++i)
      do_not_optimize(std::make_unique<int>(i).get());
  });
  worker.join();
  EXPECT_GE(dev::process_allocations() - before, 10u);
}

// util::byte_buffer takes its memory from mimalloc directly, never through operator new.
TEST(AllocationCounter, sees_a_byte_buffer_growth) {
  util::byte_buffer b;
  {
    const allocation_scope scope;
    b.append("x");  // the first growth: mi_malloc
    ASSERT_EQ(b.growths(), 1u);
    EXPECT_EQ(scope.allocations(), 1u);
    EXPECT_EQ(scope.bytes(), b.capacity());
    EXPECT_EQ(scope.deallocations(), 0u);
  }
  const allocation_scope scope;
  (void)b.prepare(4 * b.capacity());  // a second growth: mi_malloc, then mi_free of the old
  ASSERT_EQ(b.growths(), 2u);
  EXPECT_EQ(scope.allocations(), 1u);
  EXPECT_EQ(scope.bytes(), b.capacity());
  EXPECT_EQ(scope.deallocations(), 1u);
}

TEST(AllocationCounter, sees_a_byte_buffer_growth_on_a_heap_of_its_own) {
  mi_heap_t* heap = mi_heap_new();
  ASSERT_NE(heap, nullptr);
  {
    util::byte_buffer b{heap};
    const allocation_scope scope;
    b.append("x");  // mi_heap_malloc
    ASSERT_EQ(b.growths(), 1u);
    EXPECT_EQ(scope.allocations(), 1u);
    EXPECT_EQ(scope.bytes(), b.capacity());
  }
  mi_heap_delete(heap);
}

// io::buffer_ring calls mimalloc from src/, an object of the static library, not a header: the
// link-time wrappers see it there too.
TEST(AllocationCounter, sees_mimalloc_called_inside_the_library) {
  result<io::ring> r = io::ring::create({.entries = 8});
  if (!r && test::lacks_io_uring(r.error())) return;
  ASSERT_TRUE(r.has_value()) << r.error().message();
  if (test::lacks(r->features().provided_buffer_ring, {5, 19, 0}, "provided-buffer rings")) return;
  constexpr std::uint32_t count = 8;
  constexpr std::uint32_t size = 4096;
  allocation_scope scope;
  {
    result<io::buffer_ring> br = io::buffer_ring::create(*r, {.count = count, .size = size});
    ASSERT_TRUE(br.has_value()) << br.error().message();
    EXPECT_EQ(scope.allocations(), 1u) << "mi_malloc_aligned, for the buffers";
    EXPECT_EQ(scope.bytes(), std::uint64_t{count} * size);
  }
  EXPECT_EQ(scope.deallocations(), 1u) << "mi_free, of the buffers";
}

}  // namespace
}  // namespace uredis
