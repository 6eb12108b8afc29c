#pragma once
// token: what a lock's key holds while this owner has it — 128 bits from the kernel's CSPRNG
// (getrandom), as 32 lower-case hex digits, so another client cannot guess it and release or
// extend a lock it does not hold. A fresh one per acquisition; making one allocates nothing.

#include <array>
#include <string_view>

namespace uredis::lock {

class token {
 public:
  static constexpr std::size_t size = 32;

  /// An empty token (holds no lock).
  token() noexcept = default;
  /// 128 fresh random bits.
  static token random() noexcept;

  std::string_view view() const noexcept { return {digits_.data(), length_}; }
  bool empty() const noexcept { return length_ == 0; }

 private:
  std::array<char, size> digits_{};
  std::size_t length_ = 0;
};

}  // namespace uredis::lock
