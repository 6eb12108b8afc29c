#include "split_args.hpp"

namespace uredis::cli {
namespace {

// Blanks skipped between arguments: C's isspace() in the C locale.
bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// What ends an unquoted argument: fewer characters than is_blank (\v and \f do not).
bool ends_word(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  if (const std::size_t nul = line.find('\0'); nul != std::string_view::npos)
    line = line.substr(0, nul);
  const std::size_t n = line.size();
  // The character at i, or NUL past the end (the C string's terminator).
  auto at = [&](std::size_t i) { return i < n ? line[i] : '\0'; };
  std::size_t i = 0;
  for (;;) {
    while (i < n && is_blank(line[i]))
      ++i;
    if (i == n) return true;
    std::string& word = out.emplace_back();
    enum class quote { none, double_quote, single_quote } in = quote::none;
    for (bool done = false; !done;) {
      const char c = at(i);
      if (in == quote::double_quote) {
        if (c == '\\' && at(i + 1) == 'x' && hex_value(at(i + 2)) >= 0 &&
            hex_value(at(i + 3)) >= 0) {
          word.push_back(static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1) != '\0') {
          ++i;
          switch (line[i]) {
            case 'n':
              word.push_back('\n');
              break;
            case 'r':
              word.push_back('\r');
              break;
            case 't':
              word.push_back('\t');
              break;
            case 'b':
              word.push_back('\b');
              break;
            case 'a':
              word.push_back('\a');
              break;
            default:
              word.push_back(line[i]);
              break;
          }
        } else if (c == '"') {
          if (at(i + 1) != '\0' && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated
        } else {
          word.push_back(c);
        }
      } else if (in == quote::single_quote) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          word.push_back('\'');
        } else if (c == '\'') {
          if (at(i + 1) != '\0' && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated
        } else {
          word.push_back(c);
        }
      } else if (c == '\0' || ends_word(c)) {
        done = true;
      } else if (c == '"') {
        in = quote::double_quote;
      } else if (c == '\'') {
        in = quote::single_quote;
      } else {
        word.push_back(c);
      }
      if (i < n) ++i;
    }
  }
}

std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> out;
  if (!split_args(line, out)) return std::nullopt;
  return out;
}

}  // namespace uredis::cli
