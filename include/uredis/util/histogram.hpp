#pragma once
// histogram: an HDR-style latency histogram of non-negative integer values (microseconds in
// uredis-bench), with fixed memory and nothing allocated while recording.
//
// Buckets are log-linear: values below 128 each have their own bucket (exact); above that,
// every power-of-two range [2^k, 2^(k+1)) is split into 64 equal sub-buckets, so a value is
// known to within 1/64 (1.6%) of itself. Values above max_trackable are clamped into the last
// bucket (max() still reports the true largest value).
//
//   index:   0..127        128..191       192..255        ...   (bucket_count - 1)
//   values:  0..127 (x1)   128..255 (x2)  256..511 (x4)   ...   2^36 range
//
// Invariants: count() == sum of all bucket counts; percentile(q) is the highest value that is
// equivalent (same bucket) to the value at rank ceil(q/100 * count()), never above max().
// Not thread-safe: one histogram per thread, merge() them afterwards.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace uredis::util {

class histogram {
 public:
  /// 2^7 exact values, then 64 sub-buckets per power of two.
  static constexpr unsigned sub_bucket_bits = 7;
  static constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << sub_bucket_bits;
  static constexpr std::uint64_t half_count = sub_bucket_count / 2;
  /// 2^36 us is 19 hours: no latency worth measuring is longer.
  static constexpr unsigned max_bits = 36;
  static constexpr std::uint64_t max_trackable = (std::uint64_t{1} << max_bits) - 1;
  static constexpr std::size_t bucket_count =
      (max_bits - sub_bucket_bits + 2) * half_count;  // the index of max_trackable, plus one
  static_assert(bucket_count == 1984, "31 ranges of 64, under 16 KiB of counters");

  /// Counts `times` occurrences of `value`. Never allocates, O(1).
  void record(std::uint64_t value, std::uint64_t times = 1) noexcept {
    if (times == 0) return;
    max_ = std::max(max_, value);
    counts_[index_of(std::min(value, max_trackable))] += times;
    count_ += times;
  }

  /// Adds every value counted by `other`.
  void merge(const histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i)
      counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }

  void reset() noexcept {
    counts_.fill(0);
    count_ = 0;
    max_ = 0;
  }

  std::uint64_t count() const noexcept { return count_; }
  /// The largest value recorded (exact), 0 when empty.
  std::uint64_t max() const noexcept { return max_; }

  /// The value below or at which `percent` (0..100) of the recorded values lie, to the
  /// histogram's precision; 0 when empty.
  std::uint64_t percentile(double percent) const noexcept {
    if (count_ == 0) return 0;
    percent = std::clamp(percent, 0.0, 100.0);
    auto rank = static_cast<std::uint64_t>(percent / 100.0 * static_cast<double>(count_) + 0.5);
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += counts_[i];
      // The last bucket also holds the clamped values: only max() knows how far it reaches.
      if (seen >= rank) return i + 1 == bucket_count ? max_ : std::min(highest_equivalent(i), max_);
    }
    return max_;
  }

  /// The bucket holding `value` (value <= max_trackable).
  static constexpr std::size_t index_of(std::uint64_t value) noexcept {
    if (value < sub_bucket_count) return static_cast<std::size_t>(value);
    const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - sub_bucket_bits;
    return static_cast<std::size_t>((shift + 1) * half_count + ((value >> shift) - half_count));
  }
  /// The smallest value in bucket `index`.
  static constexpr std::uint64_t lowest_equivalent(std::size_t index) noexcept {
    if (index < sub_bucket_count) return index;
    const std::uint64_t shift = index / half_count - 1;
    return (index % half_count + half_count) << shift;
  }
  /// The largest value in bucket `index`.
  static constexpr std::uint64_t highest_equivalent(std::size_t index) noexcept {
    if (index < sub_bucket_count) return index;
    const std::uint64_t shift = index / half_count - 1;
    return lowest_equivalent(index) + (std::uint64_t{1} << shift) - 1;
  }

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

static_assert(histogram::index_of(histogram::max_trackable) == histogram::bucket_count - 1);

}  // namespace uredis::util
