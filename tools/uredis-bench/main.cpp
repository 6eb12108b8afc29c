// uredis-bench: a redis-benchmark work-alike on the uredis runtime. main() parses the command
// line, starts a private redis-server (with --cluster, a private cluster) when no server is
// given (stopped however the run ends: signal_cleanup.hpp), starts the runtime's shards
// (--threads, --pin, --busy-poll), and runs the tests in order.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "command_template.hpp"
#include "options.hpp"
#include "private_cluster.hpp"
#include "private_server.hpp"
#include "report.hpp"
#include "run.hpp"
#include "signal_cleanup.hpp"
#include "uredis/reactor/runtime.hpp"

namespace {

constexpr int exit_usage = 2;

int usage_error(const std::string& message) {
  using namespace uredis::bench;
  std::fprintf(stderr, "uredis-bench: %s\n\n", message.c_str());
  std::fwrite(usage().data(), 1, usage().size(), stderr);
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace uredis::bench;
  const parsed_options parsed = parse_options(argc, argv);
  if (parsed.help) {
    std::fwrite(usage().data(), 1, usage().size(), stdout);
    return 0;
  }
  if (!parsed.error.empty()) return usage_error(parsed.error);
  const options& o = parsed.options;

  // What runs: the tests -t selects, in redis-benchmark's order, or the one --command.
  std::optional<command_template> command;
  std::vector<workload> work;
  if (!o.command.empty()) {
    std::string error;
    command = command_template::parse(o.command, error);
    if (!command) return usage_error(error);
    work.push_back({nullptr, &*command});
  } else {
    for (const test_info* t : selected_tests(o.tests))
      work.push_back({t, nullptr});
  }

  uredis::connection_config config;
  config.protocol = o.resp3 ? uredis::resp_version::resp3 : uredis::resp_version::resp2;
  config.username = o.user;
  config.password = o.password;
  if (!o.unix_socket.empty()) config.unix_socket = o.unix_socket;
  if (o.host) config.host = *o.host;
  if (o.port) config.port = *o.port;
  config.db = o.db;
  uredis::tools::apply_to(o.tls, config);
  // For side-by-side figures only (scripts/tls_bench.sh): records' AES-GCM in wolfSSL's own
  // code instead of libcrypto's (tls::options::aes_offload).
  if (const char* off = std::getenv("UREDIS_BENCH_NO_AES_OFFLOAD"); off != nullptr && *off != '\0')
    config.tls_options.aes_offload = false;
  // A server that is not there fails the run at once (as redis-benchmark reports it), not
  // after the retry policy's seconds per connection; once connected, lost connections are
  // reconnected by the policy and counted as reconnects.
  config.retry_first_connect = false;
  // --cache: every connection keeps a client-side cache, the server tracking only the reads
  // the cache sends (optin). RESP3, whatever -3 says: invalidations come in band, on the
  // connection that reads (on RESP2 each cached connection would open an invalidation channel
  // of its own, doubling the connections a run opens).
  if (o.cache_max_bytes > 0) {
    config.cache.max_bytes = o.cache_max_bytes;
    config.cache.mode = uredis::cache::tracking_mode::optin;
    config.protocol = uredis::resp_version::resp3;
  }

  // Before any thread starts (they inherit the blocked signals) and any server.
  watch_signals();
  std::optional<private_cluster> cluster;
  std::optional<private_server> server;
  if (o.private_server() && o.cluster) {
    std::string error;
    cluster.emplace();
    if (!cluster->start(error)) {
      std::fprintf(stderr, "uredis-bench: cannot start a private cluster: %s\n", error.c_str());
      return 1;
    }
    config.host = "127.0.0.1";
    config.port = cluster->seed_port();
  } else if (o.private_server()) {
    std::string error;
    server.emplace();
    if (!server->start(error, o.tls.enabled)) {
      std::fprintf(stderr, "uredis-bench: cannot start redis-server: %s\n", error.c_str());
      return 1;
    }
    config.host = "127.0.0.1";
    config.port = server->port();
    // Its CA is trusted unless the command line names other CAs (or --insecure).
    if (o.tls.enabled && config.tls_options.ca_file.empty() && config.tls_options.ca_path.empty())
      config.tls_options.ca_file = server->ca_file();
  }

  uredis::runtime_options runtime_options;
  runtime_options.shards = static_cast<unsigned>(o.threads);
  runtime_options.pin = o.pin;
  runtime_options.busy_poll = o.busy_poll;
  auto rt = uredis::runtime::create(runtime_options);
  if (!rt) {
    std::fprintf(stderr, "uredis-bench: cannot start %zu shard(s)%s: %s\n", o.threads,
                 o.pin ? " pinned to CPUs" : "", rt.error().message().c_str());
    return 1;
  }

  if (o.csv) print_csv_header(stdout, o);
  std::vector<test_report> reports;
  bool prefilled = false;
  for (const workload& w : work) {
    test_report r;
    std::string error;
    if (o.prefill && !prefilled && w.test != nullptr && w.test->kind == test_kind::get) {
      prefilled = true;
      if (!prefill_keys(**rt, o, config, error)) {
        std::fprintf(stderr, "uredis-bench: %s\n", error.c_str());
        return 1;
      }
    }
    const private_server* measured = o.server_cpu && server ? &*server : nullptr;
    if (!run_test(**rt, o, config, w, r, error, measured)) {
      std::fprintf(stderr, "uredis-bench: %.*s: %s\n", static_cast<int>(w.title().size()),
                   w.title().data(), error.c_str());
      return 1;
    }
    print_report(stdout, o, r);
    std::fflush(stdout);
    reports.push_back(r);
  }
  (*rt)->stop();
  if ((*rt)->error()) {
    std::fprintf(stderr, "uredis-bench: a shard failed: %s\n", (*rt)->error().message().c_str());
    return 1;
  }
  if (!o.json_file.empty() && !write_json(o.json_file, o, reports)) {
    std::fprintf(stderr, "uredis-bench: cannot write %s: %s\n", o.json_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  return 0;
}
