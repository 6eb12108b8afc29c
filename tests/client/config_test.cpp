#include "uredis/client/config.hpp"

#include "uredis/exceptions.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uredis::connection_config;
using uredis::parse_url;
using uredis::resp_version;
using uredis::cache::tracking_mode;

connection_config parsed(std::string_view url) {
  std::string_view reason;
  auto r = parse_url(url, &reason);
  EXPECT_TRUE(r.has_value()) << url << ": " << reason;
  EXPECT_TRUE(reason.empty());
  return r.has_value() ? *r : connection_config{};
}

TEST(Config, defaults) {
  const connection_config c;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 6379);
  EXPECT_TRUE(c.unix_socket.empty());
  EXPECT_TRUE(c.username.empty());
  EXPECT_FALSE(c.password.has_value());
  EXPECT_EQ(c.db, 0);
  EXPECT_FALSE(c.client_name.has_value());
  EXPECT_EQ(c.protocol, resp_version::resp3);
  EXPECT_EQ(c.connect_timeout, 5s);
  EXPECT_TRUE(c.tcp_nodelay);
  EXPECT_FALSE(c.tls);
  EXPECT_FALSE(c.cache.enabled());
}

TEST(ConfigUrl, host_only) {
  connection_config want;
  want.host = "cache.example.com";
  EXPECT_EQ(parsed("redis://cache.example.com"), want);
  EXPECT_EQ(parsed("redis://cache.example.com/"), want);
}

TEST(ConfigUrl, host_and_port) {
  const auto c = parsed("redis://10.0.0.7:6380");
  EXPECT_EQ(c.host, "10.0.0.7");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(parsed("redis://h:1").port, 1);
  EXPECT_EQ(parsed("redis://h:65535").port, 65535);
  EXPECT_EQ(parsed("redis://h:06379").port, 6379);
}

TEST(ConfigUrl, empty_host_keeps_the_default) {
  EXPECT_EQ(parsed("redis://"), connection_config{});
  const auto c = parsed("redis://:7000/4");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.db, 4);
}

TEST(ConfigUrl, password_only) {
  const auto c = parsed("redis://:s3cret@localhost");
  EXPECT_EQ(c.host, "localhost");
  EXPECT_TRUE(c.username.empty());
  ASSERT_TRUE(c.password.has_value());
  EXPECT_EQ(*c.password, "s3cret");
}

TEST(ConfigUrl, user_password_port_db) {
  const auto c = parsed("redis://alice:apw@db.internal:6390/3");
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, "apw");
  EXPECT_EQ(c.host, "db.internal");
  EXPECT_EQ(c.port, 6390);
  EXPECT_EQ(c.db, 3);
  EXPECT_FALSE(c.tls);
}

TEST(ConfigUrl, user_without_password) {
  const auto c = parsed("redis://bob@h");
  EXPECT_EQ(c.username, "bob");
  EXPECT_FALSE(c.password.has_value());
}

TEST(ConfigUrl, empty_userinfo_parts_are_not_given) {
  const auto c = parsed("redis://:@h");
  EXPECT_TRUE(c.username.empty());
  EXPECT_FALSE(c.password.has_value());
  EXPECT_EQ(parsed("redis://@h").host, "h");
}

TEST(ConfigUrl, percent_decoding_of_credentials) {
  const auto c = parsed("redis://us%40er:p%3Aa%2Fss%25w%2Bd+@h");
  EXPECT_EQ(c.username, "us@er");
  EXPECT_EQ(c.password, "p:a/ss%w+d+");  // '+' is literal outside the query
  // A raw '@' in the password: the last '@' ends the userinfo, as urlparse has it.
  EXPECT_EQ(parsed("redis://:p@ss@h").password, "p@ss");
  // A ':' after the first one belongs to the password.
  EXPECT_EQ(parsed("redis://u:a:b@h").password, "a:b");
}

TEST(ConfigUrl, ipv6) {
  const auto c = parsed("redis://[::1]:6380/2");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 2);
  EXPECT_EQ(parsed("redis://[2001:db8::7]").host, "2001:db8::7");
  EXPECT_EQ(parsed("redis://[2001:db8::7]").port, 6379);
  EXPECT_EQ(parsed("redis://[::ffff:10.0.0.1]:7000").host, "::ffff:10.0.0.1");
  EXPECT_EQ(parsed("redis://[fe80::1%25eth0]:7000").host, "fe80::1%eth0");
  EXPECT_EQ(parsed("redis://u:p@[::1]:1/0").password, "p");
}

TEST(ConfigUrl, rediss_sets_tls) {
  const auto c = parsed("rediss://:pw@secure.example:6380/1");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.host, "secure.example");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 1);
}

TEST(ConfigUrl, rediss_keeps_the_safe_tls_defaults) {
  const auto c = parsed("rediss://h");
  EXPECT_TRUE(c.tls_options.verify_peer);
  EXPECT_TRUE(c.tls_options.check_hostname);
  EXPECT_TRUE(c.tls_options.ca_file.empty());
  EXPECT_TRUE(c.tls_options.server_name.empty());
  EXPECT_EQ(c.tls_options.min_version, uredis::tls::protocol_version::tls1_2);
  EXPECT_FALSE(parsed("redis://h").tls);
}

TEST(ConfigUrl, rediss_takes_redis_py_ssl_parameters) {
  const auto c = parsed(
      "rediss://h:6380?ssl_ca_certs=/etc/ca%20dir/ca.pem&ssl_ca_path=/etc/ssl/certs"
      "&ssl_certfile=/c/client.crt&ssl_keyfile=/c/client.key&ssl_cert_reqs=required"
      "&ssl_check_hostname=false");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.tls_options.ca_file, "/etc/ca dir/ca.pem");
  EXPECT_EQ(c.tls_options.ca_path, "/etc/ssl/certs");
  EXPECT_EQ(c.tls_options.cert_file, "/c/client.crt");
  EXPECT_EQ(c.tls_options.key_file, "/c/client.key");
  EXPECT_TRUE(c.tls_options.verify_peer);
  EXPECT_FALSE(c.tls_options.check_hostname);
  EXPECT_FALSE(parsed("rediss://h?ssl_cert_reqs=none").tls_options.verify_peer);
  EXPECT_TRUE(parsed("rediss://h?ssl_check_hostname=true").tls_options.check_hostname);
}

TEST(ConfigUrl, scheme_is_case_insensitive) {
  EXPECT_EQ(parsed("REDIS://h").host, "h");
  EXPECT_TRUE(parsed("Rediss://h").tls);
  EXPECT_EQ(parsed("UNIX:///s").unix_socket, "/s");
}

TEST(ConfigUrl, unix_socket) {
  const auto c = parsed("unix:///path/to/sock");
  EXPECT_EQ(c.unix_socket, "/path/to/sock");
  EXPECT_EQ(c.db, 0);
  EXPECT_FALSE(c.password.has_value());
}

TEST(ConfigUrl, unix_socket_with_query) {
  const auto c = parsed("unix:///tmp/s.sock?db=2&password=x&username=u");
  EXPECT_EQ(c.unix_socket, "/tmp/s.sock");
  EXPECT_EQ(c.db, 2);
  EXPECT_EQ(c.password, "x");
  EXPECT_EQ(c.username, "u");
}

TEST(ConfigUrl, unix_socket_with_userinfo_and_escapes) {
  const auto c = parsed("unix://u:p%21@/run/redis%20dir/r.sock");
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password, "p!");
  EXPECT_EQ(c.unix_socket, "/run/redis dir/r.sock");
}

TEST(ConfigUrl, query_parameters) {
  const auto c = parsed(
      "redis://h?db=5&client_name=my+app%21&protocol=2&socket_connect_timeout=0.25"
      "&username=u&password=a%26b+c");
  EXPECT_EQ(c.db, 5);
  EXPECT_EQ(c.client_name, "my app!");
  EXPECT_EQ(c.protocol, resp_version::resp2);
  EXPECT_EQ(c.connect_timeout, 250ms);
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password, "a&b c");
  EXPECT_EQ(parsed("redis://h?protocol=3").protocol, resp_version::resp3);
  // Timeouts round up to whole milliseconds, never down to "no timeout".
  EXPECT_EQ(parsed("redis://h?socket_connect_timeout=0.0001").connect_timeout, 1ms);
  EXPECT_EQ(parsed("redis://h?socket_connect_timeout=3").connect_timeout, 3s);
  EXPECT_EQ(parsed("redis://h?socket_connect_timeout=1e1").connect_timeout, 10s);
  EXPECT_EQ(parsed("redis://h?socket_timeout=0.5").command_timeout, 500ms);
  EXPECT_EQ(parsed("redis://h?health_check_interval=2").health_check_interval, 2s);
  EXPECT_EQ(parsed("redis://h").command_timeout, 0ms);  // none unless asked for
}

TEST(ConfigUrl, cache_is_off_unless_asked_for) {
  const auto c = parsed("redis://:pw@h:6380/2?client_name=x&socket_timeout=1");
  EXPECT_EQ(c.cache.max_bytes, 0u);
  EXPECT_FALSE(c.cache.enabled());
  EXPECT_EQ(c.cache, uredis::cache::cache_config{});
}

TEST(ConfigUrl, cache_parameters) {
  const auto c = parsed("redis://h?cache_max_bytes=1048576&cache_mode=optin&cache_max_ttl=30");
  EXPECT_EQ(c.cache.max_bytes, 1048576u);
  EXPECT_TRUE(c.cache.enabled());
  EXPECT_EQ(c.cache.mode, tracking_mode::optin);
  EXPECT_EQ(c.cache.max_ttl, 30s);
  EXPECT_TRUE(c.cache.prefixes.empty());

  const auto only_bytes = parsed("redis://h?cache_max_bytes=1");
  EXPECT_EQ(only_bytes.cache.max_bytes, 1u);
  EXPECT_EQ(only_bytes.cache.mode, tracking_mode::optin);
  EXPECT_EQ(only_bytes.cache.max_ttl, 0ms);
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=18446744073709551615").cache.max_bytes,
            18446744073709551615u);
  EXPECT_EQ(parsed("unix:///s?cache_max_bytes=64").cache.max_bytes, 64u);
}

TEST(ConfigUrl, cache_modes) {
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_mode=optin").cache.mode,
            tracking_mode::optin);
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_mode=default").cache.mode,
            tracking_mode::tracked);
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_mode=bcast").cache.mode,
            tracking_mode::bcast);
  // Settings that depend on each other are checked at the end, whatever their order.
  EXPECT_EQ(parsed("redis://h?cache_mode=bcast&cache_max_bytes=1").cache.mode,
            tracking_mode::bcast);
}

TEST(ConfigUrl, cache_max_ttl_is_seconds_rounded_up_to_milliseconds) {
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_max_ttl=0.25").cache.max_ttl, 250ms);
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_max_ttl=0.0001").cache.max_ttl, 1ms);
  EXPECT_EQ(parsed("redis://h?cache_max_bytes=1&cache_max_ttl=1e1").cache.max_ttl, 10s);
}

TEST(ConfigUrl, cache_prefixes_repeat_in_order) {
  const auto c = parsed(
      "redis://h?cache_prefix=user%3A&cache_max_bytes=4096&cache_prefix=session:"
      "&cache_mode=bcast&cache_prefix=a+b&cache_prefix=user%3A");
  EXPECT_EQ(c.cache.mode, tracking_mode::bcast);
  EXPECT_EQ(c.cache.prefixes, (std::vector<std::string>{"user:", "session:", "a b", "user:"}));
  EXPECT_TRUE(parsed("redis://h?cache_max_bytes=1&cache_mode=bcast").cache.prefixes.empty());
}

TEST(ConfigUrl, empty_query_pieces_are_skipped) {
  EXPECT_EQ(parsed("redis://h?").host, "h");
  const auto c = parsed("redis://h/1?&client_name=x&");
  EXPECT_EQ(c.db, 1);
  EXPECT_EQ(c.client_name, "x");
}

TEST(ConfigUrl, empty_string_parameters_are_not_given) {
  const auto c = parsed("redis://h?username=&password=&client_name=");
  EXPECT_TRUE(c.username.empty());
  EXPECT_FALSE(c.password.has_value());
  EXPECT_FALSE(c.client_name.has_value());
}

TEST(ConfigUrl, db_from_path_or_query) {
  EXPECT_EQ(parsed("redis://h/15").db, 15);
  EXPECT_EQ(parsed("redis://h/0").db, 0);
  EXPECT_EQ(parsed("redis://h?db=7").db, 7);
  EXPECT_EQ(parsed("redis://h/2147483647").db, 2147483647);
}

TEST(ConfigUrl, password_may_hold_query_and_path_characters_when_encoded) {
  EXPECT_EQ(parsed("redis://:a%2Fb%3Fc%23d@h").password, "a/b?c#d");
}

TEST(ConfigUrlSentinel, lists_sentinels_with_the_default_port_and_names_the_service) {
  const auto c = parsed("redis+sentinel://s1,10.0.0.2:5000,[::1]/mymaster");
  EXPECT_TRUE(c.sentinel.enabled());
  EXPECT_EQ(c.sentinel.service, "mymaster");
  ASSERT_EQ(c.sentinel.sentinels.size(), 3u);
  EXPECT_EQ(c.sentinel.sentinels[0], (uredis::endpoint{"s1", 26379}));
  EXPECT_EQ(c.sentinel.sentinels[1], (uredis::endpoint{"10.0.0.2", 5000}));
  EXPECT_EQ(c.sentinel.sentinels[2], (uredis::endpoint{"::1", 26379}));
  EXPECT_EQ(c.host, connection_config{}.host);  // unused: the Sentinels name the primary
  EXPECT_FALSE(c.tls);
  EXPECT_FALSE(parsed("redis://h").sentinel.enabled());
}

TEST(ConfigUrlSentinel, userinfo_db_and_query_are_the_primarys_sentinel_ones_the_sentinels) {
  const auto c = parsed(
      "redis+sentinel://app:pw@s1:26380/my%2Dservice/3?client_name=x&sentinel_username=su&"
      "sentinel_password=sp&sentinel_timeout=0.2");
  EXPECT_EQ(c.sentinel.service, "my-service");
  EXPECT_EQ(c.username, "app");
  EXPECT_EQ(c.password, "pw");
  EXPECT_EQ(c.db, 3);
  EXPECT_EQ(c.client_name, "x");
  EXPECT_EQ(c.sentinel.username, "su");
  EXPECT_EQ(c.sentinel.password, "sp");
  EXPECT_EQ(c.sentinel.timeout, 200ms);
  EXPECT_EQ(parsed("redis+sentinel://s/m/").db, 0);
  EXPECT_EQ(parsed("redis+sentinel://s/m").sentinel.timeout, 500ms);
}

TEST(ConfigUrlSentinel, a_printed_sentinel_config_shows_the_sentinels_not_the_password) {
  EXPECT_EQ(uredis::redacted_url(parsed("redis+sentinel://u:pw@s1,s2:1/m/2")),
            "redis+sentinel://u:***@s1:26379,s2:1/m/2");
}

TEST(ConfigUrlSentinel, sentinel_role_chooses_a_replica_or_the_primary) {
  EXPECT_EQ(parsed("redis+sentinel://s/m").sentinel.role, uredis::sentinel::role::primary);
  EXPECT_EQ(parsed("redis+sentinel://s/m?sentinel_role=primary").sentinel.role,
            uredis::sentinel::role::primary);
  const auto c = parsed("redis+sentinel://s1,s2/m/1?sentinel_role=replica&client_name=r");
  EXPECT_EQ(c.sentinel.role, uredis::sentinel::role::replica);
  EXPECT_EQ(c.sentinel.service, "m");
  EXPECT_EQ(c.db, 1);
  EXPECT_EQ(c.client_name, "r");
  EXPECT_FALSE(c.sentinel.tls.has_value());
}

TEST(ConfigUrlSentinel, rediss_sentinel_uses_tls_for_the_data_servers_and_the_sentinels_alike) {
  const auto c = parsed(
      "REDISS+SENTINEL://:pw@s1:26380,s2/m?ssl_ca_certs=/ca.pem&ssl_certfile=/c.crt&"
      "ssl_keyfile=/c.key&ssl_check_hostname=false&sentinel_role=replica");
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.tls_options.ca_file, "/ca.pem");
  EXPECT_EQ(c.tls_options.cert_file, "/c.crt");
  EXPECT_EQ(c.tls_options.key_file, "/c.key");
  EXPECT_FALSE(c.tls_options.check_hostname);
  ASSERT_TRUE(c.sentinel.tls.has_value());
  EXPECT_EQ(*c.sentinel.tls, c.tls_options);
  EXPECT_EQ(c.sentinel.sentinels.size(), 2u);
  EXPECT_EQ(c.sentinel.role, uredis::sentinel::role::replica);
  EXPECT_EQ(c.password, "pw");
  // Without parameters: TLS with the defaults (verify against the system's CAs).
  const auto plain = parsed("rediss+sentinel://s/m");
  EXPECT_TRUE(plain.tls);
  EXPECT_EQ(plain.sentinel.tls, std::optional<uredis::tls::options>(uredis::tls::options{}));
  // The plaintext form reaches plaintext Sentinels.
  EXPECT_FALSE(parsed("redis+sentinel://s/m").sentinel.tls.has_value());
}

TEST(ConfigUrlSentinel, a_printed_tls_sentinel_config_keeps_its_scheme) {
  EXPECT_EQ(uredis::redacted_url(parsed("rediss+sentinel://:pw@s1/m")),
            "rediss+sentinel://:***@s1:26379/m");
}

struct bad_url {
  std::string_view url;
  std::string_view reason;  // the start of the expected reason
};

class ConfigBadUrl : public testing::TestWithParam<bad_url> {};

TEST_P(ConfigBadUrl, is_rejected_with_a_reason) {
  std::string_view reason;
  const auto r = parse_url(GetParam().url, &reason);
  ASSERT_FALSE(r.has_value()) << GetParam().url;
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), uredis::errc::invalid_url);
  EXPECT_EQ(r.error().message(), "invalid Redis URL");
  EXPECT_FALSE(uredis::is_protocol_error(r.error()));
  EXPECT_TRUE(reason.starts_with(GetParam().reason))
      << GetParam().url << " gave: " << reason << "\nwanted: " << GetParam().reason;
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(BadUrls, ConfigBadUrl, testing::Values(
    bad_url{"", "missing scheme"},
    bad_url{"localhost:6379", "missing scheme"},
    bad_url{"redis:/h", "missing scheme"},
    bad_url{"http://h", "unknown scheme"},
    bad_url{"redis+sentinel://h", "a redis+sentinel:// URL needs the service name"},
    bad_url{"redis+sentinel://h/", "a redis+sentinel:// URL needs the service name"},
    bad_url{"redis+sentinel:///mymaster", "a redis+sentinel:// URL needs at least one"},
    bad_url{"redis+sentinel://h1,,h2/mymaster", "an empty Sentinel address"},
    bad_url{"redis+sentinel://h1,:26379/mymaster", "a Sentinel address has no host"},
    bad_url{"redis+sentinel://h1:0/mymaster", "port is not a number"},
    bad_url{"redis+sentinel://h/mymaster/x", "the database is not a number"},
    bad_url{"rediss+sentinel://h", "a redis+sentinel:// URL needs the service name"},
    bad_url{"rediss+sentinel:///m", "a redis+sentinel:// URL needs at least one"},
    bad_url{"rediss+sentinel://h/m?ssl_certfile=/c.crt", "ssl_certfile and ssl_keyfile go"},
    bad_url{"rediss+sentinel://h/m?ssl_cert_reqs=maybe", "ssl_cert_reqs must be"},
    bad_url{"redis+sentinel://h/m?ssl_ca_certs=/ca.pem", "the ssl_* parameters need a rediss://"},
    bad_url{"redis+sentinel://h/m?sentinel_role=slave", "sentinel_role must be primary or"},
    bad_url{"redis+sentinel://h/m?sentinel_role=", "sentinel_role must be primary or"},
    bad_url{"redis+sentinel://h/m?sentinel_role=replica&sentinel_role=primary", "a query parameter is given twice"},
    bad_url{"redis://h?sentinel_role=replica", "the sentinel_* parameters need"},
    bad_url{"rediss://h?sentinel_role=replica", "the sentinel_* parameters need"},
    bad_url{"redis://h?sentinel_password=x", "the sentinel_* parameters need"},
    bad_url{"redis+sentinel://h/m?sentinel_timeout=0", "sentinel_timeout is not"},
    bad_url{"valkey://h", "unknown scheme"},
    bad_url{"redis://h:", "empty port"},
    bad_url{"redis://h:0", "port is not"},
    bad_url{"redis://h:65536", "port is not"},
    bad_url{"redis://h:99999999999", "port is not"},
    bad_url{"redis://h:-1", "port is not"},
    bad_url{"redis://h:+80", "port is not"},
    bad_url{"redis://h:80x", "port is not"},
    bad_url{"redis://h:1:2", "port is not"},
    bad_url{"redis://::1:6379", "port is not"},
    bad_url{"redis://h/x", "the database is not"},
    bad_url{"redis://h/-1", "the database is not"},
    bad_url{"redis://h/1/2", "the database is not"},
    bad_url{"redis://h/3/", "the database is not"},
    bad_url{"redis://h/2147483648", "the database is not"},
    bad_url{"redis://h/+1", "the database is not"},
    bad_url{"redis://h?db=", "the database is not"},
    bad_url{"redis://h?db=one", "the database is not"},
    bad_url{"redis://h/1?db=1", "the database is given twice"},
    bad_url{"redis://h?db=1&db=2", "a query parameter is given twice"},
    bad_url{"redis://h?ssl_ca_certs=/ca.pem", "the ssl_* parameters need a rediss:// URL"},
    bad_url{"redis://h?ssl_cert_reqs=none", "the ssl_* parameters need a rediss:// URL"},
    bad_url{"rediss://h?ssl_ca_certs=", "ssl_ca_certs is empty"},
    bad_url{"rediss://h?ssl_ca_path=", "ssl_ca_path is empty"},
    bad_url{"rediss://h?ssl_certfile=", "ssl_certfile is empty"},
    bad_url{"rediss://h?ssl_keyfile=", "ssl_keyfile is empty"},
    bad_url{"rediss://h?ssl_certfile=/c.crt", "ssl_certfile and ssl_keyfile go together"},
    bad_url{"rediss://h?ssl_keyfile=/c.key", "ssl_certfile and ssl_keyfile go together"},
    bad_url{"rediss://h?ssl_cert_reqs=optional", "ssl_cert_reqs must be none or required"},
    bad_url{"rediss://h?ssl_cert_reqs=REQUIRED", "ssl_cert_reqs must be none or required"},
    bad_url{"rediss://h?ssl_check_hostname=yes", "ssl_check_hostname must be true or false"},
    bad_url{"rediss://h?ssl_check_hostname=1", "ssl_check_hostname must be true or false"},
    bad_url{"rediss://h?ssl_cert_reqs=none&ssl_cert_reqs=required",
            "a query parameter is given twice"},
    bad_url{"redis://h?protocol=4", "protocol must be"},
    bad_url{"redis://h?protocol=resp3", "protocol must be"},
    bad_url{"redis://h?socket_connect_timeout=0", "socket_connect_timeout"},
    bad_url{"redis://h?socket_connect_timeout=-1", "socket_connect_timeout"},
    bad_url{"redis://h?socket_connect_timeout=inf", "socket_connect_timeout"},
    bad_url{"redis://h?socket_connect_timeout=nan", "socket_connect_timeout"},
    bad_url{"redis://h?socket_connect_timeout=1s", "socket_connect_timeout"},
    bad_url{"redis://h?socket_connect_timeout=1e10", "socket_connect_timeout"},
    bad_url{"redis://h?socket_timeout=0", "socket_timeout"},
    bad_url{"redis://h?health_check_interval=x", "health_check_interval"},
    bad_url{"redis://h?unknown=1", "unknown query parameter"},
    bad_url{"redis://h?retry_on_timeout=1", "unknown query parameter"},
    bad_url{"redis://h?db", "a query parameter has no"},
    bad_url{"redis://:pw@h?password=x", "the password is given twice"},
    bad_url{"redis://u@h?username=x", "the username is given twice"},
    bad_url{"redis://h#frag", "'#' is not allowed"},
    bad_url{"redis://:p#w@h", "'#' is not allowed"},
    bad_url{"redis://h ost", "spaces and control"},
    bad_url{"redis://h\t", "spaces and control"},
    bad_url{std::string_view("redis://h\0", 10), "spaces and control"},
    bad_url{"redis://h%", "malformed percent-encoding in the host"},
    bad_url{"redis://h%zz", "malformed percent-encoding in the host"},
    bad_url{"redis://h%2", "malformed percent-encoding in the host"},
    bad_url{"redis://h%2Fx", "invalid character in the host"},
    bad_url{"redis://h!x", "invalid character in the host"},
    bad_url{"redis://:50%off@h", "malformed percent-encoding in the password"},
    bad_url{"redis://u%g1:p@h", "malformed percent-encoding in the username"},
    bad_url{"redis://h?password=%", "malformed percent-encoding in the query"},
    bad_url{"redis://[::1", "unclosed '['"},
    bad_url{"redis://[::1]x", "unexpected characters after ']'"},
    bad_url{"redis://[::1]:", "empty port"},
    bad_url{"redis://[]", "malformed IPv6 address"},
    bad_url{"redis://[::g]", "malformed IPv6 address"},
    bad_url{"redis://[10.0.0.1]", "malformed IPv6 address"},
    bad_url{"redis://[fe80::1%eth0]", "malformed IPv6 zone"},
    bad_url{"redis://[fe80::1%25]", "malformed IPv6 zone"},
    bad_url{"unix://", "a unix:// URL needs"},
    bad_url{"unix://?db=1", "a unix:// URL needs"},
    bad_url{"unix://relative.sock", "a unix:// URL takes no host"},
    bad_url{"unix://localhost/tmp/s.sock", "a unix:// URL takes no host"},
    bad_url{"unix:///tmp/%00", "the socket path contains a NUL"},
    bad_url{"unix:///tmp/%zz", "malformed percent-encoding in the socket path"},
    bad_url{"unix:///tmp/s.sock?protocol=1", "protocol must be"},
    bad_url{"redis://h?cache_max_bytes=0", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=-1", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=+1", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=1mb", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=1.5", "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=18446744073709551616",
            "cache_max_bytes is not a whole number of bytes >= 1"},
    bad_url{"redis://h?cache_max_bytes=1&cache_max_bytes=2", "a query parameter is given twice"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=BCAST",
            "cache_mode must be optin, default or bcast"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=tracked",
            "cache_mode must be optin, default or bcast"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=", "cache_mode must be optin, default or bcast"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=optin&cache_mode=bcast",
            "a query parameter is given twice"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=bcast&cache_prefix=", "cache_prefix is empty"},
    bad_url{"redis://h?cache_max_bytes=1&cache_max_ttl=0",
            "cache_max_ttl is not a number of seconds in (0, 31536000]"},
    bad_url{"redis://h?cache_max_bytes=1&cache_max_ttl=-5",
            "cache_max_ttl is not a number of seconds in (0, 31536000]"},
    bad_url{"redis://h?cache_max_bytes=1&cache_max_ttl=",
            "cache_max_ttl is not a number of seconds in (0, 31536000]"},
    bad_url{"redis://h?cache_max_bytes=1&cache_max_ttl=10s",
            "cache_max_ttl is not a number of seconds in (0, 31536000]"},
    bad_url{"redis://h?cache_mode=optin", "cache_mode needs cache_max_bytes"},
    bad_url{"redis://h?cache_mode=bcast&cache_prefix=p", "cache_mode needs cache_max_bytes"},
    bad_url{"redis://h?cache_prefix=p", "cache_prefix needs cache_max_bytes"},
    bad_url{"redis://h?cache_max_ttl=1", "cache_max_ttl needs cache_max_bytes"},
    bad_url{"redis://h?cache_max_bytes=1&cache_prefix=p", "cache_prefix needs cache_mode=bcast"},
    bad_url{"redis://h?cache_max_bytes=1&cache_mode=optin&cache_prefix=p",
            "cache_prefix needs cache_mode=bcast"},
    bad_url{"redis://h?cache_max_bytes=1&cache_prefix=p&cache_mode=default",
            "cache_prefix needs cache_mode=bcast"}
));
// clang-format on

TEST(ConfigUrl, unix_path_length_limit) {
  std::string path = "/" + std::string(uredis::max_unix_socket_path - 1, 'a');
  EXPECT_EQ(parsed("unix://" + path).unix_socket, path);
  std::string_view reason;
  EXPECT_FALSE(parse_url("unix://" + path + "b", &reason).has_value());
  EXPECT_TRUE(reason.starts_with("the socket path is longer"));
}

TEST(ConfigUrl, reason_is_optional) {
  const auto r = parse_url("nope");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), uredis::errc::invalid_url);
}

TEST(ConfigUrl, value_throws_a_uredis_error) {
  EXPECT_THROW((void)parse_url("redis://h:0").value(), uredis::data_error);
}

TEST(ConfigRedacted, a_printed_config_never_shows_its_password) {
  EXPECT_EQ(uredis::redacted_url(parsed("redis://app:s3cr%40t@10.0.0.1:6380/2")),
            "redis://app:***@10.0.0.1:6380/2");
  EXPECT_EQ(uredis::redacted_url(parsed("rediss://:only-a-password@[::1]")),
            "rediss://:***@[::1]:6379");
  EXPECT_EQ(uredis::redacted_url(parsed("redis://nopass-user@h")), "redis://nopass-user@h:6379");
  EXPECT_EQ(uredis::redacted_url(parsed("unix://u:pw@/run/r.sock?db=3")),
            "unix://u:***@/run/r.sock?db=3");
  connection_config c;
  c.credentials = std::make_shared<uredis::auth::static_credentials>(
      uredis::auth::credentials{"app", "token-123"});
  const std::string printed = uredis::redacted_url(c);
  EXPECT_EQ(printed, "redis://:***@127.0.0.1:6379");
  EXPECT_EQ(printed.find("token-123"), std::string::npos);
}

}  // namespace
