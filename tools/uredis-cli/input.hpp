#pragma once
// Reading the tool's input from a file descriptor: all of it at once (--decode), or line by line
// (commands on stdin).

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace uredis::cli {

/// Appends everything readable from `fd` until end of file to `out`, binary-safe.
std::error_code read_all(int fd, std::string& out);

/// Splits what `fd` yields into lines ending in '\n', reading it in chunks. A last line without
/// '\n' is a line too. Lines are binary-safe (NUL bytes included) and of any length.
class line_reader {
 public:
  explicit line_reader(int fd) noexcept : fd_(fd) {}

  /// The next line, without its '\n', valid until the next call; false at the end of the input
  /// or on a read error (then `ec` is set).
  bool next(std::string_view& line, std::error_code& ec);

  /// True when next() can answer without reading (a whole line, or the end, is known).
  bool ready() const noexcept;

 private:
  static constexpr std::size_t chunk = 64 * 1024;

  int fd_;
  std::string buffer_;
  std::size_t begin_ = 0;    // first byte of buffer_ not yet returned
  std::size_t scanned_ = 0;  // bytes from begin_ known to hold no '\n'
  bool eof_ = false;
};

}  // namespace uredis::cli
