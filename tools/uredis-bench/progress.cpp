#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace uredis::bench {
namespace {

void write_all(const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, size);
    if (n <= 0) return;  // a progress line is not worth retrying for
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

bool progress_line::stderr_is_terminal() noexcept {
  return ::isatty(STDERR_FILENO) == 1;
}

void progress_line::update(std::string_view title, std::uint64_t completed,
                           std::chrono::nanoseconds elapsed) noexcept {
  if (!enabled_ || elapsed < std::chrono::seconds(1)) return;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const double interval = std::chrono::duration<double>(elapsed - last_elapsed_).count();
  const double rps =
      interval > 0 ? static_cast<double>(completed - last_completed_) / interval : 0.0;
  last_completed_ = completed;
  last_elapsed_ = elapsed;
  char line[256];
  // \r, the text, then "erase to the end of the line" for what a longer previous line left.
  const int n = std::snprintf(line, sizeof line,
                              "\r%.*s: rps=%.1f (overall: %.1f) requests=%llu elapsed=%.1f s\033[K",
                              static_cast<int>(title.size() > 80 ? 80 : title.size()), title.data(),
                              rps, static_cast<double>(completed) / seconds,
                              static_cast<unsigned long long>(completed), seconds);
  if (n <= 0) return;
  write_all(line,
            n < static_cast<int>(sizeof line) ? static_cast<std::size_t>(n) : sizeof line - 1);
  shown_ = true;
}

void progress_line::clear() noexcept {
  if (shown_) write_all("\r\033[K", 4);
  shown_ = false;
  last_completed_ = 0;
  last_elapsed_ = std::chrono::nanoseconds{0};
}

}  // namespace uredis::bench
