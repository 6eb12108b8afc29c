#include "zipf.hpp"

#include <cmath>

namespace uredis::bench {
namespace {

// expm1(t) / t, continuous at t = 0 (where it is 1).
double expm1_over(double t) noexcept {
  return std::abs(t) > 1e-8 ? std::expm1(t) / t : 1.0 + t / 2.0;
}

// log1p(t) / t, continuous at t = 0 (where it is 1).
double log1p_over(double t) noexcept {
  return std::abs(t) > 1e-8 ? std::log1p(t) / t : 1.0 - t / 2.0;
}

}  // namespace

zipf_distribution::zipf_distribution(std::uint64_t n, double exponent) noexcept
    : n_(n), exponent_(exponent) {
  h_integral_low_ = big_h(1.5) - 1.0;
  h_integral_high_ = big_h(static_cast<double>(n) + 0.5);
  squeeze_ = 2.0 - big_h_inverse(big_h(2.5) - h(2.0));
}

double zipf_distribution::h(double x) const noexcept {
  return std::exp(-exponent_ * std::log(x));
}

// H(x) = (x^(1-e) - 1) / (1-e), or log(x) when e = 1; both are log(x) * expm1_over((1-e) log x).
double zipf_distribution::big_h(double x) const noexcept {
  const double log_x = std::log(x);
  return expm1_over((1.0 - exponent_) * log_x) * log_x;
}

// Solves H(x) = y: x = exp(y * log1p_over((1-e) y)).
double zipf_distribution::big_h_inverse(double y) const noexcept {
  double t = y * (1.0 - exponent_);
  if (t < -1.0) t = -1.0;  // rounding at the far low end; log1p needs t > -1
  return std::exp(log1p_over(t) * y);
}

std::uint64_t zipf_distribution::sample(util::rng& rng) const noexcept {
  const double top = static_cast<double>(n_);
  for (;;) {
    // u in (h_integral_low_, h_integral_high_]: uniform() is in [0, 1).
    const double u = h_integral_high_ + rng.uniform() * (h_integral_low_ - h_integral_high_);
    const double x = big_h_inverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0) {
      k = 1.0;
    } else if (k > top) {
      k = top;
    }
    if (k - x <= squeeze_ || u >= big_h(k + 0.5) - h(k)) return static_cast<std::uint64_t>(k);
  }
}

}  // namespace uredis::bench
