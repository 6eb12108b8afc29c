#pragma once
// progress: the live progress line of a running test, on stderr, rewritten in place (\r) about
// four times a second:
//
//   GET: rps=154321.0 (overall: 150012.3) requests=1234567 elapsed=8.2 s
//
// Only on a terminal (stderr is a TTY), never with -q, and only once a test has run for a
// second: shorter runs print nothing. clear() blanks the line before the test's report is
// printed. Written with one write(2) from a stack buffer: printing allocates nothing, so it
// does not disturb the allocation count of the phase it runs in.

#include <chrono>
#include <cstdint>
#include <string_view>

namespace uredis::bench {

class progress_line {
 public:
  /// How often main() should call update().
  static constexpr std::chrono::milliseconds period{250};

  /// A line that prints only when `enabled` (a TTY, no -q).
  explicit progress_line(bool enabled) noexcept : enabled_(enabled) {}

  /// Whether stderr is a terminal.
  static bool stderr_is_terminal() noexcept;

  /// `completed` requests of test `title` after `elapsed`.
  void update(std::string_view title, std::uint64_t completed,
              std::chrono::nanoseconds elapsed) noexcept;
  /// Erases the line, if one was printed.
  void clear() noexcept;

 private:
  bool enabled_;
  bool shown_ = false;
  std::uint64_t last_completed_ = 0;
  std::chrono::nanoseconds last_elapsed_{0};
};

}  // namespace uredis::bench
