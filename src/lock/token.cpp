#include "uredis/lock/token.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace uredis::lock {

token token::random() noexcept {
  std::array<std::uint8_t, size / 2> bits{};
  std::size_t got = 0;
  while (got < bits.size()) {
    const ssize_t n = getrandom(bits.data() + got, bits.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      std::abort();  // getrandom cannot fail on Linux >= 3.17 for 16 bytes; a guessable token
                     // would be worse than stopping
    }
  }
  static constexpr char hex[] = "0123456789abcdef";
  token t;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    t.digits_[2 * i] = hex[bits[i] >> 4];
    t.digits_[2 * i + 1] = hex[bits[i] & 0xf];
  }
  t.length_ = size;
  return t;
}

}  // namespace uredis::lock
