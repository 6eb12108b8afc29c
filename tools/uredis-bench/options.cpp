#include "options.hpp"

#include <charconv>
#include <cmath>

#include "uredis/client/config.hpp"
#include "workload.hpp"

namespace uredis::bench {
namespace {

constexpr std::size_t default_cache_bytes = std::size_t{64} << 20;  // --cache: 64 MiB
constexpr std::size_t max_data_size = std::size_t{512} << 20;       // -d: 512 MiB
constexpr double min_rate = 1.0 / (24 * 3600);                      // --rate: one a day

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string to_lower(std::string_view s) {
  std::string out{s};
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Flags followed by a value.
bool takes_value(std::string_view arg) {
  static constexpr std::string_view with_value[] = {"-h",
                                                    "-p",
                                                    "-s",
                                                    "-a",
                                                    "-c",
                                                    "-n",
                                                    "-d",
                                                    "-r",
                                                    "-P",
                                                    "-t",
                                                    "-u",
                                                    "--user",
                                                    "--threads",
                                                    "--json",
                                                    "--duration",
                                                    "--rate",
                                                    "--key-pattern",
                                                    "--command",
                                                    "--zipf-exponent",
                                                    "--cache-max-bytes"};
  for (std::string_view f : with_value)
    if (arg == f) return true;
  return false;
}

}  // namespace

namespace {

std::string_view usage_text() {
  return "Usage: uredis-bench [options]\n"
         "  -h <host>       server host (default: start a private redis-server)\n"
         "  -p <port>       server port\n"
         "  -s <socket>     server Unix socket (overrides host and port)\n"
         "  -a <password>   password for AUTH\n"
         "  -u <uri>        redis[s]://[[user]:password@]host[:port][/db][?ssl_...] or\n"
         "                  unix://[...@]/path (sets what it names; flags after it override)\n"
         "  --user <name>   ACL user (with -a)\n"
         "  -c <clients>    parallel connections (default 50)\n"
         "  -n <requests>   total requests per test (default 100000)\n"
         "  -d <size>       SET/LPUSH/... value size in bytes, 1 to 512 MiB (default 3)\n"
         "  -r <keyspace>   keys key:000000000042 in 0..keyspace-1 (see --key-pattern)\n"
         "  -P <numreq>     pipeline depth per connection (default 1)\n"
         "  -t <tests>      comma-separated, as redis-benchmark's (any case; default: all, in\n"
         "                  redis-benchmark's order): ping_inline,ping_mbulk,set,get,incr,\n"
         "                  lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,\n"
         "                  lrange_300,lrange_500,lrange_600,mset; ping: both PINGs; lrange:\n"
         "                  every LRANGE (each brings the LPUSH that fills the list)\n"
         "  -q              quiet: one line per test, no progress line\n"
         "  --csv           CSV output\n"
         "  --threads <n>   shards (reactor threads), default 1\n"
         "  -3              RESP3 (HELLO 3)\n"
         "  --json <file>   write the results as a JSON array, one object per test\n"
         "  --duration <s>  run each test for <s> seconds (decimals allowed) instead of -n\n"
         "  --rate <ops>    fixed-rate schedule: <ops> requests per second in total; latency\n"
         "                  counts from each request's intended send time\n"
         "  --key-pattern <uniform|sequential|zipf>  how -r keys are picked (default uniform)\n"
         "  --zipf-exponent <s>  zipf skew (default 0.99, as YCSB)\n"
         "  --command <template> run this command instead of -t, e.g. \"SET __key__ __data__\";\n"
         "                  __key__ is the request's key, __data__ the -d byte value\n"
         "  --busy-poll     shards spin instead of sleeping in the kernel\n"
         "  --pin           pin shard i to the i-th CPU this process may use\n"
         "  --count-allocations  report heap allocations made while measuring\n"
         "  --cache         every connection keeps a client-side cache (CLIENT TRACKING optin)\n"
         "                  of 64 MiB; reads on the cache's allow-list (GET; a --command read\n"
         "                  whose keys are __key__ arguments) go through it; reports hits,\n"
         "                  misses, invalidations, evictions, entries and bytes; implies\n"
         "                  -3 (invalidations in band) and --prefill\n"
         "  --cache-max-bytes <n>  --cache, bounded to <n> bytes per connection\n"
         "  --prefill       before a GET test, SET every key of -r (or the one key) to the -d\n"
         "                  value (not measured), so that the reads find values\n"
         "  --server-cpu    report the private redis-server's CPU time per request (from\n"
         "                  /proc; not with -h, -p or -s)\n"
         "  --cluster       Redis Cluster: -h/-p name a seed node (none: start a private\n"
         "                  cluster of 3 primaries); each request goes to the primary of its\n"
         "                  key's slot; needs -r (the keys' numbers spread them over the slots)\n"
         "  --help          this text\n"
         "TLS (as redis-benchmark's; with no -h/-p/-s/-u, --tls starts the private server with\n"
         "TLS and a CA of its own, which is trusted):\n";
}

}  // namespace

std::string_view usage() {
  static const std::string text = std::string(usage_text()) + tools::tls_usage(18);
  return text;
}

parsed_options parse_options(int argc, char** argv) {
  parsed_options p;
  options& o = p.options;
  bool tests_given = false;
  bool requests_given = false;
  auto fail = [&](std::string message) {
    p.error = std::move(message);
    return p;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      p.help = true;
      return p;
    }
    std::string tls_error;
    const tools::flag_match tls = tools::apply_tls_flag(argc, argv, i, o.tls, tls_error);
    if (tls == tools::flag_match::error) return fail(std::move(tls_error));
    if (tls == tools::flag_match::applied) continue;
    if (arg == "-q") {
      o.quiet = true;
    } else if (arg == "--csv") {
      o.csv = true;
    } else if (arg == "-3") {
      o.resp3 = true;
    } else if (arg == "--busy-poll") {
      o.busy_poll = true;
    } else if (arg == "--pin") {
      o.pin = true;
    } else if (arg == "--count-allocations") {
      o.count_allocations = true;
    } else if (arg == "--cache") {
      if (o.cache_max_bytes == 0) o.cache_max_bytes = default_cache_bytes;
    } else if (arg == "--prefill") {
      o.prefill = true;
    } else if (arg == "--server-cpu") {
      o.server_cpu = true;
    } else if (arg == "--cluster") {
      o.cluster = true;
    } else if (takes_value(arg)) {
      if (i + 1 >= argc) return fail(std::string{arg} + " needs a value");
      const std::string_view v = argv[++i];
      const std::string bad = "bad value for " + std::string{arg} + ": '" + std::string{v} + "'";
      // An integer at least `min`.
      auto integer = [&](auto& out, auto min) { return parse_number(v, out) && out >= min; };
      // A finite positive number.
      auto positive = [&](double& out) {
        return parse_number(v, out) && std::isfinite(out) && out > 0;
      };
      if (arg == "-h") {
        o.host = std::string{v};
      } else if (arg == "-p") {
        std::uint16_t port = 0;
        if (!integer(port, std::uint16_t{1})) return fail(bad);
        o.port = port;
      } else if (arg == "-s") {
        o.unix_socket = std::string{v};
      } else if (arg == "-a") {
        o.password = std::string{v};
      } else if (arg == "-u") {
        std::string_view reason;
        const uredis::result<connection_config> url = parse_url(v, &reason);
        if (!url) return fail("invalid URL '" + std::string{v} + "': " + std::string{reason});
        if (url->unix_socket.empty()) {
          o.host = url->host;
          o.port = url->port;
        } else {
          o.unix_socket = url->unix_socket;
        }
        if (url->password) o.password = url->password;
        if (!url->username.empty()) o.user = url->username;
        o.db = url->db;
        tools::apply_url_tls(*url, o.tls);
      } else if (arg == "--user") {
        o.user = std::string{v};
      } else if (arg == "-c") {
        if (!integer(o.clients, std::size_t{1})) return fail(bad);
      } else if (arg == "-n") {
        if (!integer(o.requests, std::uint64_t{1})) return fail(bad);
        requests_given = true;
      } else if (arg == "-d") {
        // As redis-benchmark, at least one byte; at most what a server takes in one bulk string
        // by default (proto-max-bulk-len), where redis-benchmark's 1 GiB would only be refused.
        if (!integer(o.data_size, std::size_t{1}) || o.data_size > max_data_size)
          return fail(bad + " (1 to " + std::to_string(max_data_size) + " bytes)");
      } else if (arg == "-r") {
        if (!integer(o.keyspace, std::uint64_t{0})) return fail(bad);
      } else if (arg == "-P") {
        if (!integer(o.pipeline, std::size_t{1})) return fail(bad);
      } else if (arg == "--threads") {
        if (!integer(o.threads, std::size_t{1})) return fail(bad);
      } else if (arg == "--json") {
        o.json_file = std::string{v};
      } else if (arg == "--duration") {
        double seconds = 0;
        // Up to a year: anything longer is a typo, and nanoseconds must not overflow.
        if (!positive(seconds) || seconds > 365.0 * 24 * 3600) return fail(bad);
        o.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
        if (o.duration->count() == 0) return fail(bad);
      } else if (arg == "--cache-max-bytes") {
        if (!integer(o.cache_max_bytes, std::size_t{1})) return fail(bad);
      } else if (arg == "--rate") {
        // Below one request a day the schedule's interval (connections / rate, in nanoseconds)
        // would overflow, and such a run measures nothing anyway.
        if (!positive(o.rate) || o.rate < min_rate) return fail(bad + " (at least 1 per day)");
      } else if (arg == "--zipf-exponent") {
        if (!positive(o.zipf_exponent)) return fail(bad);
      } else if (arg == "--key-pattern") {
        const std::string name = to_lower(v);
        if (name == "uniform") {
          o.keys = key_pattern::uniform;
        } else if (name == "sequential") {
          o.keys = key_pattern::sequential;
        } else if (name == "zipf") {
          o.keys = key_pattern::zipf;
        } else {
          return fail(bad + " (uniform, sequential or zipf)");
        }
      } else if (arg == "--command") {
        if (v.find_first_not_of(" \t") == std::string_view::npos)
          return fail("--command needs a command");
        o.command = std::string{v};
      } else if (arg == "-t") {
        tests_given = true;
        std::string_view rest = v;
        while (!rest.empty()) {
          const auto comma = rest.find(',');
          const std::string name = to_lower(rest.substr(0, comma));
          rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
          if (name.empty()) continue;
          if (!is_test_name(name)) return fail("unknown test '" + name + "'");
          o.tests.push_back(name);
        }
      }
    } else {
      return fail("unknown option '" + std::string{arg} + "'");
    }
  }
  if (tests_given && !o.command.empty()) return fail("give -t or --command, not both");
  if (!tests_given && o.command.empty())
    for (const auto& t : all_tests())
      o.tests.emplace_back(t.names[0]);
  if (o.tests.empty() && o.command.empty()) return fail("no tests selected");
  if (o.keys != key_pattern::uniform && o.keyspace == 0)
    return fail("--key-pattern needs a keyspace (-r)");
  if (o.duration && requests_given) return fail("give -n or --duration, not both");
  if (o.cache_max_bytes > 0) o.prefill = true;
  if (o.server_cpu && !o.private_server())
    return fail("--server-cpu needs the private server (no -h, -p or -s)");
  if (std::string error = tools::check_tls_flags(o.tls); !error.empty()) return fail(error);
  if (o.cluster) {
    // Without -r every request has the one key key:__rand_int__, on one node of the cluster.
    if (o.keyspace == 0)
      return fail("--cluster needs -r: the keys' numbers spread them over the slots");
    if (o.cache_max_bytes > 0) return fail("--cluster and --cache cannot be combined");
    if (o.prefill) return fail("--cluster and --prefill cannot be combined");
    if (o.server_cpu) return fail("--cluster and --server-cpu cannot be combined");
    if (!o.unix_socket.empty()) return fail("--cluster needs a TCP seed (-h/-p), not -s");
    if (o.db != 0) return fail("--cluster: a cluster has database 0 only");
    if (o.private_server() && o.tls.enabled)
      return fail("--cluster --tls needs a cluster of yours (-h/-p): the private one is plaintext");
  }
  if (o.threads > o.clients) o.threads = o.clients;  // a shard needs at least one connection
  return p;
}

}  // namespace uredis::bench
