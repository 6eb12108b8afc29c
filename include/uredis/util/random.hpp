#pragma once
// rng: a fast, seeded, non-cryptographic random generator (xoshiro256**, seeded through
// splitmix64), for jitter in backoff, Redlock retry delays, replica choice and load generation.
//
// Deterministic: the same seed gives the same sequence on every platform, so tests and
// benchmarks are reproducible. 32 bytes of state, no allocation, no locking: give each shard its
// own (e.g. seeded with base_seed + shard index; splitmix64 spreads nearby seeds apart).
// Never use it for secrets: tokens, nonces and lock values that must be unguessable need a
// cryptographic source.
//
// rng satisfies std::uniform_random_bit_generator, so it works with <random> distributions and
// std::shuffle, but below() and uniform() are cheaper than the std distributions.

#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

namespace uredis::util {

class rng {
 public:
  using result_type = std::uint64_t;

  /// Seeds the four state words with successive outputs of splitmix64 started at `seed`
  /// (the seeding recommended by xoshiro's authors; it never yields the all-zero state).
  explicit constexpr rng(std::uint64_t seed) noexcept { reseed(seed); }

  /// A generator with exactly this xoshiro256 state. Precondition: not all zero (that state
  /// is a fixed point and would return 0 forever).
  static constexpr rng from_state(const std::array<std::uint64_t, 4>& state) noexcept {
    assert((state[0] | state[1] | state[2] | state[3]) != 0);
    rng r(0);
    r.state_ = state;
    return r;
  }

  /// Restarts the sequence as if constructed with `seed`.
  constexpr void reseed(std::uint64_t seed) noexcept {
    for (std::uint64_t& word : state_)
      word = splitmix64(seed);
  }

  const std::array<std::uint64_t, 4>& state() const noexcept { return state_; }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// The next 64 uniformly distributed bits.
  constexpr result_type operator()() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  /// A uniform double in [0, 1), with 53 random bits (every multiple of 2^-53 equally likely).
  constexpr double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// A double in [a, b). Precondition: a < b, both finite, b - a finite. Rounding can make
  /// a + (b - a) * u reach b; such a result is replaced by the largest double below b.
  double uniform(double a, double b) noexcept {
    assert(a < b);
    const double r = a + (b - a) * uniform();
    return r < b ? r : std::nextafter(b, a);
  }

  /// A uniform integer in [0, n), without modulo bias (Lemire's multiply-and-reject: one
  /// multiplication, and a division only in the rare case a rejection may be needed).
  /// Precondition: n > 0.
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    assert(n > 0);
    // The high 64 bits of x * n are uniform in [0, n) once the products whose low word falls
    // in the short first stretch [0, 2^64 mod n) are rejected.
    u128 m = static_cast<u128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
      while (low < threshold) {
        m = static_cast<u128>((*this)()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  // 64x64 -> 128-bit products; __extension__ keeps -Wpedantic quiet about __int128.
  __extension__ typedef unsigned __int128 u128;

  // Advances `x` and returns the next splitmix64 output.
  static constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9E37'79B9'7F4A'7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, 4> state_{};
};

}  // namespace uredis::util
