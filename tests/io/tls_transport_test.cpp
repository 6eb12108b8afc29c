// tls_transport: TLS over a tcp_transport against a real redis-server listening for TLS, with
// no connection shell on top: connected only after the handshake, a send reported once its
// ciphertext is out, a send larger than many records, a reply of many records closed from
// inside its first report, options that do not load refused by open(), and a reopen after a
// close (a new session on the same context).

#include "io/tls_transport.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/error.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::io {
namespace {

using namespace std::chrono_literals;
using test::make_reactor;

// Registers with the reactor, forwards completions to the transport, records its reports.
class harness final : reactor::io_target, transport_events {
 public:
  harness(reactor::reactor& r, const tls::options& o)
      : transport(r.ring(), r.receive_buffers(), *this, {}, o, "127.0.0.1"),
        r_(r),
        slot_(r.attach(*this)) {}
  ~harness() { r_.detach(slot_); }

  std::error_code open(const test::redis_server& s) {
    return transport.open(*resolve(s.host(), s.port()), slot_);
  }
  // As the connection shell does: the old socket's late completions carry the old slot id,
  // which no longer names anyone, so they cannot be taken for the new socket's.
  void close_and_retire() {
    transport.close();
    r_.detach(slot_);
    slot_ = r_.attach(*this);
  }

  tls_transport transport;
  bool connected = false;
  bool sent = false;
  std::string received;
  int data_reports = 0;
  std::optional<std::error_code> failed;
  bool close_on_data = false;

 private:
  void on_completion(op o, const io_uring_cqe& cqe) override { transport.on_completion(o, cqe); }
  void on_transport_connected() override { connected = true; }
  void on_transport_data(std::string_view bytes) override {
    ++data_reports;
    received.append(bytes);
    if (close_on_data) transport.close();
  }
  void on_transport_sent() override { sent = true; }
  void on_transport_failed(std::error_code ec) override { failed = ec; }

  reactor::reactor& r_;
  std::uint64_t slot_;
};

class TlsTransport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs = new test::test_certificates();
    test::redis_server_options o;
    o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca")};
    server = new test::redis_server(o);
  }
  static void TearDownTestSuite() {
    delete server;
    delete certs;
  }

  static tls::options trusting_ca() {
    tls::options o;
    o.ca_file = certs->cert("ca");
    return o;
  }

  static test::test_certificates* certs;
  static test::redis_server* server;
};

test::test_certificates* TlsTransport::certs = nullptr;
test::redis_server* TlsTransport::server = nullptr;

TEST_F(TlsTransport, ConnectedAfterTheHandshakeThenSendsAndReceives) {
  auto r = make_reactor();
  const tls::options o = trusting_ca();
  harness h(*r, o);
  ASSERT_FALSE(h.open(*server));
  EXPECT_FALSE(h.connected);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.connected || h.failed; }, 5s));
  ASSERT_TRUE(h.connected) << h.failed->message();
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
  EXPECT_TRUE(h.transport.sending());
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.received.size() >= 7 || h.failed; }, 5s));
  EXPECT_TRUE(h.sent);
  EXPECT_FALSE(h.transport.sending());
  EXPECT_EQ(h.received, "+PONG\r\n");
}

TEST_F(TlsTransport, ASendOfManyRecordsGoesOutWhole) {
  auto r = make_reactor();
  const tls::options o = trusting_ca();
  harness h(*r, o);
  ASSERT_FALSE(h.open(*server));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.connected || h.failed; }, 5s));
  const std::string value(4 * 1024 * 1024, 'v');
  const std::string set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) +
                          "\r\n" + value + "\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n";
  ASSERT_FALSE(h.transport.send(set));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.received.size() >= 15 || h.failed; }, 10s));
  EXPECT_TRUE(h.sent);
  EXPECT_EQ(h.received, "+OK\r\n:4194304\r\n");
}

TEST_F(TlsTransport, ClosedFromItsOwnDataReportStopsAtOnce) {
  auto r = make_reactor();
  const tls::options o = trusting_ca();
  harness h(*r, o);
  ASSERT_FALSE(h.open(*server));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.connected || h.failed; }, 5s));
  const std::string value(256 * 1024, 'v');
  ASSERT_FALSE(h.transport.send("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + std::to_string(value.size()) +
                                "\r\n" + value + "\r\n"));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.received == "+OK\r\n" || h.failed; }, 5s));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.sent; }, 5s));
  // A reply of many records, several of them decrypted from one read: the first report closes.
  h.close_on_data = true;
  const int reports = h.data_reports;
  ASSERT_FALSE(h.transport.send("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return h.data_reports > reports; }, 5s));
  test::run_for(*r, 50ms);
  EXPECT_EQ(h.data_reports, reports + 1) << "nothing after the close";
  EXPECT_FALSE(h.transport.is_open());
  EXPECT_FALSE(h.failed.has_value()) << "a closed transport reports nothing more";
}

TEST_F(TlsTransport, ReopensWithANewSession) {
  auto r = make_reactor();
  const tls::options o = trusting_ca();
  harness h(*r, o);
  for (int i = 0; i < 2; ++i) {
    h.connected = false;
    h.received.clear();
    ASSERT_FALSE(h.open(*server));
    ASSERT_TRUE(test::run_until(
        *r, [&] { return h.connected || h.failed; }, 5s));
    ASSERT_TRUE(h.connected);
    ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
    ASSERT_TRUE(test::run_until(
        *r, [&] { return h.received.size() >= 7 || h.failed; }, 5s));
    EXPECT_EQ(h.received, "+PONG\r\n");
    h.close_and_retire();
  }
}

TEST_F(TlsTransport, OptionsThatDoNotLoadAreRefusedByOpen) {
  auto r = make_reactor();
  tls::options o;
  o.ca_file = certs->dir() + "/missing.pem";
  harness h(*r, o);
  EXPECT_EQ(h.open(*server), make_error_code(errc::tls_config_invalid));
  EXPECT_FALSE(h.transport.is_open());
}

}  // namespace
}  // namespace uredis::io
