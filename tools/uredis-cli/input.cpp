#include "input.hpp"

#include <unistd.h>

#include <cerrno>

namespace uredis::cli {

std::error_code read_all(int fd, std::string& out) {
  constexpr std::size_t chunk = 64 * 1024;
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + chunk);
    const ssize_t n = ::read(fd, out.data() + old, chunk);
    if (n < 0) {
      out.resize(old);
      if (errno == EINTR) continue;
      return {errno, std::system_category()};
    }
    out.resize(old + static_cast<std::size_t>(n));
    if (n == 0) return {};
  }
}

}  // namespace uredis::cli
