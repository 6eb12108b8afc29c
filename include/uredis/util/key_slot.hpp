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

constexpr std::array<std::uint16_t, 256> make_crc16_table() noexcept {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

inline constexpr std::array<std::uint16_t, 256> crc16_table = make_crc16_table();

}  // namespace detail

/// CRC-16/XMODEM of `bytes` (crc16("123456789") == 0x31C3).
constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    crc = static_cast<std::uint16_t>((crc << 8) ^ detail::crc16_table[((crc >> 8) ^ byte) & 0xFF]);
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
