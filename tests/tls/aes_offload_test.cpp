// tls::aes_gcm_offload: records' AES-GCM done by libcrypto through wolfSSL's crypto-callback
// device. An offloaded engine talks to a software one (either side, TLS 1.3 and 1.2) over
// memory, so every record is sealed by one implementation and opened by the other: any
// difference in key, nonce, AAD or tag handling fails the exchange.

#include "tls/aes_gcm_offload.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>

#include "../support/engine_pair.hpp"
#include "../support/test_certificates.hpp"
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "uredis/error.hpp"

#include <wolfssl/wolfcrypt/aes.h>

namespace uredis::tls {
namespace {

TEST(AesOffloadDevice, registers_and_agrees_with_software_on_the_self_test) {
  ASSERT_TRUE(initialize_library());
  const int id = aes_gcm_offload::device_id();
  EXPECT_NE(id, aes_gcm_offload::no_device);
  EXPECT_EQ(aes_gcm_offload::device_id(), id);  // registered once
  EXPECT_TRUE(aes_gcm_offload::self_test());
}

// wolfCrypt's one-shot API reaches the device too: outside an engine's scope it is declined
// (software answers), inside one the installed contexts do the work; both give the same bytes.
TEST(AesOffloadDevice, only_an_installed_scope_takes_the_work_and_both_agree) {
  ASSERT_TRUE(initialize_library());
  const int id = aes_gcm_offload::device_id();
  ASSERT_NE(id, aes_gcm_offload::no_device);
  const unsigned char key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const unsigned char nonce[12] = {9, 8, 7};
  const unsigned char aad[5] = {23, 3, 3, 0, 40};
  const std::string plaintext = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  const auto seal = [&](std::string& out, unsigned char(&tag)[16]) {
    Aes aes;
    ASSERT_EQ(wc_AesInit(&aes, nullptr, id), 0);
    ASSERT_EQ(wc_AesGcmSetKey(&aes, key, sizeof key), 0);
    out.assign(plaintext.size(), '\0');
    ASSERT_EQ(wc_AesGcmEncrypt(&aes, reinterpret_cast<byte*>(out.data()),
                               reinterpret_cast<const byte*>(plaintext.data()),
                               static_cast<word32>(plaintext.size()), nonce, sizeof nonce, tag,
                               sizeof tag, aad, sizeof aad),
              0);
    wc_AesFree(&aes);
  };
  aes_gcm_offload::cipher_contexts contexts;
  std::string declined;
  unsigned char declined_tag[16];
  seal(declined, declined_tag);
  EXPECT_EQ(contexts.operations(), 0u);
  std::string offloaded;
  unsigned char offloaded_tag[16];
  {
    const aes_gcm_offload::scope installed(contexts);
    seal(offloaded, offloaded_tag);
  }
  EXPECT_EQ(contexts.operations(), 1u);
  EXPECT_EQ(offloaded, declined);
  EXPECT_EQ(std::string(offloaded_tag, offloaded_tag + 16),
            std::string(declined_tag, declined_tag + 16));
  EXPECT_NE(offloaded, plaintext);
}

enum class offloaded_side { client, server };

class AesOffload : public ::testing::TestWithParam<std::tuple<protocol_version, offloaded_side>>,
                   protected test::engine_pair {
 protected:
  static void SetUpTestSuite() { certs = new test::test_certificates(); }
  static void TearDownTestSuite() {
    delete certs;
    certs = nullptr;
  }

  protocol_version version() const { return std::get<0>(GetParam()); }
  offloaded_side side() const { return std::get<1>(GetParam()); }
  engine& offloaded() { return side() == offloaded_side::client ? client : server; }
  engine& software() { return side() == offloaded_side::client ? server : client; }

  // A server context for the case's version, with the device when the server offloads.
  context server_context(bool offload) {
    EXPECT_TRUE(initialize_library());
    context c(wolfSSL_CTX_new(version() == protocol_version::tls1_3 ? wolfTLSv1_3_server_method()
                                                                    : wolfTLSv1_2_server_method()));
    EXPECT_EQ(wolfSSL_CTX_use_certificate_file(c.native(), certs->cert("server").c_str(),
                                               WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    EXPECT_EQ(wolfSSL_CTX_use_PrivateKey_file(c.native(), certs->key("server").c_str(),
                                              WOLFSSL_FILETYPE_PEM),
              WOLFSSL_SUCCESS);
    wolfSSL_CTX_set_verify(c.native(), WOLFSSL_VERIFY_NONE, nullptr);
    if (offload) {
      const int id = aes_gcm_offload::device_id();
      EXPECT_NE(id, aes_gcm_offload::no_device);
      EXPECT_EQ(wolfSSL_CTX_SetDevId(c.native(), id), WOLFSSL_SUCCESS);
    }
    return c;
  }

  void connect(const std::string& suites = {}) {
    server_ctx.emplace(server_context(side() == offloaded_side::server));
    options o;
    o.ca_file = certs->cert("ca");
    o.aes_offload = side() == offloaded_side::client;
    if (version() == protocol_version::tls1_3) o.ciphersuites = suites;
    if (version() == protocol_version::tls1_2) o.ciphers = suites;
    result<context> c = context::client(o);
    ASSERT_TRUE(c) << c.error().message();
    client_ctx.emplace(std::move(*c));
    ASSERT_FALSE(server.start(server_ctx->native(), role::server));
    ASSERT_FALSE(client.start(client_ctx->native(), role::client, {"localhost", true}));
    step(client, client_error);
    pump();
    ASSERT_FALSE(client_error) << client_error.message();
    ASSERT_FALSE(server_error) << server_error.message();
    ASSERT_TRUE(client.handshake_done());
    ASSERT_TRUE(server.handshake_done());
    const std::string cipher = wolfSSL_get_cipher_name(client.native());
    EXPECT_NE(cipher.find("GCM"), std::string::npos) << cipher;
    EXPECT_EQ(wolfSSL_version(client.native()),
              version() == protocol_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  }

  static std::string pattern(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
      s[i] = static_cast<char>((i * 7 + static_cast<std::size_t>(seed)) & 0xff);
    return s;
  }

  // Records of 1, 50 and 16384 bytes (the largest plaintext a record carries), each way.
  void exchange_records(int seed) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{50}, engine::max_record_plaintext}) {
      client_received.clear();
      server_received.clear();
      const std::string up = pattern(n, seed);
      const std::string down = pattern(n, seed + 1);
      ASSERT_FALSE(client.encrypt(up));
      pump();
      ASSERT_EQ(server_received, up) << n << " bytes up";
      ASSERT_FALSE(server.encrypt(down));
      pump();
      ASSERT_EQ(client_received, down) << n << " bytes down";
    }
    ASSERT_FALSE(client_error) << client_error.message();
    ASSERT_FALSE(server_error) << server_error.message();
  }

  // Sends one record from `from` with a byte of its ciphertext flipped; returns the receiver's
  // error and wolfSSL's own code for it.
  std::pair<std::error_code, int> tampered_record(engine& from, engine& to) {
    util::byte_buffer wire;
    EXPECT_FALSE(from.encrypt(pattern(50, 3)));
    from.take_output(wire);
    std::string bytes(wire.data());
    EXPECT_GT(bytes.size(), 50u);
    bytes[bytes.size() - 20] = static_cast<char>(bytes[bytes.size() - 20] ^ 0x01);
    to.on_ciphertext(bytes);
    const result<std::string_view> p = to.read();
    if (p) return {std::error_code{}, 0};
    return {p.error(), wolfSSL_get_error(to.native(), -1)};
  }

  static test::test_certificates* certs;
  std::optional<context> server_ctx;
  std::optional<context> client_ctx;
};

test::test_certificates* AesOffload::certs = nullptr;

TEST_P(AesOffload, records_of_every_size_cross_between_device_and_software) {
  ASSERT_NO_FATAL_FAILURE(connect());
  const std::uint64_t after_handshake = offloaded().offloaded_records();
  ASSERT_NO_FATAL_FAILURE(exchange_records(11));
  // Three records each way went through the device, and none through the software side's.
  EXPECT_GE(offloaded().offloaded_records(), after_handshake + 6);
  EXPECT_EQ(software().offloaded_records(), 0u);
}

TEST_P(AesOffload, an_aes_256_suite_crosses_too) {
  ASSERT_NO_FATAL_FAILURE(connect(version() == protocol_version::tls1_3
                                      ? "TLS13-AES256-GCM-SHA384"
                                      : "ECDHE-ECDSA-AES256-GCM-SHA384"));
  const std::string cipher = wolfSSL_get_cipher_name(client.native());
  EXPECT_NE(cipher.find("256"), std::string::npos) << cipher;
  ASSERT_NO_FATAL_FAILURE(exchange_records(23));
  EXPECT_GE(offloaded().offloaded_records(), 6u);
}

// KeyUpdate is TLS 1.3's: its own suite, instantiated for 1.3 only.
class AesOffloadKeyUpdate : public AesOffload {};

TEST_P(AesOffloadKeyUpdate, a_key_update_from_either_side_rekeys_the_device) {
  ASSERT_NO_FATAL_FAILURE(connect());
  ASSERT_NO_FATAL_FAILURE(exchange_records(5));
  for (engine* updating : {&offloaded(), &software()}) {
    // Sent outside the engine (software, by the scope rule); the next records use new keys.
    ASSERT_EQ(wolfSSL_update_keys(updating->native()), WOLFSSL_SUCCESS);
    pump();
    const std::uint64_t before = offloaded().offloaded_records();
    ASSERT_NO_FATAL_FAILURE(exchange_records(7));
    EXPECT_GE(offloaded().offloaded_records(), before + 6);
  }
}

TEST_P(AesOffload, a_tampered_record_is_refused_as_software_refuses_it) {
  ASSERT_NO_FATAL_FAILURE(connect());
  ASSERT_NO_FATAL_FAILURE(exchange_records(1));
  // The offloaded side receives a tampered record...
  const auto [device_error, device_code] = tampered_record(software(), offloaded());
  // ...and, on a second pair, the software side does.
  client.reset();
  server.reset();
  client_error.clear();
  server_error.clear();
  ASSERT_NO_FATAL_FAILURE(connect());
  const auto [software_error, software_code] = tampered_record(offloaded(), software());
  EXPECT_EQ(device_error, make_error_code(errc::tls_record_invalid)) << device_error.message();
  EXPECT_EQ(device_error, software_error);
  EXPECT_EQ(device_code, software_code);
  EXPECT_NE(device_code, 0);
}

INSTANTIATE_TEST_SUITE_P(
    VersionsAndSides, AesOffload,
    ::testing::Combine(::testing::Values(protocol_version::tls1_3, protocol_version::tls1_2),
                       ::testing::Values(offloaded_side::client, offloaded_side::server)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == protocol_version::tls1_3 ? "tls13" : "tls12") +
             (std::get<1>(info.param) == offloaded_side::client ? "_client_offloads"
                                                                : "_server_offloads");
    });

INSTANTIATE_TEST_SUITE_P(Sides, AesOffloadKeyUpdate,
                         ::testing::Combine(::testing::Values(protocol_version::tls1_3),
                                            ::testing::Values(offloaded_side::client,
                                                              offloaded_side::server)),
                         [](const auto& info) {
                           return std::string(std::get<1>(info.param) == offloaded_side::client
                                                  ? "client_offloads"
                                                  : "server_offloads");
                         });

TEST(AesOffloadOption, off_leaves_the_records_to_wolfssl) {
  test::test_certificates certs;
  ASSERT_TRUE(initialize_library());
  options o;
  o.ca_file = certs.cert("ca");
  o.aes_offload = false;
  result<context> off = context::client(o);
  ASSERT_TRUE(off);
  o.aes_offload = true;
  result<context> on = context::client(o);
  ASSERT_TRUE(on);
  // The device id travels to each session; wolfSSL has no getter for a context's, so start a
  // session on each and count what goes through the device in a handshake with a server.
  context server(wolfSSL_CTX_new(wolfTLSv1_3_server_method()));
  ASSERT_EQ(wolfSSL_CTX_use_certificate_file(server.native(), certs.cert("server").c_str(),
                                             WOLFSSL_FILETYPE_PEM),
            WOLFSSL_SUCCESS);
  ASSERT_EQ(wolfSSL_CTX_use_PrivateKey_file(server.native(), certs.key("server").c_str(),
                                            WOLFSSL_FILETYPE_PEM),
            WOLFSSL_SUCCESS);
  for (const bool offload : {false, true}) {
    engine c;
    engine s;
    ASSERT_FALSE(s.start(server.native(), role::server));
    ASSERT_FALSE(c.start((offload ? on : off)->native(), role::client, {"localhost", true}));
    util::byte_buffer wire;
    for (int round = 0; round < 10 && !(c.handshake_done() && s.handshake_done()); ++round) {
      ASSERT_TRUE(c.handshake());
      c.take_output(wire);
      s.on_ciphertext(wire.data());
      ASSERT_TRUE(s.handshake());
      s.take_output(wire);
      c.on_ciphertext(wire.data());
    }
    ASSERT_TRUE(c.handshake_done());
    ASSERT_FALSE(c.encrypt("PING"));
    if (offload)
      EXPECT_GT(c.offloaded_records(), 0u);
    else
      EXPECT_EQ(c.offloaded_records(), 0u);
  }
}

}  // namespace
}  // namespace uredis::tls
