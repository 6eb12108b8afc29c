#pragma once
// A Sentinel set for integration tests: a primary, its replicas (one by default) and N
// Sentinels (three by default, quorum two) monitoring them as one service, every process a
// real redis-server on a free loopback port (the Sentinels started with --sentinel and a
// sentinel.conf generated in a temporary directory). Timings are short (down-after 1 s,
// failover-timeout 5 s) so a failover runs in seconds. Everything stops when the object dies.
//
// With `tls`, every server and Sentinel listens for TLS and talks TLS to the others
// (tls-replication yes): the addresses the Sentinels give out are TLS ports. Each keeps a
// plaintext port for the fixture's own commands (redis_server.hpp), which nothing announces.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "redis_server.hpp"

namespace uredis::test {

struct redis_sentinel_options {
  std::string service = "mymaster";
  std::size_t sentinels = 3;
  std::size_t replicas = 1;
  std::chrono::milliseconds down_after{1000};
  std::chrono::milliseconds failover_timeout{5000};
  /// Extra configuration for the first primary only (a replica promoted later has none).
  std::vector<std::string> primary_args = {};
  /// Set: TLS everywhere, with these certificates (see the header comment).
  std::optional<redis_tls_options> tls = std::nullopt;
};

class redis_sentinel {
 public:
  /// Starts everything and waits until every Sentinel knows the replica and the other
  /// Sentinels (a failover needs both); throws std::runtime_error if that takes over 20 s.
  explicit redis_sentinel(redis_sentinel_options options = {});
  ~redis_sentinel();
  redis_sentinel(const redis_sentinel&) = delete;
  redis_sentinel& operator=(const redis_sentinel&) = delete;

  const std::string& service() const noexcept { return options_.service; }
  /// The data servers: [0] started as the primary, [1] and on as its replicas.
  redis_server& data(std::size_t i) { return *data_[i]; }
  std::size_t data_count() const noexcept { return data_.size(); }
  redis_server& sentinel(std::size_t i) { return *sentinels_[i]; }
  std::size_t sentinel_count() const noexcept { return sentinels_.size(); }
  /// "redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,.../service" (rediss+sentinel:// with TLS)
  std::string url() const;

  /// The data server the first running Sentinel names as the primary; null if none does.
  redis_server* primary();
  /// Sends SENTINEL FAILOVER <service> to Sentinel `i`; returns its raw reply.
  std::string failover(std::size_t i = 0);
  /// Waits (up to `limit`) until every running Sentinel names `expected` as the primary.
  bool wait_primary(const redis_server& expected, std::chrono::milliseconds limit);

 private:
  redis_sentinel_options options_;
  std::string dir_;
  std::vector<std::unique_ptr<redis_server>> data_;
  std::vector<std::unique_ptr<redis_server>> sentinels_;
};

}  // namespace uredis::test
