#include "input.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

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

bool line_reader::ready() const noexcept {
  return eof_ || std::memchr(buffer_.data() + begin_ + scanned_, '\n',
                             buffer_.size() - begin_ - scanned_) != nullptr;
}

bool line_reader::next(std::string_view& line, std::error_code& ec) {
  for (;;) {
    const char* from = buffer_.data() + begin_;
    const std::size_t available = buffer_.size() - begin_;
    if (const void* nl = std::memchr(from + scanned_, '\n', available - scanned_)) {
      const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - from);
      line = std::string_view(from, length);
      begin_ += length + 1;
      scanned_ = 0;
      return true;
    }
    scanned_ = available;
    if (eof_) {
      if (available == 0) return false;
      line = std::string_view(from, available);
      begin_ = buffer_.size();
      scanned_ = 0;
      return true;
    }
    // Keep the partial line, drop what was returned, read more after it.
    buffer_.erase(0, begin_);
    begin_ = 0;
    const std::size_t old = buffer_.size();
    buffer_.resize(old + chunk);
    ssize_t n;
    do {
      n = ::read(fd_, buffer_.data() + old, chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      ec = {errno, std::system_category()};
      buffer_.resize(old);
      return false;
    }
    buffer_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) eof_ = true;
  }
}

}  // namespace uredis::cli
