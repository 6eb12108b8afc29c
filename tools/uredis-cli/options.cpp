#include "options.hpp"

namespace uredis::cli {

parsed_options parse_options(int argc, const char* const* argv) {
  parsed_options parsed;
  if (argc < 2) {
    parsed.error = "no mode given";
    return parsed;
  }
  bool have_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    cli::mode m;
    if (arg == "--decode") {
      m = mode::decode;
    } else if (arg == "--help" || arg == "-?") {
      m = mode::help;
    } else {
      parsed.error = "unknown option '" + std::string(arg) + "'";
      return parsed;
    }
    if (have_mode && m != parsed.options.mode) {
      parsed.error = "conflicting modes";
      return parsed;
    }
    parsed.options.mode = m;
    have_mode = true;
  }
  return parsed;
}

std::string_view usage() noexcept {
  return "usage: uredis-cli --decode < replies.resp\n"
         "\n"
         "  --decode   read RESP2/RESP3 replies from stdin and print each one exactly as\n"
         "             `redis-cli --no-raw` would; exit 1 on malformed or truncated input\n"
         "  --help     show this text\n";
}

}  // namespace uredis::cli
