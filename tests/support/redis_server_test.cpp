// The redis-server fixture itself: the integration tests stand on it.

#include "redis_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace uredis::test {
namespace {

TEST(RedisServer, StartsOnLoopbackAnswersAndCleansUp) {
  std::string dir;
  {
    redis_server server;
    dir = server.dir();
    EXPECT_NE(server.port(), 0);
    EXPECT_EQ(server.command({"PING"}), "+PONG\r\n");
    EXPECT_EQ(server.command({"SET", "k", "v\r\n"}), "+OK\r\n");
    EXPECT_EQ(server.command({"GET", "k"}), "$3\r\nv\r\n\r\n");
    EXPECT_TRUE(std::filesystem::exists(server.unix_socket()));
    EXPECT_EQ(server.url(), "redis://127.0.0.1:" + std::to_string(server.port()));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServer, KillAndRestartOnTheSamePort) {
  redis_server server;
  const auto port = server.port();
  server.kill();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.command({"PING"}), "");  // nobody listens
  server.start();
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.command({"PING"}), "+PONG\r\n");
  // No persistence: the restarted server starts empty.
  EXPECT_EQ(server.command({"DBSIZE"}), ":0\r\n");
}

TEST(RedisServer, ExtraConfiguration) {
  redis_server server{{.args = {"--requirepass", "s3cret"}}};
  EXPECT_EQ(server.command({"GET", "k"}).rfind("-NOAUTH", 0), 0u);
}

TEST(RedisServer, TwoServersGetDifferentPorts) {
  redis_server a;
  redis_server b;
  EXPECT_NE(a.port(), b.port());
  EXPECT_EQ(b.command({"PING"}), "+PONG\r\n");
}

}  // namespace
}  // namespace uredis::test
