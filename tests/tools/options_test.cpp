// uredis-cli's command line: redis-cli's connection flags, read left to right.

#include "options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace {

using uredis::cli::mode;
using uredis::cli::parse_options;
using uredis::cli::parsed_options;

parsed_options parse(std::initializer_list<const char*> args, const char* env = nullptr) {
  std::vector<const char*> argv{"uredis-cli"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_options(static_cast<int>(argv.size()), argv.data(), env);
}

TEST(Options, NoArgumentsReadsStdinWithRedisClisDefaults) {
  const parsed_options p = parse({});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::lines);
  EXPECT_EQ(p.options.server.host, "127.0.0.1");
  EXPECT_EQ(p.options.server.port, 6379);
  EXPECT_EQ(p.options.server.db, 0);
  EXPECT_FALSE(p.options.server.resp3);
  EXPECT_FALSE(p.options.server.password.has_value());
  EXPECT_FALSE(p.options.warn_about_password);
}

TEST(Options, TheFirstNonFlagStartsTheCommand) {
  const parsed_options p = parse({"-p", "7000", "SET", "k", "-h", "--decode"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::command);
  EXPECT_EQ(p.options.server.port, 7000);
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"SET", "k", "-h", "--decode"}));
}

TEST(Options, EveryConnectionFlag) {
  const parsed_options p =
      parse({"-h", "redis.example", "-p", "6380", "--user", "alice", "-a", "pw", "-n", "4", "-3"});
  ASSERT_EQ(p.error, "");
  const auto& s = p.options.server;
  EXPECT_EQ(s.host, "redis.example");
  EXPECT_EQ(s.port, 6380);
  EXPECT_EQ(s.user, "alice");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.db, 4);
  EXPECT_TRUE(s.resp3);
  EXPECT_TRUE(p.options.warn_about_password);
  EXPECT_EQ(parse({"-s", "/tmp/r.sock"}).options.server.unix_socket, "/tmp/r.sock");
  EXPECT_EQ(parse({"--pass", "x"}).options.server.password, "x");
  EXPECT_FALSE(parse({"-3", "-2"}).error.empty());
  EXPECT_FALSE(parse({"-2"}).options.server.resp3);
  EXPECT_EQ(parse({"--no-raw", "PING"}).error, "");
}

TEST(Options, UrlsAndLaterFlagsOverrideEarlierOnes) {
  parsed_options p = parse({"-u", "redis://bob:secret@10.0.0.1:7001/5", "-n", "6"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.server.host, "10.0.0.1");
  EXPECT_EQ(p.options.server.port, 7001);
  EXPECT_EQ(p.options.server.user, "bob");
  EXPECT_EQ(p.options.server.password, "secret");
  EXPECT_EQ(p.options.server.db, 6);
  EXPECT_TRUE(p.options.warn_about_password);
  p = parse({"-h", "first", "-u", "redis://second:1234"});
  EXPECT_EQ(p.options.server.host, "second");
  EXPECT_FALSE(p.options.warn_about_password);  // no password in the URL
  p = parse({"-u", "unix:///run/redis.sock"});
  EXPECT_EQ(p.options.server.unix_socket, "/run/redis.sock");
  EXPECT_FALSE(parse({"-u", "http://x"}).error.empty());
}

TEST(Options, ASentinelUrlNamesTheSentinelsAndTheService) {
  const parsed_options p = parse({"-u", "redis+sentinel://:pw@s1,s2:26380/mymaster/2", "GET", "k"});
  ASSERT_EQ(p.error, "");
  const auto& sentinel = p.options.server.sentinel;
  EXPECT_EQ(sentinel.service, "mymaster");
  ASSERT_EQ(sentinel.sentinels.size(), 2u);
  EXPECT_EQ(sentinel.sentinels[1].host, "s2");
  EXPECT_EQ(sentinel.sentinels[1].port, 26380);
  EXPECT_EQ(p.options.server.password, "pw");  // the primary's
  EXPECT_EQ(p.options.server.db, 2);
  EXPECT_FALSE(parse({"-u", "redis+sentinel://s1"}).error.empty());  // no service
}

TEST(Options, PasswordWarningAndEnvironment) {
  EXPECT_FALSE(parse({"-a", "pw", "--no-auth-warning"}).options.warn_about_password);
  // REDISCLI_AUTH gives a password without the warning, and never overrides -a.
  parsed_options p = parse({"PING"}, "from-env");
  EXPECT_EQ(p.options.server.password, "from-env");
  EXPECT_FALSE(p.options.warn_about_password);
  p = parse({"-a", "flag", "PING"}, "from-env");
  EXPECT_EQ(p.options.server.password, "flag");
}

TEST(Options, BadValuesAndUnknownFlags) {
  for (auto args : {std::initializer_list<const char*>{"-p", "0"},
                    {"-p", "65536"},
                    {"-p", "x"},
                    {"-p", "80x"},
                    {"-n", "one"},
                    {"-h"},
                    {"-a"},
                    {"--bogus"},
                    {"-x", "PING"}}) {
    EXPECT_FALSE(parse(args).error.empty()) << *args.begin();
  }
}

TEST(Options, ClusterModeFollowsRedirectsButNotOverAUnixSocket) {
  EXPECT_FALSE(parse({"GET", "k"}).options.cluster);
  const parsed_options p = parse({"-c", "-p", "7000", "GET", "k"});
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.options.cluster);
  EXPECT_EQ(p.options.mode, mode::command);
  EXPECT_TRUE(parse({"-c"}).options.cluster);  // commands from stdin
  // A redirect names a host and a port: as redis-cli, -c refuses a socket, however it is given.
  EXPECT_NE(parse({"-c", "-s", "/tmp/redis.sock", "PING"}).error, "");
  EXPECT_NE(parse({"-s", "/tmp/redis.sock", "-c", "PING"}).error, "");
  EXPECT_NE(parse({"-c", "-u", "unix:///tmp/redis.sock", "PING"}).error, "");
}

TEST(Options, DecodeAndHelp) {
  EXPECT_EQ(parse({"--decode"}).options.mode, mode::decode);
  EXPECT_FALSE(parse({"--decode", "extra"}).error.empty());
  EXPECT_EQ(parse({"--help"}).options.mode, mode::help);
  EXPECT_EQ(parse({"-p", "1", "-?"}).options.mode, mode::help);
}

TEST(Options, PipeAndItsTimeout) {
  const parsed_options p = parse({"-p", "7000", "--pipe", "-n", "2"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::pipe);
  EXPECT_EQ(p.options.server.port, 7000);
  EXPECT_EQ(p.options.server.db, 2);
  EXPECT_EQ(p.options.pipe_timeout, 30);  // redis-cli's default
  EXPECT_EQ(parse({"--pipe", "--pipe-timeout", "0"}).options.pipe_timeout, 0);
  EXPECT_EQ(parse({"--pipe-timeout", "5", "--pipe"}).options.pipe_timeout, 5);
  EXPECT_FALSE(parse({"--pipe", "SET", "k", "v"}).error.empty());
  EXPECT_FALSE(parse({"--pipe", "--pipe-timeout", "-1"}).error.empty());
  EXPECT_FALSE(parse({"--pipe", "--pipe-timeout", "x"}).error.empty());
  EXPECT_FALSE(parse({"--pipe", "--pipe-timeout"}).error.empty());
}

TEST(Options, PipeOverTls) {
  const parsed_options p = parse({"--tls", "--cacert", "ca.pem", "--pipe"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.mode, mode::pipe);
  EXPECT_TRUE(p.options.server.tls.enabled);
  const parsed_options url = parse({"-u", "rediss://localhost:6380", "--pipe"});
  ASSERT_EQ(url.error, "");
  EXPECT_EQ(url.options.mode, mode::pipe);
  EXPECT_TRUE(url.options.server.tls.enabled);
}

TEST(Options, TlsFlagsSetTheTlsOptions) {
  const parsed_options p =
      parse({"--tls", "--cacert", "ca.pem", "--cacertdir", "/etc/cas", "--cert", "c.pem", "--key",
             "k.pem", "--sni", "redis.example", "--tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256",
             "--tls-ciphersuites", "TLS_AES_128_GCM_SHA256", "--ocsp", "stapling", "PING"});
  ASSERT_EQ(p.error, "");
  const auto& tls = p.options.server.tls;
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.options.ca_file, "ca.pem");
  EXPECT_EQ(tls.options.ca_path, "/etc/cas");
  EXPECT_EQ(tls.options.cert_file, "c.pem");
  EXPECT_EQ(tls.options.key_file, "k.pem");
  EXPECT_EQ(tls.options.server_name, "redis.example");
  EXPECT_EQ(tls.options.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(tls.options.ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(tls.options.ocsp, uredis::tls::ocsp_mode::stapling);
  EXPECT_TRUE(tls.options.verify_peer);
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"PING"}));
  EXPECT_FALSE(parse({}).options.server.tls.enabled);
}

TEST(Options, OcspModesAndBadTlsFlags) {
  EXPECT_EQ(parse({"--ocsp", "must-staple"}).options.server.tls.options.ocsp,
            uredis::tls::ocsp_mode::must_staple);
  EXPECT_EQ(parse({"--ocsp", "responder"}).options.server.tls.options.ocsp,
            uredis::tls::ocsp_mode::responder);
  EXPECT_EQ(parse({"--ocsp", "stapled"}).error,
            "--ocsp 'stapled' is not off, stapling, must-staple or responder");
  EXPECT_EQ(parse({"--cacert"}).error, "option '--cacert' needs a value");
  EXPECT_EQ(parse({"--tls", "--cert", "c.pem"}).error, "--cert and --key go together");
  EXPECT_FALSE(parse({"--insecure"}).options.server.tls.options.verify_peer);
}

TEST(Options, ARedissUrlTurnsTlsOnWithItsOptionsAndLaterFlagsOverride) {
  const parsed_options p =
      parse({"-u", "rediss://:pw@redis.example:6390/2?ssl_ca_certs=url.pem&ssl_cert_reqs=none",
             "--cacert", "flag.pem"});
  ASSERT_EQ(p.error, "");
  const auto& s = p.options.server;
  EXPECT_TRUE(s.tls.enabled);
  EXPECT_EQ(s.host, "redis.example");
  EXPECT_EQ(s.port, 6390);
  EXPECT_EQ(s.db, 2);
  EXPECT_EQ(s.tls.options.ca_file, "flag.pem");
  EXPECT_FALSE(s.tls.options.verify_peer);
  // A flag before the URL is kept where the URL says nothing.
  EXPECT_EQ(parse({"--cacert", "flag.pem", "-u", "rediss://h"}).options.server.tls.options.ca_file,
            "flag.pem");
}

}  // namespace
