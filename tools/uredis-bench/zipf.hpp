#pragma once
// zipf_distribution: ranks 1..n drawn with probability proportional to rank^-exponent, in
// O(1) time and memory whatever n is (a keyspace of 10^9 needs no table and no start-up pass).
//
// Method: rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
// variates from monotone discrete distributions", ACM TOMACS 6(3), 1996). The hat function
// h(x) = x^-exponent is integrated in closed form (H below) and inverted: a uniform u over
// [H(1.5) - h(1), H(n + 0.5)] maps to x = H^-1(u), rounded to the rank k. Rank k owns the slice
// [H(k - 0.5), H(k + 0.5)] of u (rank 1 the slice of width h(1), accepted at once); since h is
// convex that slice is at least h(k) wide, and k is accepted when u falls in its top h(k), so
// every rank comes out with probability h(k) / sum. Most draws are accepted by the cheap
// squeeze test (x close enough to k); the expected number of draws per sample is below 1.1 for
// every exponent. H and its inverse are written with expm1/log1p so that exponents near 1
// (YCSB's 0.99) lose no precision.
//
// Invariants: n >= 1, exponent > 0 and finite; sample() returns a value in 1..n.

#include <cstdint>

#include "uredis/util/random.hpp"

namespace uredis::bench {

class zipf_distribution {
 public:
  zipf_distribution(std::uint64_t n, double exponent) noexcept;

  /// One rank in 1..n; rank 1 is the most likely.
  std::uint64_t sample(util::rng& rng) const noexcept;

  std::uint64_t n() const noexcept { return n_; }
  double exponent() const noexcept { return exponent_; }

 private:
  double h(double x) const noexcept;              // x^-exponent
  double big_h(double x) const noexcept;          // an antiderivative of h
  double big_h_inverse(double y) const noexcept;  // its inverse

  std::uint64_t n_;
  double exponent_;
  double h_integral_low_;   // H(1.5) - h(1): the lower end of u
  double h_integral_high_;  // H(n + 0.5): the upper end of u
  double squeeze_;          // k - x <= squeeze_ accepts without evaluating H
};

}  // namespace uredis::bench
