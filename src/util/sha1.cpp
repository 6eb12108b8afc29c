#include "uredis/util/sha1.hpp"

#include <cstring>

namespace uredis::util {
namespace {

constexpr std::uint32_t rotl(std::uint32_t x, int n) noexcept {
  return (x << n) | (x >> (32 - n));
}

}  // namespace

void sha1::compress(const std::uint8_t* block) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = static_cast<std::uint32_t>(block[4 * i]) << 24 |
           static_cast<std::uint32_t>(block[4 * i + 1]) << 16 |
           static_cast<std::uint32_t>(block[4 * i + 2]) << 8 |
           static_cast<std::uint32_t>(block[4 * i + 3]);
  }
  for (int i = 16; i < 80; ++i)
    w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

void sha1::update(std::string_view bytes) noexcept {
  length_ += bytes.size();
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t left = bytes.size();
  if (filled_ > 0) {
    const std::size_t take = left < 64 - filled_ ? left : 64 - filled_;
    std::memcpy(block_.data() + filled_, p, take);
    filled_ += take;
    p += take;
    left -= take;
    if (filled_ < 64) return;
    compress(block_.data());
    filled_ = 0;
  }
  for (; left >= 64; p += 64, left -= 64)
    compress(p);
  if (left > 0) std::memcpy(block_.data(), p, left);
  filled_ = left;
}

sha1::digest_bytes sha1::digest() noexcept {
  const std::uint64_t bits = length_ * 8;
  // 0x80, zeros up to 56 bytes into a block, then the length in bits, big-endian.
  block_[filled_++] = 0x80;
  if (filled_ > 56) {
    std::memset(block_.data() + filled_, 0, 64 - filled_);
    compress(block_.data());
    filled_ = 0;
  }
  std::memset(block_.data() + filled_, 0, 56 - filled_);
  for (int i = 0; i < 8; ++i)
    block_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  compress(block_.data());

  digest_bytes out;
  for (int i = 0; i < 5; ++i) {
    out[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
  }
  return out;
}

sha1::digest_bytes sha1_digest(std::string_view bytes) noexcept {
  sha1 h;
  h.update(bytes);
  return h.digest();
}

sha1::hex_digest sha1_hex(std::string_view bytes) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  const sha1::digest_bytes d = sha1_digest(bytes);
  sha1::hex_digest out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 0xf];
  }
  return out;
}

}  // namespace uredis::util
