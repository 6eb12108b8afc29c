#include "uredis/util/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "allocation_counter.hpp"

namespace uredis::util {
namespace {

TEST(Histogram, EmptyReportsZero) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v)
    h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(90), 90u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(Histogram, RecordingTimesEqualsRecordingOneByOne) {
  histogram once;
  histogram each;
  once.record(5, 3);
  once.record(300, 2);
  once.record(7, 0);  // nothing: not even max()
  for (int i = 0; i < 3; ++i)
    each.record(5);
  each.record(300);
  each.record(300);
  EXPECT_EQ(once.count(), 5u);
  EXPECT_EQ(once.max(), 300u);
  for (const double q : {1.0, 50.0, 60.0, 61.0, 100.0})
    EXPECT_EQ(once.percentile(q), each.percentile(q)) << q;
}

TEST(Histogram, BucketsAreContiguousAndCoverEverything) {
  for (std::size_t i = 1; i < histogram::bucket_count; ++i) {
    ASSERT_EQ(histogram::lowest_equivalent(i), histogram::highest_equivalent(i - 1) + 1) << i;
    ASSERT_EQ(histogram::index_of(histogram::lowest_equivalent(i)), i);
    ASSERT_EQ(histogram::index_of(histogram::highest_equivalent(i)), i);
  }
  EXPECT_EQ(histogram::highest_equivalent(histogram::bucket_count - 1), histogram::max_trackable);
}

TEST(Histogram, LargeValuesWithinOneSixtyFourth) {
  for (std::uint64_t v : {128ull, 1000ull, 12345ull, 999'999ull, 123'456'789ull}) {
    histogram h;
    h.record(v);
    h.record(histogram::max_trackable);  // so percentile(50) is not clamped to max()
    const std::uint64_t p = h.percentile(50);
    EXPECT_GE(p, v);
    EXPECT_LE(p - v, v / 64) << v;
  }
}

TEST(Histogram, PercentilesOfAKnownDistribution) {
  std::vector<std::uint64_t> values;
  for (std::uint64_t i = 0; i < 100'000; ++i)
    values.push_back((i * 7919) % 50'000);  // a permutation-like spread over 0..49999
  histogram h;
  for (auto v : values)
    h.record(v);
  std::sort(values.begin(), values.end());
  for (double q : {50.0, 90.0, 99.0, 99.9}) {
    const auto exact = values[static_cast<std::size_t>(q / 100.0 * 100'000) - 1];
    const auto got = h.percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got - exact, exact / 64 + 1) << q;
  }
  EXPECT_EQ(h.max(), 49'999u);
}

TEST(Histogram, HugeValuesClampButMaxIsExact) {
  histogram h;
  h.record(std::uint64_t{1} << 40);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), std::uint64_t{1} << 40);
  EXPECT_EQ(h.percentile(99.9), std::uint64_t{1} << 40);  // min(bucket top, max) with max above
}

TEST(Histogram, MergeAddsCountsAndMax) {
  histogram a, b;
  for (int i = 0; i < 10; ++i)
    a.record(10);
  for (int i = 0; i < 10; ++i)
    b.record(1000);
  a.merge(b);
  EXPECT_EQ(a.count(), 20u);
  EXPECT_EQ(a.percentile(50), 10u);
  EXPECT_GE(a.percentile(90), 1000u);
  EXPECT_EQ(a.max(), 1000u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(50), 0u);
}

TEST(Histogram, RecordingAllocatesNothing) {
  auto h = std::make_unique<histogram>();
  dev::allocation_scope counter;
  for (std::uint64_t v = 0; v < 1'000'000; v += 7)
    h->record(v);
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_GT(h->count(), 0u);
}

}  // namespace
}  // namespace uredis::util
