// uredis-bench: a redis-benchmark work-alike on uredis connections. main() parses the command
// line, starts a private redis-server when no server is given, and runs the tests in order.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "private_server.hpp"
#include "report.hpp"
#include "run.hpp"

namespace {

constexpr int exit_usage = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace uredis::bench;
  const parsed_options parsed = parse_options(argc, argv);
  if (parsed.help) {
    std::fwrite(usage().data(), 1, usage().size(), stdout);
    return 0;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "uredis-bench: %s\n\n", parsed.error.c_str());
    std::fwrite(usage().data(), 1, usage().size(), stderr);
    return exit_usage;
  }
  const options& o = parsed.options;

  uredis::connection_config config;
  config.protocol = o.resp3 ? uredis::resp_version::resp3 : uredis::resp_version::resp2;
  config.username = o.user;
  config.password = o.password;
  if (!o.unix_socket.empty()) config.unix_socket = o.unix_socket;
  if (o.host) config.host = *o.host;
  if (o.port) config.port = *o.port;

  std::optional<private_server> server;
  if (o.private_server()) {
    std::string error;
    server.emplace();
    if (!server->start(error)) {
      std::fprintf(stderr, "uredis-bench: cannot start redis-server: %s\n", error.c_str());
      return 1;
    }
    config.host = "127.0.0.1";
    config.port = server->port();
  }

  if (o.csv) print_csv_header(stdout);
  std::vector<test_report> reports;
  for (const std::string& name : o.tests) {
    test_report r;
    std::string error;
    if (!run_test(o, config, *find_test(name), r, error)) {
      std::fprintf(stderr, "uredis-bench: %s: %s\n", name.c_str(), error.c_str());
      return 1;
    }
    print_report(stdout, o, r);
    std::fflush(stdout);
    reports.push_back(r);
  }
  if (!o.json_file.empty() && !write_json(o.json_file, reports)) {
    std::fprintf(stderr, "uredis-bench: cannot write %s: %s\n", o.json_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  return 0;
}
