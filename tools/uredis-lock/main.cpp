// uredis-lock: flock(1) for Redis. main() only parses the command line and hands over to run().

#include <cstdio>

#include "options.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  using namespace uredis::lock_tool;
  const parsed_options parsed = parse_options(argc, argv);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "uredis-lock: %s\n\n", parsed.error.c_str());
    std::fwrite(usage().data(), 1, usage().size(), stderr);
    return exit_usage;
  }
  if (parsed.options.mode == mode::help) {
    std::fwrite(usage().data(), 1, usage().size(), stdout);
    return 0;
  }
  return run(parsed.options, stdout, stderr);
}
