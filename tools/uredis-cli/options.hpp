#pragma once
// The command line of uredis-cli, parsed into a plain struct before anything runs.
//
// Today the only working mode is --decode; the network modes (-h -p -s -a --user -n -u -2/-3,
// one-shot commands and commands piped on stdin) add their fields and their mode here.

#include <string>
#include <string_view>

namespace uredis::cli {

enum class mode {
  decode,  // RESP bytes on stdin, formatted replies on stdout
  help,    // the usage text on stdout
};

struct options {
  cli::mode mode = mode::help;
};

/// The outcome of parsing argv: options, or a message saying what was wrong with them.
struct parsed_options {
  cli::options options;
  std::string error;  // empty on success
};

parsed_options parse_options(int argc, const char* const* argv);

/// The usage text, ending in a newline.
std::string_view usage() noexcept;

}  // namespace uredis::cli
