#include "redis_cluster.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace uredis::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The primaries' ports as CLUSTER SLOTS names them, in reply order: enough to tell whether two
// nodes agree (every node sends the same ranges in the same order once the cluster settled).
std::string primaries_seen_by(const redis_server& n) {
  const std::string reply = n.command({"CLUSTER", "SLOTS"});
  // Each range's first node is its primary: "*N\r\n:first\r\n:last\r\n*M\r\n$L\r\nhost\r\n:port".
  std::string ports;
  std::size_t at = 0;
  while ((at = reply.find("\r\n:", at)) != std::string::npos) {
    const std::size_t end = reply.find("\r\n", at + 3);
    ports += reply.substr(at + 3, end - at - 3) + ",";
    at = end;
  }
  return ports;
}

// How many nodes a CLUSTER SLOTS reply names (every node here is on 127.0.0.1): distinct
// ports, as a node serving several ranges (after a reshard) is listed once per range.
std::size_t nodes_listed_by(const redis_server& n) {
  const std::string reply = n.command({"CLUSTER", "SLOTS"});
  const std::string_view host = "$9\r\n127.0.0.1\r\n:";
  std::set<std::string> ports;
  for (std::size_t at = reply.find(host); at != std::string::npos; at = reply.find(host, at + 1)) {
    const std::size_t start = at + host.size();
    ports.insert(reply.substr(start, reply.find("\r\n", start) - start));
  }
  return ports.size();
}

}  // namespace

redis_cluster::redis_cluster(redis_cluster_options options) : options_(std::move(options)) {
  const std::size_t count = options_.primaries * (1 + options_.replicas_each);
  std::string create = "redis-cli --cluster create";
  for (std::size_t i = 0; i < count; ++i) {
    redis_server_options o;
    // The bus port is chosen apart: the default, port + 10000, may be taken or out of range.
    o.args = {"--cluster-enabled",      "yes",
              "--cluster-config-file",  "nodes.conf",
              "--cluster-port",         std::to_string(free_loopback_port()),
              "--cluster-node-timeout", std::to_string(options_.node_timeout.count())};
    o.args.insert(o.args.end(), options_.args.begin(), options_.args.end());
    nodes_.push_back(std::make_unique<redis_server>(std::move(o)));
    create += " 127.0.0.1:" + std::to_string(nodes_.back()->port());
  }
  const std::string log = nodes_[0]->dir() + "/cluster-create.log";
  create += " --cluster-replicas " + std::to_string(options_.replicas_each) + " --cluster-yes > " +
            log + " 2>&1";
  const int status = std::system(create.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("redis-cli --cluster create failed:\n" + read_file(log));
  }
  wait_stable();
}

redis_server* redis_cluster::node_on_port(std::uint16_t port) {
  for (auto& n : nodes_) {
    if (n->port() == port) return n.get();
  }
  return nullptr;
}

std::string redis_cluster::seed() const {
  return "127.0.0.1:" + std::to_string(nodes_[0]->port());
}

void redis_cluster::wait_stable(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    bool ok = true;
    std::string agreed;
    std::size_t running = 0;
    for (auto& n : nodes_)
      running += n->running();
    for (auto& n : nodes_) {
      if (!n->running()) continue;
      last = n->command({"CLUSTER", "INFO"});
      if (last.find("cluster_state:ok") == std::string::npos) {
        ok = false;
        break;
      }
      const std::string seen = primaries_seen_by(*n);
      if (agreed.empty()) agreed = seen;
      // Every running node listed (replicas join a little after their primaries), and all
      // nodes answering the same.
      if (seen != agreed || seen.empty() || nodes_listed_by(*n) != running) {
        ok = false;
        break;
      }
    }
    if (ok) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the cluster did not settle in time; last CLUSTER INFO:\n" + last);
}

}  // namespace uredis::test
