#pragma once
// hash_bytes: a fast 64-bit hash of a byte string, for in-memory hash tables (the cache's
// command index). Eight bytes at a time, each pair of words folded through one 64x64->128 bit
// multiply, so a 30-byte command costs a few multiplies instead of std::hash's byte loop.
//
// Not for anything an adversary could aim at: it has no secret seed, so whoever chooses the
// bytes can choose colliding ones. The cache's commands are the application's own requests.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace uredis::util {

namespace detail {

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// GCC's and Clang's 128-bit integer (one MUL on x86-64), which -Wpedantic would name.
__extension__ using uint128 = unsigned __int128;

// The high and low halves of the full product, xored: every input bit reaches every output bit.
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128 product = static_cast<uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

}  // namespace detail

inline std::uint64_t hash_bytes(std::string_view bytes) noexcept {
  // Odd constants with well-spread bits (the golden ratio's and splitmix64's).
  constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15ull;
  constexpr std::uint64_t k1 = 0xbf58476d1ce4e5b9ull;
  constexpr std::uint64_t k2 = 0x94d049bb133111ebull;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t h = k0 ^ (n * k1);
  for (; n > 16; n -= 16, p += 16)
    h = detail::fold(detail::load64(p) ^ k1, detail::load64(p + 8) ^ h);
  // The last 1 to 16 bytes, read as two words that may overlap.
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n >= 8) {
    a = detail::load64(p);
    b = detail::load64(p + n - 8);
  } else if (n >= 4) {
    a = detail::load32(p);
    b = detail::load32(p + n - 4);
  } else if (n > 0) {
    a = static_cast<unsigned char>(p[0]) |
        std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
        std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
  }
  return detail::fold(a ^ k2 ^ h, b ^ k1 ^ n) ^ h;
}

}  // namespace uredis::util
