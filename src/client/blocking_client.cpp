#include "uredis/client/blocking_client.hpp"

#include <cstdint>
#include <string>

#include "blocking_support.hpp"
#include "uredis/exceptions.hpp"

namespace uredis {
namespace {

using detail::config_from_url;
using detail::make_blocking_reactor;

// "127.0.0.1:6379", "[::1]:6379".
std::string address_of(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// What a connect failed to reach, for messages: the host and port or the socket path; the
// server an address provider (Sentinel) named, when it named one; or the Sentinels asked.
// config.host is never the answer when a provider chooses.
std::string target_of(const uredis::connection& conn) {
  const connection_config& c = conn.config();
  if (c.address == nullptr && !c.sentinel.enabled())
    return c.unix_socket.empty() ? address_of(c.host, c.port) : c.unix_socket;
  if (const endpoint* named = conn.provided_endpoint()) return address_of(named->host, named->port);
  if (!c.sentinel.enabled()) return "the server its address provider names";
  std::string asked;
  for (const endpoint& e : c.sentinel.sentinels)
    asked += (asked.empty() ? "" : ", ") + address_of(e.host, e.port);
  return std::string(c.sentinel.role == sentinel::role::replica ? "a replica" : "the primary") +
         " of Sentinel service " + c.sentinel.service + " (asked " + asked + ")";
}

}  // namespace

reactor::reactor_options blocking_client::default_reactor_options() noexcept {
  reactor::reactor_options o;
  o.ring_entries = 64;
  o.receive_buffers.count = 32;
  o.receive_buffers.size = 16 * 1024;
  return o;
}

blocking_client::blocking_client(std::string_view url, const reactor::reactor_options& options)
    : blocking_client(config_from_url(url), options) {}

namespace {
// A blocking call has a caller waiting on it: a server that is not there is reported at once,
// as redis-cli and redis-plus-plus do, not after the policy's ~4 s of retries. Only the
// default: a config that says retry_first_connect = true gets its retries.
connection_config fail_fast_by_default(connection_config config) {
  if (!config.retry_first_connect) config.retry_first_connect = false;
  return config;
}
}  // namespace

blocking_client::blocking_client(connection_config config, const reactor::reactor_options& options)
    : reactor_(make_blocking_reactor(options)),
      conn_(std::make_unique<uredis::connection>(*reactor_,
                                                 fail_fast_by_default(std::move(config)))) {
  connect();
}

blocking_client::blocking_client(blocking_client&&) noexcept = default;
blocking_client& blocking_client::operator=(blocking_client&& other) noexcept {
  if (this != &other) {
    conn_.reset();  // the connection goes before the reactor it is attached to
    reactor_ = std::move(other.reactor_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}
blocking_client::~blocking_client() = default;

void blocking_client::connect() {
  const connection_state s = conn_->state();
  if (s == connection_state::ready) return;
  if (s != connection_state::idle && s != connection_state::closed) {
    // Reconnecting already: wait for it to end, one way or the other.
    wait_for([this] {
      const connection_state now = conn_->state();
      return now == connection_state::ready || now == connection_state::closed;
    });
    if (conn_->ready()) return;
  }
  std::optional<result<void>> outcome;
  conn_->connect([&outcome](const result<void>& o) { outcome = o; });
  wait_for([&outcome] { return outcome.has_value(); });
  if (!outcome->has_value())
    detail::throw_connect_failure(*outcome, "cannot connect to " + target_of(*conn_));
}

void blocking_client::close() {
  conn_->close();
}

void blocking_client::fail_on_ring_error() {
  const std::error_code ec = reactor_->error();
  conn_->close();
  throw error(ec, "the io_uring of this blocking_client failed: " + ec.message());
}

}  // namespace uredis
