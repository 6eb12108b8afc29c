#include "options.hpp"

#include <charconv>
#include <cstring>

#include "workload.hpp"

namespace uredis::bench {
namespace {

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

}  // namespace

std::string_view usage() {
  return "Usage: uredis-bench [options]\n"
         "  -h <host>       server host (default: start a private redis-server)\n"
         "  -p <port>       server port\n"
         "  -s <socket>     server Unix socket (overrides host and port)\n"
         "  -a <password>   password for AUTH\n"
         "  --user <name>   ACL user (with -a)\n"
         "  -c <clients>    parallel connections (default 50)\n"
         "  -n <requests>   total requests per test (default 100000)\n"
         "  -d <size>       SET/LPUSH/... value size in bytes (default 3)\n"
         "  -r <keyspace>   random keys key:000000000042 in 0..keyspace-1\n"
         "  -P <numreq>     pipeline depth per connection (default 1)\n"
         "  -t <tests>      comma-separated: ping,set,get,incr,lpush,rpush,lpop,sadd,hset\n"
         "  -q              quiet: one line per test\n"
         "  --csv           CSV output\n"
         "  --threads <n>   shards (reactor threads), default 1\n"
         "  -3              RESP3 (HELLO 3)\n"
         "  --json <file>   write the results as JSON\n"
         "  --help          this text\n";
}

parsed_options parse_options(int argc, char** argv) {
  parsed_options p;
  options& o = p.options;
  bool tests_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    auto value = [&]() -> std::string_view { return argv[++i]; };
    auto fail = [&](std::string message) {
      p.error = std::move(message);
      return p;
    };
    auto need_value = [&] { return has_value; };
    if (arg == "--help") {
      p.help = true;
      return p;
    }
    if (arg == "-q") {
      o.quiet = true;
    } else if (arg == "--csv") {
      o.csv = true;
    } else if (arg == "-3") {
      o.resp3 = true;
    } else if (arg == "-h" || arg == "-p" || arg == "-s" || arg == "-a" || arg == "--user" ||
               arg == "-c" || arg == "-n" || arg == "-d" || arg == "-r" || arg == "-P" ||
               arg == "-t" || arg == "--threads" || arg == "--json") {
      if (!need_value()) return fail(std::string{arg} + " needs a value");
      const std::string_view v = value();
      auto number = [&](auto& out, auto min) {
        if (!parse_number(v, out) || out < min) {
          p.error = "bad value for " + std::string{arg} + ": '" + std::string{v} + "'";
          return false;
        }
        return true;
      };
      if (arg == "-h") {
        o.host = std::string{v};
      } else if (arg == "-p") {
        std::uint16_t port = 0;
        if (!number(port, std::uint16_t{1})) return p;
        o.port = port;
      } else if (arg == "-s") {
        o.unix_socket = std::string{v};
      } else if (arg == "-a") {
        o.password = std::string{v};
      } else if (arg == "--user") {
        o.user = std::string{v};
      } else if (arg == "-c") {
        if (!number(o.clients, std::size_t{1})) return p;
      } else if (arg == "-n") {
        if (!number(o.requests, std::uint64_t{1})) return p;
      } else if (arg == "-d") {
        if (!number(o.data_size, std::size_t{0})) return p;
      } else if (arg == "-r") {
        if (!number(o.keyspace, std::uint64_t{0})) return p;
      } else if (arg == "-P") {
        if (!number(o.pipeline, std::size_t{1})) return p;
      } else if (arg == "--threads") {
        if (!number(o.threads, std::size_t{1})) return p;
      } else if (arg == "--json") {
        o.json_file = std::string{v};
      } else if (arg == "-t") {
        tests_given = true;
        std::string_view rest = v;
        while (!rest.empty()) {
          const auto comma = rest.find(',');
          const std::string name = to_lower(rest.substr(0, comma));
          rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
          if (name.empty()) continue;
          if (!find_test(name)) return fail("unknown test '" + name + "'");
          o.tests.push_back(name);
        }
      }
    } else {
      return fail("unknown option '" + std::string{arg} + "'");
    }
  }
  if (!tests_given)
    for (const auto& t : all_tests())
      o.tests.emplace_back(t.name);
  if (o.tests.empty()) p.error = "no tests selected";
  if (o.threads > o.clients) o.threads = o.clients;  // a shard needs at least one connection
  return p;
}

}  // namespace uredis::bench
