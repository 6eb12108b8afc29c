#pragma once
// sha1: the SHA-1 digest of a byte string (FIPS 180-4), for what Redis names by it: a Lua
// script's EVALSHA handle is the lower-case hex of its source's SHA-1, exactly as SCRIPT LOAD
// answers it. Not for security: SHA-1 is broken for that, and nothing here relies on it.
//
//   util::sha1_hex("return 1")  -> "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
//
// sha1 hashes incrementally (update() any number of times, then digest() once); the free
// functions hash one string. Nothing allocates; bytes are taken as unsigned.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uredis::util {

class sha1 {
 public:
  using digest_bytes = std::array<std::uint8_t, 20>;
  /// 40 lower-case hex digits, not NUL-terminated.
  using hex_digest = std::array<char, 40>;

  sha1() noexcept = default;

  /// Appends `bytes` to the message.
  void update(std::string_view bytes) noexcept;
  /// Pads the message and returns its digest. The object must not be used afterwards (it holds
  /// the padded state).
  digest_bytes digest() noexcept;

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 5> state_{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u,
                                      0xc3d2e1f0u};
  std::array<std::uint8_t, 64> block_{};
  std::size_t filled_ = 0;    // bytes of block_ holding message bytes
  std::uint64_t length_ = 0;  // message bytes so far
};

/// The digest of `bytes`.
sha1::digest_bytes sha1_digest(std::string_view bytes) noexcept;
/// The digest of `bytes` as 40 lower-case hex digits (what Redis' SCRIPT LOAD answers).
sha1::hex_digest sha1_hex(std::string_view bytes) noexcept;

}  // namespace uredis::util
