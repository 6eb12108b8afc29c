#include "line_command.hpp"

#include <strings.h>

#include <cerrno>
#include <cstdlib>

#include "split_args.hpp"

namespace uredis::cli {
namespace {

bool same(const std::string& a, const char* b) noexcept {
  return ::strcasecmp(a.c_str(), b) == 0;
}

line_command print(std::string text) {
  return {line_kind::print, std::move(text), 1};
}

// redis-cli's ":" preferences: only ":set hints" and ":set nohints" exist.
line_command preference(const std::vector<std::string>& args) {
  if (same(args[0], ":set") && args.size() >= 2) {
    if (same(args[1], "hints") || same(args[1], "nohints")) return {};
    return print("unknown redis-cli preference '" + args[1] + "'\n");
  }
  return print("unknown redis-cli internal command '" + args[0] + "'\n");
}

}  // namespace

line_command interpret_line(std::string_view line, std::vector<std::string>& args) {
  if (line.empty() || line[0] == '\0') return {};
  if (!split_args(line, args)) return print("Invalid argument(s)\n");
  if (args.empty()) return {};

  // A leading number repeats the command; redis-cli reads it with strtol, quirks included (a
  // quoted "" reads as 0 and is refused).
  long repeat = 1;
  bool has_repeat = false;
  if (args.size() > 1) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(args[0].c_str(), &end, 10);
    if (*end == '\0') {
      if (errno == ERANGE || errno == EINVAL || n <= 0)
        return print("Invalid redis-cli repeat command option value.\n");
      repeat = n;
      has_repeat = true;
    }
  }

  // Like redis-cli, these look at the first word even when it was a repeat count.
  if (same(args[0], "quit") || same(args[0], "exit")) return {line_kind::quit, {}, 1};
  if (args[0][0] == ':') return preference(args);
  if (same(args[0], "restart")) return print("Use 'restart' only in Lua debugging mode.\n");
  if (args.size() == 3 && same(args[0], "connect"))
    return {line_kind::unsupported, "the prompt's CONNECT command is not supported", 1};
  if (args.size() == 1 && same(args[0], "clear")) return print("\x1b[H\x1b[2J");

  if (has_repeat) args.erase(args.begin());
  if (std::string reason = unsupported_reason(args); !reason.empty())
    return {line_kind::unsupported, std::move(reason), 1};
  return {line_kind::command, {}, repeat};
}

std::string unsupported_reason(std::span<const std::string> args) {
  if (args.empty()) return {};
  const std::string& c = args[0];
  if (same(c, "help") || same(c, "?")) return "redis-cli's command help is not available";
  if (same(c, "sync") || same(c, "psync"))
    return c + " is not supported (it needs redis-cli's replica mode)";
  return {};
}

}  // namespace uredis::cli
