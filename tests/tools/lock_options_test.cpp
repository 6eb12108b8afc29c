// uredis-lock's command line: connection flags left to right, the lock's flags, NAME, "--" and
// the command untouched; bad arguments are refused with a message (the tool exits 2 on them).

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "options.hpp"

namespace {

using namespace std::chrono_literals;
using uredis::lock_tool::mode;
using uredis::lock_tool::parse_options;
using uredis::lock_tool::parsed_options;

parsed_options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"uredis-lock"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

using command_line = std::vector<std::string>;

TEST(LockOptions, DefaultsWaitForeverWithATenSecondTtl) {
  const parsed_options p = parse({"jobs", "--", "make", "-j2"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::run);
  EXPECT_EQ(p.options.name, "jobs");
  EXPECT_EQ(p.options.command, (command_line{"make", "-j2"}));
  EXPECT_EQ(p.options.ttl, 10'000ms);
  EXPECT_EQ(p.options.wait, uredis::lock::wait_forever);
  EXPECT_EQ(p.options.server.host, "127.0.0.1");
  EXPECT_EQ(p.options.server.port, 6379);
  EXPECT_FALSE(p.options.server.password.has_value());
  EXPECT_TRUE(p.options.redlock.empty());
}

TEST(LockOptions, TheDoubleDashAfterTheNameIsOptional) {
  const parsed_options p = parse({"jobs", "echo", "--", "-x"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.command, (command_line{"echo", "--", "-x"}));
}

TEST(LockOptions, TheCommandIsNotParsed) {
  const parsed_options p = parse({"--ttl", "500", "jobs", "--", "sh", "-c", "--ttl", "--help"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.ttl, 500ms);
  EXPECT_EQ(p.options.command, (command_line{"sh", "-c", "--ttl", "--help"}));
}

TEST(LockOptions, TlsFlagsReachEveryServerOverTheirUrls) {
  const parsed_options p =
      parse({"--redlock", "rediss://a:1?ssl_ca_certs=url.pem,redis://b:2,redis://c:3", "--tls",
             "--cacert=flag.pem", "--cert", "c.pem", "--key", "k.pem", "--sni", "redis.example",
             "--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "--tls-ciphersuites",
             "TLS_AES_128_GCM_SHA256", "--ocsp", "must-staple", "n", "true"});
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.options.redlock.size(), 3u);
  for (const auto& server : p.options.redlock) {
    EXPECT_TRUE(server.tls);
    const auto& t = server.tls_options;
    EXPECT_EQ(t.ca_file, "flag.pem");  // the flag over the URL's ssl_ca_certs
    EXPECT_EQ(t.cert_file, "c.pem");
    EXPECT_EQ(t.key_file, "k.pem");
    EXPECT_EQ(t.server_name, "redis.example");
    EXPECT_EQ(t.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(t.ciphersuites, "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(t.ocsp, uredis::tls::ocsp_mode::must_staple);
    EXPECT_TRUE(t.verify_peer);
  }
}

TEST(LockOptions, ARedissUrlKeepsItsOptionsAndInsecureTurnsVerificationOff) {
  const parsed_options p =
      parse({"-u", "rediss://127.0.0.1:6390?ssl_ca_certs=url.pem", "--insecure", "n", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.options.server.tls);
  EXPECT_EQ(p.options.server.port, 6390);
  EXPECT_EQ(p.options.server.tls_options.ca_file, "url.pem");
  EXPECT_FALSE(p.options.server.tls_options.verify_peer);
  EXPECT_FALSE(parse({"n", "true"}).options.server.tls);
}

TEST(LockOptions, ADoubleDashBeforeTheNameAllowsADash) {
  const parsed_options p = parse({"--", "-odd-", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.name, "-odd-");
  EXPECT_EQ(p.options.command, (command_line{"true"}));
}

TEST(LockOptions, WaitAndNoWaitTheLastOneWins) {
  EXPECT_EQ(parse({"--wait", "200", "n", "true"}).options.wait, 200ms);
  EXPECT_EQ(parse({"--wait=250", "n", "true"}).options.wait, 250ms);
  EXPECT_EQ(parse({"--no-wait", "n", "true"}).options.wait, uredis::lock::no_wait);
  EXPECT_EQ(parse({"--no-wait", "--wait", "30", "n", "true"}).options.wait, 30ms);
  EXPECT_EQ(parse({"--wait", "30", "--no-wait", "n", "true"}).options.wait, uredis::lock::no_wait);
  EXPECT_EQ(parse({"--wait", "0", "n", "true"}).options.wait, uredis::lock::no_wait);
}

TEST(LockOptions, TtlTakesMillisecondsWithEitherSpelling) {
  EXPECT_EQ(parse({"--ttl", "300", "n", "true"}).options.ttl, 300ms);
  EXPECT_EQ(parse({"--ttl=15000", "n", "true"}).options.ttl, 15'000ms);
}

TEST(LockOptions, ConnectionFlagsReadLeftToRight) {
  parsed_options p = parse({"-u", "redis://db.example:7000/3", "-p", "7001", "n", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.server.host, "db.example");
  EXPECT_EQ(p.options.server.port, 7001);
  EXPECT_EQ(p.options.server.db, 3);

  p = parse({"-h", "10.0.0.1", "-u", "redis://127.0.0.1:7002", "n", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.server.host, "127.0.0.1");
  EXPECT_EQ(p.options.server.port, 7002);

  p = parse({"-u", "unix:///tmp/r.sock", "n", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.server.unix_socket, "/tmp/r.sock");
  p = parse({"-u", "unix:///tmp/r.sock", "-p", "7003", "n", "true"});
  EXPECT_EQ(p.options.server.unix_socket, "");
  EXPECT_EQ(p.options.server.port, 7003);
}

TEST(LockOptions, PasswordAndUserApplyOverTheUrl) {
  parsed_options p = parse({"-a", "secret", "--user", "app", "-u", "redis://u:p@h:1", "n", "true"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.server.password, "secret");
  EXPECT_EQ(p.options.server.username, "app");

  p = parse({"-u", "redis://u:p@h:1", "n", "true"});
  EXPECT_EQ(p.options.server.password, "p");
  EXPECT_EQ(p.options.server.username, "u");
}

TEST(LockOptions, StatusTakesANameOnly) {
  const parsed_options p = parse({"--status", "jobs"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::status);
  EXPECT_EQ(p.options.name, "jobs");
  EXPECT_TRUE(p.options.command.empty());
  EXPECT_EQ(parse({"--status", "jobs", "true"}).error, "--status takes a lock name and no command");
}

TEST(LockOptions, HelpWinsOverEverythingElse) {
  EXPECT_EQ(parse({"--help"}).options.mode, mode::help);
  EXPECT_EQ(parse({"--ttl", "x", "--help"}).error,
            "--ttl 'x' is not a number of milliseconds in "
            "10..31536000000");
  EXPECT_EQ(parse({"-p", "1", "--help", "--bogus"}).options.mode, mode::help);
}

TEST(LockOptions, RedlockTakesACommaSeparatedListOfUrls) {
  const parsed_options p =
      parse({"--redlock", "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002",
             "-a", "pw", "n", "true"});
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.options.redlock.size(), 3u);
  EXPECT_EQ(p.options.redlock[0].port, 7000);
  EXPECT_EQ(p.options.redlock[2].port, 7002);
  EXPECT_EQ(p.options.redlock[1].password, "pw");
}

TEST(LockOptions, DescribeNamesTheServer) {
  EXPECT_EQ(uredis::lock_tool::describe(parse({"-p", "7000", "n", "true"}).options.server),
            "127.0.0.1:7000");
  EXPECT_EQ(uredis::lock_tool::describe(parse({"-s", "/tmp/r.sock", "n", "true"}).options.server),
            "/tmp/r.sock");
  EXPECT_EQ(uredis::lock_tool::describe(parse({"-h", "::1", "n", "true"}).options.server),
            "[::1]:6379");
}

struct bad_case {
  std::vector<const char*> args;
  std::string error;
};

class LockOptionsBad : public testing::TestWithParam<bad_case> {};

TEST_P(LockOptionsBad, IsRefusedWithAMessage) {
  std::vector<const char*> argv{"uredis-lock"};
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  const parsed_options p = parse_options(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(p.error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    BadArguments, LockOptionsBad,
    testing::Values(
        bad_case{{}, "no lock name given"}, bad_case{{"--ttl", "100"}, "no lock name given"},
        bad_case{{"jobs"}, "no command given"}, bad_case{{"jobs", "--"}, "no command given"},
        bad_case{{"", "true"}, "the lock name is empty"},
        bad_case{{"--bogus", "n", "true"}, "unknown option '--bogus'"},
        bad_case{{"--ttl"}, "option '--ttl' needs a value"},
        bad_case{{"--ttl", "0", "n", "true"},
                 "--ttl '0' is not a number of milliseconds in 10..31536000000"},
        bad_case{{"--ttl", "-5", "n", "true"},
                 "--ttl '-5' is not a number of milliseconds in 10..31536000000"},
        bad_case{{"--ttl", "10s", "n", "true"},
                 "--ttl '10s' is not a number of milliseconds in 10..31536000000"},
        bad_case{{"--wait", "soon", "n", "true"},
                 "--wait 'soon' is not a number of milliseconds in 0..31536000000 (leave it out "
                 "to wait forever)"},
        bad_case{{"-p", "0", "n", "true"}, "port '0' is not a number in 1..65535"},
        bad_case{{"-p", "70000", "n", "true"}, "port '70000' is not a number in 1..65535"},
        bad_case{{"-s", "relative.sock", "n", "true"},
                 "socket 'relative.sock' is not an absolute path of at most 107 bytes"},
        bad_case{{"-u", "http://x", "n", "true"},
                 "invalid URL 'http://x': unknown scheme: use redis://, rediss://, unix://, "
                 "redis+sentinel:// or rediss+sentinel://"},
        bad_case{{"--cert", "c.pem", "n", "true"}, "--cert and --key go together"},
        bad_case{{"--ocsp", "maybe", "n", "true"},
                 "--ocsp 'maybe' is not off, stapling, must-staple or responder"},
        bad_case{{"--tls=yes", "n", "true"}, "option '--tls' takes no value"},
        bad_case{{"n", "--tls", "true"},
                 "option '--tls' after the lock name: options go before it"},
        bad_case{{"--redlock", "redis://a:1,,redis://b:2", "n", "true"},
                 "--redlock: empty URL in 'redis://a:1,,redis://b:2'"},
        bad_case{{"--redlock", "redis://a:1,redis://b:2", "n", "true"},
                 "--redlock needs an odd number of servers, at least 3 (got 2)"},
        bad_case{{"--redlock", "redis://a:1,redis://b:2,redis://c:3", "-p", "7000", "n", "true"},
                 "--redlock names the servers: it does not go with -u, -h, -p or -s"},
        bad_case{{"jobs", "--ttl", "5", "--", "true"},
                 "option '--ttl' after the lock name: options go before it"},
        bad_case{{"x{}y", "true"},
                 "lock name 'x{}y' cannot have a fencing counter in its slot (braces?)"}));

}  // namespace
