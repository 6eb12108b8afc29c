// tls::engine: two engines, a client and a wolfSSL server, pumping bytes to each other in
// memory, with no socket: the handshake, data both ways, records larger than one, and each
// cause a certificate is refused for, named by its own code.

#include "tls/engine.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "../support/engine_pair.hpp"
#include "../support/test_certificates.hpp"
#include "tls/context.hpp"
#include "tls/record_header.hpp"
#include "uredis/error.hpp"

namespace uredis::tls {
namespace {

class Engine : public ::testing::Test, protected test::engine_pair {
 protected:
  static void SetUpTestSuite() { certs = new test::test_certificates(); }
  static void TearDownTestSuite() {
    delete certs;
    certs = nullptr;
  }

  // A server context presenting `name`'s certificate; `require_client` asks for a client
  // certificate from ca.
  static context server_context(const std::string& name, bool require_client = false) {
    EXPECT_TRUE(initialize_library());
    context c(wolfSSL_CTX_new(wolfSSLv23_server_method()));
    EXPECT_EQ(wolfSSL_CTX_use_certificate_file(c.native(), certs->cert(name).c_str(),
                                               WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    EXPECT_EQ(
        wolfSSL_CTX_use_PrivateKey_file(c.native(), certs->key(name).c_str(), WOLFSSL_FILETYPE_PEM),
        WOLFSSL_SUCCESS);
    if (require_client) {
      EXPECT_EQ(wolfSSL_CTX_load_verify_locations(c.native(), certs->cert("ca").c_str(), nullptr),
                WOLFSSL_SUCCESS);
      wolfSSL_CTX_set_verify(c.native(), WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                             nullptr);
    } else {
      wolfSSL_CTX_set_verify(c.native(), WOLFSSL_VERIFY_NONE, nullptr);
    }
    return c;
  }

  static options trusting_ca() {
    options o;
    o.ca_file = certs->cert("ca");
    return o;
  }

  // A client for `o` against a server showing `name`'s certificate, handshake pumped.
  void connect(const options& o, const std::string& name, std::string_view host = "localhost",
               bool require_client = false) {
    server_ctx.emplace(server_context(name, require_client));
    result<context> c = context::client(o);
    ASSERT_TRUE(c) << c.error().message();
    client_ctx.emplace(std::move(*c));
    ASSERT_FALSE(server.start(server_ctx->native(), role::server));
    ASSERT_FALSE(client.start(client_ctx->native(), role::client,
                              {host, o.verify_peer && o.check_hostname}));
    step(client, client_error);  // the ClientHello
    pump();
  }

  static test::test_certificates* certs;
  std::optional<context> server_ctx;
  std::optional<context> client_ctx;
};

test::test_certificates* Engine::certs = nullptr;

TEST_F(Engine, handshake_then_data_both_ways) {
  connect(trusting_ca(), "server");
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_TRUE(client.handshake_done());
  ASSERT_TRUE(server.handshake_done());
  ASSERT_FALSE(client.encrypt("*1\r\n$4\r\nPING\r\n"));
  pump();
  EXPECT_EQ(server_received, "*1\r\n$4\r\nPING\r\n");
  ASSERT_FALSE(server.encrypt("+PONG\r\n"));
  pump();
  EXPECT_EQ(client_received, "+PONG\r\n");
}

TEST_F(Engine, a_large_write_arrives_whole_in_record_sized_reads) {
  connect(trusting_ca(), "server");
  ASSERT_TRUE(client.handshake_done());
  std::string big(100'000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  ASSERT_FALSE(client.encrypt(big));
  pump();
  EXPECT_EQ(server_received, big);
}

TEST_F(Engine, an_ip_address_matches_the_subject_alt_name) {
  connect(trusting_ca(), "server", "127.0.0.1");
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_TRUE(client.handshake_done());
}

TEST_F(Engine, another_ip_address_is_a_host_name_mismatch) {
  connect(trusting_ca(), "server", "127.0.0.2");
  EXPECT_EQ(client_error, make_error_code(errc::tls_host_name_mismatch)) << client_error.message();
}

TEST_F(Engine, a_certificate_for_another_name_is_a_host_name_mismatch) {
  connect(trusting_ca(), "wrong_host", "localhost");
  EXPECT_EQ(client_error, make_error_code(errc::tls_host_name_mismatch)) << client_error.message();
}

TEST_F(Engine, without_the_host_name_check_another_name_is_accepted) {
  options o = trusting_ca();
  o.check_hostname = false;
  connect(o, "wrong_host", "localhost");
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_TRUE(client.handshake_done());
}

TEST_F(Engine, a_certificate_from_another_ca_is_untrusted) {
  connect(trusting_ca(), "other_server");
  EXPECT_EQ(client_error, make_error_code(errc::tls_certificate_untrusted))
      << client_error.message();
}

TEST_F(Engine, an_expired_certificate_is_expired) {
  connect(trusting_ca(), "expired");
  EXPECT_EQ(client_error, make_error_code(errc::tls_certificate_expired)) << client_error.message();
}

TEST_F(Engine, without_verification_any_certificate_is_accepted) {
  options o;
  o.verify_peer = false;
  connect(o, "other_server");
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_TRUE(client.handshake_done());
}

TEST_F(Engine, a_client_certificate_satisfies_a_server_that_requires_one) {
  options o = trusting_ca();
  o.cert_file = certs->cert("client");
  o.key_file = certs->key("client");
  connect(o, "server", "localhost", /*require_client=*/true);
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_FALSE(server_error) << server_error.message();
  ASSERT_FALSE(client.encrypt("hello"));
  pump();
  EXPECT_EQ(server_received, "hello");
}

TEST_F(Engine, a_server_that_requires_a_client_certificate_refuses_one_without) {
  connect(trusting_ca(), "server", "localhost", /*require_client=*/true);
  // TLS 1.3: the client finishes first and learns of the refusal from the server's alert.
  if (client.handshake_done()) {
    ASSERT_FALSE(client.encrypt("hello"));
    pump();
  }
  EXPECT_TRUE(server_error);
  EXPECT_EQ(client_error, make_error_code(errc::tls_peer_alert)) << client_error.message();
  EXPECT_EQ(server_received, "");
}

TEST_F(Engine, a_peer_that_answers_in_plaintext_fails_the_handshake) {
  result<context> c = context::client(trusting_ca());
  ASSERT_TRUE(c);
  ASSERT_FALSE(client.start(c->native(), role::client, {"localhost", true}));
  ASSERT_TRUE(client.handshake());
  EXPECT_TRUE(client.has_output());  // the ClientHello
  client.on_ciphertext("-ERR unknown command\r\n");
  const result<bool> done = client.handshake();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error(), make_error_code(errc::tls_handshake_failed)) << done.error().message();
}

TEST_F(Engine, a_ca_file_that_does_not_load_is_an_invalid_config) {
  options o;
  o.ca_file = certs->dir() + "/missing.pem";
  const result<context> c = context::client(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), make_error_code(errc::tls_config_invalid));
}

TEST_F(Engine, a_certificate_without_its_key_is_an_invalid_config) {
  options o = trusting_ca();
  o.cert_file = certs->cert("client");
  EXPECT_FALSE(context::client(o));
}

// wolfSSL 5.5.4's check_private_key misses a mismatched EC key; the server does not.
TEST_F(Engine, a_key_that_is_not_the_certificates_is_refused_by_the_server) {
  options o = trusting_ca();
  o.cert_file = certs->cert("client");
  o.key_file = certs->key("server");
  connect(o, "server", "localhost", /*require_client=*/true);
  if (client.handshake_done()) {
    ASSERT_FALSE(client.encrypt("hello"));
    pump();
  }
  EXPECT_TRUE(server_error);
  EXPECT_EQ(client_error, make_error_code(errc::tls_peer_alert)) << client_error.message();
  EXPECT_EQ(server_received, "");
}

TEST_F(Engine, a_cipher_list_with_no_known_suite_is_an_invalid_config) {
  options o = trusting_ca();
  o.ciphers = "NO-SUCH-CIPHER";
  o.ciphersuites = "NO_SUCH_SUITE";
  EXPECT_FALSE(context::client(o));
}

TEST_F(Engine, tls_1_2_only_ciphers_still_connect) {
  options o = trusting_ca();
  o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  connect(o, "server");
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_TRUE(client.handshake_done());
}

// wolfSSL's own heap calls, counted: they happen inside libwolfssl, where the test's allocation
// counter cannot see them.
std::uint64_t wolfssl_allocations = 0;

void* counting_malloc(std::size_t size) {
  ++wolfssl_allocations;
  return std::malloc(size);
}
void counting_free(void* p) {
  std::free(p);
}
void* counting_realloc(void* p, std::size_t size) {
  ++wolfssl_allocations;
  return std::realloc(p, size);
}

// Once warm, a command's round trip (encrypt, read, in both directions) makes no allocation of
// uredis' own: the engine's buffers keep their size. What wolfSSL 5.5.4 (Debian's build, without
// LARGE_STATIC_BUFFERS) allocates per record is measured here, so a change shows.
TEST_F(Engine, a_warm_round_trip_allocates_only_inside_wolfssl) {
  ASSERT_EQ(wolfSSL_SetAllocators(&counting_malloc, &counting_free, &counting_realloc), 0);
  connect(trusting_ca(), "server");
  ASSERT_TRUE(client.handshake_done());
  const auto round_trip = [&] {
    ASSERT_FALSE(client.encrypt("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
    pump();
    ASSERT_FALSE(server.encrypt("$5\r\nvalue\r\n"));
    pump();
  };
  for (int i = 0; i < 10; ++i)
    round_trip();
  client_received.clear();
  server_received.clear();
  client_received.reserve(4096);
  server_received.reserve(4096);
  const std::uint64_t before = wolfssl_allocations;
  constexpr int rounds = 100;
  for (int i = 0; i < rounds; ++i)
    round_trip();
  const std::uint64_t per_round = (wolfssl_allocations - before) / rounds;
  RecordProperty("wolfssl_allocations_per_round_trip", static_cast<int>(per_round));
  std::printf("wolfSSL allocations per round trip (both sides): %llu\n",
              static_cast<unsigned long long>(per_round));
  EXPECT_EQ(client_received.size(), rounds * std::string_view("$5\r\nvalue\r\n").size());
  wolfSSL_SetAllocators(&std::malloc, &std::free, &std::realloc);
}

// The first-bytes check the transport runs before the engine (tls/record_header.hpp).
TEST(EngineRecordHeader, text_replies_cannot_start_a_record) {
  for (const char* reply : {"-ERR unknown command\r\n", "+OK\r\n", "$5\r\n", "*1\r\n", ":1\r\n",
                            "HTTP/1.1 400", "\r\n"})
    EXPECT_FALSE(could_start_record(reply)) << reply;
}

TEST(EngineRecordHeader, record_types_with_major_version_3_can) {
  for (const char type : {'\x14', '\x15', '\x16', '\x17', '\x18'}) {
    EXPECT_TRUE(could_start_record(std::string{type, '\x03', '\x03'})) << int(type);
    EXPECT_TRUE(could_start_record(std::string(1, type))) << "one byte: not enough to refuse";
    EXPECT_FALSE(could_start_record(std::string{type, '\x02'})) << int(type);
  }
  EXPECT_FALSE(could_start_record(std::string{'\x13', '\x03'}));
  EXPECT_FALSE(could_start_record(std::string{'\x19', '\x03'}));
  EXPECT_TRUE(could_start_record({})) << "nothing to judge yet";
}

}  // namespace
}  // namespace uredis::tls
