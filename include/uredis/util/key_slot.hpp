#pragma once
// key_slot: the Redis Cluster hash slot of a key, computed exactly as the server does.
//
// slot = crc16(hashed part) mod 16384, where crc16 is CRC-16/XMODEM (CCITT polynomial 0x1021,
// initial value 0, no reflection, no final xor) and the hashed part follows the hash-tag rule:
//
//   if the key contains '{', and a '}' follows that FIRST '{' with at least one byte between
//   them, only the bytes between the first '{' and the first '}' after it are hashed;
//   otherwise the whole key is hashed.
//
//   "{user1000}.following" -> "user1000"     "foo{}{bar}"    -> whole key (empty first tag)
//   "foo{{bar}}zap"        -> "{bar"         "foo{bar}{zap}" -> "bar"
//
// Both functions are constexpr and allocation-free; bytes are taken as unsigned.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uredis::util {

/// Number of hash slots in a Redis Cluster.
inline constexpr std::uint16_t cluster_slots = 16384;

namespace detail {

// Slicing-by-8: table k holds what one byte adds to the register when k more bytes follow it
// (the byte's own CRC, then k zero bytes shifted through). The CRC is linear, so eight bytes
// are eight independent lookups XORed together instead of a chain of eight dependent ones;
// the register's two bytes simply fold into the first two message bytes. A cluster client
// hashes every key it routes, and keys are usually longer than eight bytes.
using crc16_tables = std::array<std::array<std::uint16_t, 256>, 8>;

constexpr crc16_tables make_crc16_tables() noexcept {
  crc16_tables t{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    t[0][byte] = crc;
  }
  for (std::size_t k = 1; k < t.size(); ++k) {
    for (unsigned byte = 0; byte < 256; ++byte) {
      const std::uint16_t prev = t[k - 1][byte];
      t[k][byte] = static_cast<std::uint16_t>((prev << 8) ^ t[0][prev >> 8]);
    }
  }
  return t;
}

inline constexpr crc16_tables crc16_table = make_crc16_tables();

}  // namespace detail

/// CRC-16/XMODEM of `bytes` (crc16("123456789") == 0x31C3).
constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
  const auto& t = detail::crc16_table;
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  std::uint16_t crc = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    crc = static_cast<std::uint16_t>(t[7][at(i) ^ (crc >> 8)] ^ t[6][at(i + 1) ^ (crc & 0xFF)] ^
                                     t[5][at(i + 2)] ^ t[4][at(i + 3)] ^ t[3][at(i + 4)] ^
                                     t[2][at(i + 5)] ^ t[1][at(i + 6)] ^ t[0][at(i + 7)]);
  }
  for (; i < bytes.size(); ++i) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ t[0][((crc >> 8) ^ at(i)) & 0xFF]);
  }
  return crc;
}

/// The part of `key` that decides its slot, per the hash-tag rule above (a view into key).
constexpr std::string_view hash_tag(std::string_view key) noexcept {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const std::size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

/// The cluster hash slot of `key`, in [0, 16384).
constexpr std::uint16_t key_slot(std::string_view key) noexcept {
  static_assert((cluster_slots & (cluster_slots - 1)) == 0, "the modulo below is a mask");
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) & (cluster_slots - 1));
}

}  // namespace uredis::util
