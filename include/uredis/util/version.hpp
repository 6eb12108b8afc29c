#pragma once
// version: a server version (major.minor.patch) for gating features, e.g.
// `if (server >= version{7, 2, 0})` before relying on CLIENT NO-TOUCH.
//
// Versions order component by component (7.0.15 < 7.2.0 < 7.10.0). Missing components parse as
// 0, so "7" == "7.0" == "7.0.0". A pre-release or build suffix after '-' or '+' is ignored:
// "7.2.4-rc1" parses as 7.2.4 (servers report their version without one in practice, and a
// gate should treat a release candidate like its release).

#include <compare>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace uredis::util {

struct version {
  int major = 0;
  int minor = 0;
  int patch = 0;

  friend constexpr auto operator<=>(const version&, const version&) = default;
  friend constexpr bool operator==(const version&, const version&) = default;
};

/// Parses "MAJOR[.MINOR[.PATCH]][(-|+)SUFFIX]": each component is one or more ASCII digits
/// whose value fits in an int, SUFFIX is any non-empty text. Anything else (empty input, signs,
/// spaces, "7.", "7..1", four components, "v7", "7rc1", an overflowing number) gives nullopt.
constexpr std::optional<version> parse_version(std::string_view text) noexcept {
  int parts[3] = {0, 0, 0};
  std::size_t pos = 0;
  int count = 0;
  for (;;) {
    if (pos == text.size() || text[pos] < '0' || text[pos] > '9') return std::nullopt;
    int value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      const int digit = text[pos] - '0';
      if (value > (std::numeric_limits<int>::max() - digit) / 10) return std::nullopt;
      value = value * 10 + digit;
      ++pos;
    }
    parts[count++] = value;
    if (pos == text.size()) break;
    if (text[pos] == '-' || text[pos] == '+') {
      if (pos + 1 == text.size()) return std::nullopt;  // an empty suffix is a typo, not a tag
      break;
    }
    if (text[pos] != '.' || count == 3) return std::nullopt;
    ++pos;
  }
  return version{parts[0], parts[1], parts[2]};
}

/// "MAJOR.MINOR.PATCH", e.g. "7.2.4".
inline std::string to_string(const version& v) {
  return std::to_string(v.major) + '.' + std::to_string(v.minor) + '.' + std::to_string(v.patch);
}

}  // namespace uredis::util
