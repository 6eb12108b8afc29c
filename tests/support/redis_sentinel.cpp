#include "redis_sentinel.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace uredis::test {
namespace {

// The raw RESP2 reply of SENTINEL MASTER is a flat array of field names and values; this
// finds one field's value, as text.
std::string field(const std::string& reply, const std::string& name) {
  const std::string key = "$" + std::to_string(name.size()) + "\r\n" + name + "\r\n$";
  const std::size_t at = reply.find(key);
  if (at == std::string::npos) return {};
  const std::size_t length_end = reply.find("\r\n", at + key.size());
  if (length_end == std::string::npos) return {};
  const std::size_t begin = length_end + 2;
  const std::size_t end = reply.find("\r\n", begin);
  return end == std::string::npos ? std::string{} : reply.substr(begin, end - begin);
}

}  // namespace

redis_sentinel::redis_sentinel(redis_sentinel_options options) : options_(std::move(options)) {
  char dir_template[] = "/tmp/uredis-sentinel-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;

  // No delay before a full sync (Redis 7 waits 5 s for more replicas by default): the replica
  // must be in sync before the Sentinels and the tests count on it.
  std::vector<std::string> common = {"--repl-diskless-sync-delay", "0"};
  // Replicas then sync over TLS and announce their TLS port; the Sentinels talk TLS.
  if (options_.tls) common.insert(common.end(), {"--tls-replication", "yes"});
  std::vector<std::string> primary_args = common;
  primary_args.insert(primary_args.end(), options_.primary_args.begin(),
                      options_.primary_args.end());
  data_.push_back(std::make_unique<redis_server>(
      redis_server_options{.args = primary_args, .tls = options_.tls}));
  const std::string primary_port = std::to_string(data_[0]->port());
  std::vector<std::string> replica_args = {"--replicaof", "127.0.0.1", primary_port};
  replica_args.insert(replica_args.end(), common.begin(), common.end());
  for (std::size_t i = 0; i < options_.replicas; ++i)
    data_.push_back(std::make_unique<redis_server>(
        redis_server_options{.args = replica_args, .tls = options_.tls}));

  const std::size_t quorum = options_.sentinels / 2 + 1;
  for (std::size_t i = 0; i < options_.sentinels; ++i) {
    const std::string conf = dir_ + "/sentinel-" + std::to_string(i) + ".conf";
    {
      std::ofstream out(conf);
      out << "sentinel monitor " << options_.service << " 127.0.0.1 " << primary_port << ' '
          << quorum << '\n'
          << "sentinel down-after-milliseconds " << options_.service << ' '
          << options_.down_after.count() << '\n'
          << "sentinel failover-timeout " << options_.service << ' '
          << options_.failover_timeout.count() << '\n'
          << "sentinel parallel-syncs " << options_.service << " 1\n";
    }
    std::vector<std::string> args = {"--sentinel"};
    if (options_.tls) args.insert(args.end(), {"--tls-replication", "yes"});
    sentinels_.push_back(std::make_unique<redis_server>(
        redis_server_options{.args = args, .config_file = conf, .tls = options_.tls}));
  }

  // Ready when each Sentinel has seen the replicas (from the primary's INFO) and the others
  // (from their hello messages, every 2 s).
  const std::string others = std::to_string(options_.sentinels - 1);
  const std::string replicas = std::to_string(options_.replicas);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    bool ready = true;
    for (std::size_t i = 1; i < data_.size(); ++i)
      ready = ready && data_[i]->command({"INFO", "replication"}).find("master_link_status:up") !=
                           std::string::npos;
    for (const auto& s : sentinels_) {
      const std::string reply = s->command({"SENTINEL", "MASTER", options_.service});
      ready = ready && field(reply, "num-slaves") == replicas &&
              field(reply, "num-other-sentinels") == others;
    }
    if (ready) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("the Sentinels did not discover each other and the replicas");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

redis_sentinel::~redis_sentinel() {
  sentinels_.clear();
  data_.clear();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_sentinel::url() const {
  std::string out = options_.tls ? "rediss+sentinel://" : "redis+sentinel://";
  for (std::size_t i = 0; i < sentinels_.size(); ++i) {
    if (i > 0) out += ',';
    out += "127.0.0.1:" + std::to_string(sentinels_[i]->port());
  }
  return out + "/" + options_.service;
}

redis_server* redis_sentinel::primary() {
  // The Sentinels' word, not ROLE: after a failover the old primary still says "master" until
  // a Sentinel reconfigures it, seconds later.
  for (const auto& s : sentinels_) {
    if (!s->running()) continue;
    const std::string reply = s->command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.service});
    for (const auto& d : data_)
      if (reply.find("\r\n" + std::to_string(d->port()) + "\r\n") != std::string::npos)
        return d.get();
  }
  return nullptr;
}

std::string redis_sentinel::failover(std::size_t i) {
  return sentinels_[i]->command({"SENTINEL", "FAILOVER", options_.service});
}

bool redis_sentinel::wait_primary(const redis_server& expected, std::chrono::milliseconds limit) {
  const std::string port = std::to_string(expected.port());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (const auto& s : sentinels_) {
      if (!s->running()) continue;
      const std::string reply =
          s->command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.service});
      all = all && reply.find("\r\n" + port + "\r\n") != std::string::npos;
    }
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace uredis::test
