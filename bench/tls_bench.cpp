// What TLS session resumption saves on a reconnect: the time from connect() to ready (TCP
// connect, TLS handshake, HELLO) against a private TLS redis-server on loopback, with the
// session resumed and with a full handshake each time, beside the same reconnect in plaintext.
//
//   reconnect/plaintext        TCP connect + HELLO
//   reconnect/tls_full         + a full TLS 1.3 handshake (certificate chain, signature, ECDHE)
//   reconnect/tls_resumed      + a resumed one (the last socket's ticket; ECDHE still runs:
//                              psk_dhe_ke, the mode OpenSSL servers pick)
//
// Each iteration is one close() and one connect(), timed by hand (only the connect), then one
// PING off the clock (it reads the TLS 1.3 tickets the server sends after the handshake). Every
// row reports median_us and p90_us over its reconnects, and `resumed`, the share of connects
// that did resume (1 and 0 for the TLS rows, or the row is not measuring what it says).
//
// The server and its certificates come from the test fixtures (tests/support): built only when
// the tests are.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../tests/support/redis_server.hpp"
#include "../tests/support/test_certificates.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/server.hpp"
#include "uredis/reactor/reactor.hpp"

namespace {

using steady = std::chrono::steady_clock;

enum class mode { plaintext, tls_full, tls_resumed };

struct fixture {
  uredis::test::test_certificates certs;
  uredis::test::redis_server server{options(certs)};

  static uredis::test::redis_server_options options(const uredis::test::test_certificates& c) {
    uredis::test::redis_server_options o;
    o.tls = uredis::test::redis_tls_options{c.cert("server"), c.key("server"), c.cert("ca"), false};
    return o;
  }
};

fixture& shared() {
  static fixture f;  // one server for every row
  return f;
}

bool connect(uredis::reactor::reactor& r, uredis::connection& c) {
  std::optional<uredis::result<void>> outcome;
  c.connect([&](const uredis::result<void>& o) { outcome = o; });
  r.run_until([&] { return outcome.has_value(); });
  return outcome->has_value();
}

bool ping(uredis::reactor::reactor& r, uredis::connection& c) {
  std::optional<uredis::result<std::string>> pong;
  c.exec(uredis::cmd::ping{}, [&](uredis::result<std::string> v) { pong.emplace(std::move(v)); });
  r.run_until([&] { return pong.has_value(); });
  return pong->has_value();
}

void reconnect(benchmark::State& state, mode m) {
  fixture& f = shared();
  auto made = uredis::reactor::reactor::create();
  if (!made) return state.SkipWithError("no reactor");
  uredis::reactor::reactor& r = **made;
  uredis::connection_config config;
  config.host = f.server.host();
  config.port = m == mode::plaintext ? f.server.plaintext_port() : f.server.port();
  config.tls = m != mode::plaintext;
  config.tls_options.ca_file = f.certs.cert("ca");
  config.tls_options.session_resumption = m == mode::tls_resumed;
  uredis::connection c{r, config};
  if (!connect(r, c) || !ping(r, c)) return state.SkipWithError("first connect failed");

  std::vector<double> samples;
  std::size_t resumed = 0;
  for (auto _ : state) {
    c.close();
    const steady::time_point start = steady::now();
    if (!connect(r, c)) return state.SkipWithError("reconnect failed");
    const std::chrono::duration<double> took = steady::now() - start;
    state.SetIterationTime(took.count());
    samples.push_back(took.count() * 1e6);
    resumed += c.tls_resumed() ? 1 : 0;
    if (!ping(r, c)) return state.SkipWithError("PING failed");
  }
  std::sort(samples.begin(), samples.end());
  state.counters["median_us"] = samples[samples.size() / 2];
  state.counters["p90_us"] = samples[samples.size() * 9 / 10];
  state.counters["resumed"] = static_cast<double>(resumed) / static_cast<double>(samples.size());
}

BENCHMARK_CAPTURE(reconnect, plaintext, mode::plaintext)->UseManualTime()->Iterations(500);
BENCHMARK_CAPTURE(reconnect, tls_full, mode::tls_full)->UseManualTime()->Iterations(500);
BENCHMARK_CAPTURE(reconnect, tls_resumed, mode::tls_resumed)->UseManualTime()->Iterations(500);

}  // namespace

BENCHMARK_MAIN();
