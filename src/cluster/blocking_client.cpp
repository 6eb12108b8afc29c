#include "uredis/cluster/blocking_client.hpp"

#include <string>

#include "../client/blocking_support.hpp"
#include "uredis/client/config.hpp"
#include "uredis/exceptions.hpp"

namespace uredis::cluster {
namespace {

// "127.0.0.1:7000, 127.0.0.1:7001", for messages.
std::string seeds_of(const cluster_config& c) {
  std::string out;
  for (const node_address& seed : c.seeds) {
    if (!out.empty()) out += ", ";
    out += seed.host.find(':') != std::string::npos ? "[" + seed.host + "]" : seed.host;
    out += ":" + std::to_string(seed.port);
  }
  return out;
}

cluster_config config_from_url(std::string_view url) {
  connection_config parsed = uredis::detail::config_from_url(url);
  cluster_config config;
  config.seeds.push_back({parsed.host, parsed.port});
  config.node = std::move(parsed);
  return config;
}

// A caller is waiting: a seed that is not there is reported at once (as
// uredis::blocking_client does), unless the config asks for the retry policy.
cluster_config fail_fast_by_default(cluster_config config) {
  if (!config.node.retry_first_connect) config.node.retry_first_connect = false;
  return config;
}

}  // namespace

reactor::reactor_options blocking_client::default_reactor_options() noexcept {
  // A handful of nodes (three primaries, a seed, a moved slot's new owner) rather than one.
  reactor::reactor_options o;
  o.ring_entries = 256;
  o.receive_buffers.count = 64;
  o.receive_buffers.size = 16 * 1024;
  return o;
}

blocking_client::blocking_client(std::string_view seed_url, const reactor::reactor_options& options)
    : blocking_client(config_from_url(seed_url), options) {}

blocking_client::blocking_client(cluster_config config, const reactor::reactor_options& options)
    : reactor_(uredis::detail::make_blocking_reactor(options)) {
  const std::string seeds = seeds_of(config);
  client_ = std::make_unique<cluster_client>(*reactor_, fail_fast_by_default(std::move(config)));
  std::optional<result<void>> outcome;
  client_->connect([&outcome](const result<void>& o) { outcome = o; });
  wait_for([&outcome] { return outcome.has_value(); });
  if (!outcome->has_value())
    uredis::detail::throw_connect_failure(*outcome,
                                          "cannot read the cluster's topology from " + seeds);
}

blocking_client::blocking_client(blocking_client&&) noexcept = default;
blocking_client& blocking_client::operator=(blocking_client&& other) noexcept {
  if (this != &other) {
    client_.reset();  // the cluster_client goes before the reactor it is attached to
    reactor_ = std::move(other.reactor_);
    client_ = std::move(other.client_);
  }
  return *this;
}
blocking_client::~blocking_client() = default;

cluster_client& blocking_client::usable() {
  if (!client_) {
    throw connection_error(make_error_code(errc::not_connected),
                           "this cluster blocking_client was closed when its io_uring failed");
  }
  // What already reached the sockets is taken in first (no syscall when nothing waits), as
  // uredis::blocking_client does: a node's end of stream that came while the client sat idle
  // sends the command to a new socket rather than failing it, as written, on the dead one.
  reactor_->poll();
  return *client_;
}

void blocking_client::fail_on_ring_error() {
  const std::error_code ec = reactor_->error();
  client_.reset();  // completes every waiting command while what it writes to still exists
  throw error(ec, "the io_uring of this cluster blocking_client failed: " + ec.message());
}

}  // namespace uredis::cluster
