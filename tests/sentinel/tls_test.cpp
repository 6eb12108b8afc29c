// rediss+sentinel:// against a TLS deployment: a primary, a replica and three Sentinels, each
// listening for TLS (tls-port) and talking TLS to the others (tls-replication yes), with the
// certificates of tests/support/test_certificates.hpp. The Sentinels hand out TLS ports only,
// so a client that reached them or the data servers in plaintext could not pass.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_sentinel.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/error.hpp"
#include "uredis/sentinel/primary_locator.hpp"

namespace uredis::sentinel {
namespace {

using namespace std::chrono_literals;

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificates_ = new test::test_certificates();
    test::redis_sentinel_options options;
    options.tls = test::redis_tls_options{.cert_file = certificates_->cert("server"),
                                          .key_file = certificates_->key("server"),
                                          .ca_file = certificates_->cert("ca")};
    set_ = new test::redis_sentinel(options);
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
    delete certificates_;
    certificates_ = nullptr;
  }

  void SetUp() override { r_ = test::make_reactor(); }

  // The set's rediss+sentinel:// URL trusting `ca`, plus `more` query parameters.
  static connection_config config_of(const std::string& ca, const std::string& more = "") {
    const std::string url = set_->url() + "?ssl_ca_certs=" + certificates_->cert(ca) + more;
    std::string_view why;
    result<connection_config> c = parse_url(url, &why);
    EXPECT_TRUE(c.has_value()) << url << ": " << why;
    return c ? *c : connection_config{};
  }

  std::optional<result<void>> connect(connection& c) { return test::connect_within(*r_, c, 15s); }

  template <class Command>
  std::optional<result<typename Command::response>> run(connection& c, const Command& command) {
    return test::exec_within(*r_, c, command);
  }

  static test::test_certificates* certificates_;
  static test::redis_sentinel* set_;
  std::unique_ptr<reactor::reactor> r_;
};

test::test_certificates* Tls::certificates_ = nullptr;
test::redis_sentinel* Tls::set_ = nullptr;

std::string describe(const result<void>& r) {
  if (r) return "ok";
  return r.has_error() ? r.error().message() : r.server_error().message;
}

TEST_F(Tls, set_and_get_through_the_primary_the_sentinels_name) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  const connection_config config = config_of("ca");
  ASSERT_TRUE(config.tls);
  ASSERT_TRUE(config.sentinel.tls.has_value());
  connection c{*r_, config};
  const auto connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(*connected) << describe(*connected);

  const auto set = run(c, cmd::set{"tls:k", "secret"});
  ASSERT_TRUE(set.has_value() && set->has_value());
  const auto get = run(c, cmd::get{"tls:k"});
  ASSERT_TRUE(get.has_value() && get->has_value());
  EXPECT_EQ(**get, std::optional<std::string>("secret"));
  // On the primary itself (read through the fixture's plaintext port).
  EXPECT_EQ(primary->command({"GET", "tls:k"}), "$6\r\nsecret\r\n");
}

TEST_F(Tls, a_replica_connection_reads_over_tls) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  ASSERT_EQ(primary->command({"SET", "tls:r", "replicated"}), "+OK\r\n");
  ASSERT_EQ(primary->command({"WAIT", "1", "2000"}), ":1\r\n");
  connection c{*r_, config_of("ca", "&sentinel_role=replica")};
  const auto connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(*connected) << describe(*connected);
  const auto role = run(c, cmd::raw{"ROLE"});
  ASSERT_TRUE(role.has_value() && role->has_value() && !(*role)->elements().empty());
  EXPECT_EQ((*role)->elements()[0].text(), "slave");
  const auto get = run(c, cmd::get{"tls:r"});
  ASSERT_TRUE(get.has_value() && get->has_value());
  EXPECT_EQ(**get, std::optional<std::string>("replicated"));
}

TEST_F(Tls, certificates_are_checked_against_the_address_the_sentinels_gave) {
  ASSERT_TRUE(r_);
  // config.host is not where the connection goes: a name the server's certificate lacks
  // there changes nothing.
  connection_config config = config_of("ca");
  ASSERT_TRUE(config.tls_options.check_hostname);
  config.host = "wrong.example.invalid";
  connection c{*r_, config};
  const auto connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(*connected) << describe(*connected);
}

TEST_F(Tls, a_wrong_ca_fails_the_connect_with_the_verification_error) {
  ASSERT_TRUE(r_);
  connection c{*r_, config_of("other_ca")};
  const auto began = std::chrono::steady_clock::now();
  const auto connected = connect(c);
  ASSERT_TRUE(connected.has_value()) << "the connect hung";
  ASSERT_TRUE(connected->has_error()) << describe(*connected);
  EXPECT_EQ(connected->error(), errc::tls_certificate_untrusted) << describe(*connected);
  // Not retried: the same certificate would be refused again.
  EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST_F(Tls, the_switch_master_subscription_runs_over_tls_too) {
  ASSERT_TRUE(r_);
  connection_config config = config_of("ca");
  auto locator = std::make_shared<primary_locator>(*r_, config.sentinel);
  config.address = locator;
  connection c{*r_, config};
  const auto connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(*connected) << describe(*connected);
  // Its connection has no host of its own: each Sentinel's certificate is checked against the
  // address it is reached at.
  EXPECT_TRUE(test::run_until(
      *r_, [&] { return locator->following(); }, 10s));
}

TEST_F(Tls, the_blocking_client_takes_a_rediss_sentinel_url) {
  blocking_client b{set_->url() + "?ssl_ca_certs=" + certificates_->cert("ca")};
  b.set("tls:blocking", "yes");
  EXPECT_EQ(b.get("tls:blocking"), std::optional<std::string>("yes"));
}

}  // namespace
}  // namespace uredis::sentinel
