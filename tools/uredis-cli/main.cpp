// uredis-cli: a redis-cli work-alike built on uredis. main() only parses the command line and
// hands over to the function of the chosen mode.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "decode.hpp"
#include "options.hpp"
#include "pipe_mode.hpp"
#include "run.hpp"

namespace {

constexpr int exit_usage = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace uredis::cli;
  const parsed_options parsed = parse_options(argc, argv, std::getenv("REDISCLI_AUTH"));
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "uredis-cli: %s\n\n", parsed.error.c_str());
    std::fwrite(usage().data(), 1, usage().size(), stderr);
    return exit_usage;
  }
  const options& o = parsed.options;
  switch (o.mode) {
    case mode::decode:
      return run_decode(STDIN_FILENO, stdout, stderr);
    case mode::help:
      std::fwrite(usage().data(), 1, usage().size(), stdout);
      return 0;
    case mode::command:
      return run_command(o, stdout, stderr);
    case mode::lines:
      return run_lines(o, STDIN_FILENO, stdout, stderr);
    case mode::pipe:
      return run_pipe(o, STDIN_FILENO, stdout, stderr);
  }
  return exit_usage;
}
