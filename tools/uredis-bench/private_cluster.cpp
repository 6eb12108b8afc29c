#include "private_cluster.hpp"

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace uredis::bench {
namespace {

// What `redis-cli -p PORT CLUSTER INFO` prints, or "" when it cannot run.
std::string cluster_info(std::uint16_t port) {
  const std::string command =
      "redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " CLUSTER INFO 2>/dev/null";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) return {};
  std::string text;
  char buffer[512];
  while (const std::size_t n = std::fread(buffer, 1, sizeof(buffer), out))
    text.append(buffer, n);
  ::pclose(out);
  return text;
}

}  // namespace

bool private_cluster::start(std::string& error) {
  std::vector<std::uint16_t> taken;
  for (private_server& node : nodes_) {
    // The bus port is named, not port + 10000: a free port above 55535 has no such neighbour.
    std::uint16_t bus = 0;
    for (int attempt = 0; attempt < 10 && bus == 0; ++attempt) {
      bus = free_loopback_port();
      for (const std::uint16_t t : taken)
        if (t == bus) bus = 0;
    }
    if (bus == 0) {
      error = "no free loopback port for a cluster bus";
      return false;
    }
    if (!node.start(error, false,
                    {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-port", std::to_string(bus)}))
      return false;
    taken.push_back(bus);
    taken.push_back(node.port());
  }
  std::vector<std::string> create{"redis-cli", "--cluster", "create"};
  for (const private_server& node : nodes_)
    create.push_back("127.0.0.1:" + std::to_string(node.port()));
  create.emplace_back("--cluster-yes");
  if (!run_quietly(create)) {
    error = "`redis-cli --cluster create` failed (is redis-cli on PATH?)";
    return false;
  }
  // Every node must see every slot served before the topology is read.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    bool ok = true;
    for (const private_server& node : nodes_)
      ok = ok && cluster_info(node.port()).find("cluster_state:ok") != std::string::npos;
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "the private cluster did not reach cluster_state:ok within 20 s";
  return false;
}

}  // namespace uredis::bench
