#pragma once
// shared_cluster: one Redis Cluster (3 primaries, 3 replicas) for a whole test program, since
// making one takes seconds. A gtest environment makes it before the program's first test and
// stops it after the last; a program gets it by including this header in its test file:
//
//   TEST_F(ClusterClient, routes) {
//     ASSERT_NE(test::shared_cluster(), nullptr);  // null when it could not be made
//     ... test::shared_cluster()->seed() ...
//   }
//
// Tests that kill, move or add nodes leave the cluster healthy for the next test (each says
// how). Its cluster-node-timeout is 1.5 s, so a killed primary's replica takes over quickly.

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "redis_cluster.hpp"

namespace uredis::test {
namespace detail {

inline std::unique_ptr<redis_cluster> the_shared_cluster;

class shared_cluster_environment final : public ::testing::Environment {
 public:
  void SetUp() override {
    the_shared_cluster = std::make_unique<redis_cluster>(
        redis_cluster_options{.node_timeout = std::chrono::milliseconds(1500), .args = {}});
  }
  void TearDown() override { the_shared_cluster.reset(); }
};

// Registered once per program (an inline variable), before main() runs the tests.
inline ::testing::Environment* const shared_cluster_registered =
    ::testing::AddGlobalTestEnvironment(new shared_cluster_environment);

}  // namespace detail

/// The program's cluster, or nullptr when it could not be made (the environment's failure is
/// reported, and each test that asserts it is there fails).
inline redis_cluster* shared_cluster() noexcept {
  return detail::the_shared_cluster.get();
}

}  // namespace uredis::test
