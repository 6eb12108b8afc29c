// The Sentinel locator against real Sentinels: a primary, a replica and three Sentinels
// (tests/support/redis_sentinel.hpp), shared by the program's tests. Each test reads which
// server is the primary when it starts: the failover test changes it.

#include "uredis/sentinel/primary_locator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/canned_server.hpp"
#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_sentinel.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/exceptions.hpp"

namespace uredis::sentinel {
namespace {

using namespace std::chrono_literals;

class PrimaryLocator : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new test::redis_sentinel(); }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }

  void SetUp() override { r_ = test::make_reactor(); }

  static connection_config config_of(const std::string& url) {
    std::string_view why;
    result<connection_config> c = parse_url(url, &why);
    EXPECT_TRUE(c.has_value()) << url << ": " << why;
    return c ? *c : connection_config{};
  }

  // Connects and returns the outcome (nullopt: no answer within 10 s).
  std::optional<result<void>> connect(connection& c) { return test::connect_within(*r_, c); }

  static test::redis_sentinel* set_;
  std::unique_ptr<reactor::reactor> r_;
};

test::redis_sentinel* PrimaryLocator::set_ = nullptr;

std::string describe(const result<void>& r) {
  if (r) return "ok";
  return r.has_error() ? r.error().message() : r.server_error().message;
}

TEST_F(PrimaryLocator, finds_the_primary_and_checks_its_role) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  std::vector<std::uint16_t> discovered;
  event::listener<event::sentinel_primary_discovered> on_found(
      r_->events(), [&](const event::sentinel_primary_discovered& e) {
        EXPECT_EQ(e.service, "mymaster");
        EXPECT_EQ(e.host, "127.0.0.1");
        discovered.push_back(e.port);
      });
  connection c{*r_, config_of(set_->url())};
  const std::optional<result<void>> connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(*connected) << describe(*connected);
  ASSERT_FALSE(discovered.empty());
  EXPECT_EQ(discovered.front(), primary->port());

  std::optional<result<cmd::applied>> set;
  c.exec(cmd::set{"sentinel:found", "here"}, [&](result<cmd::applied> r) { set = std::move(r); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return set.has_value(); }, 5s));
  ASSERT_TRUE(set->has_value());
  // Written on the primary itself, not merely somewhere that answered.
  EXPECT_EQ(primary->command({"GET", "sentinel:found"}), "$4\r\nhere\r\n");
  EXPECT_NE(primary->command({"INFO", "commandstats"}).find("cmdstat_role:"), std::string::npos)
      << "the handshake sent no ROLE";
}

TEST_F(PrimaryLocator, a_wrong_service_name_fails_at_once_with_its_own_code) {
  ASSERT_TRUE(r_);
  std::string url = set_->url();
  url.replace(url.rfind('/') + 1, std::string::npos, "no-such-service");
  connection c{*r_, config_of(url)};
  const auto began = std::chrono::steady_clock::now();
  const std::optional<result<void>> connected = connect(c);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(connected->has_error()) << describe(*connected);
  EXPECT_EQ(connected->error(), errc::sentinel_service_unknown);
  // Not retried: a typo does not heal by waiting out the policy.
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST_F(PrimaryLocator, a_service_with_no_sentinels_fails_at_once_as_an_invalid_argument) {
  ASSERT_TRUE(r_);
  connection_config c;  // built by hand: parse_url refuses an empty list itself
  c.sentinel.service = "mymaster";
  connection conn{*r_, c};
  const std::optional<result<void>> connected = connect(conn);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(connected->has_error()) << describe(*connected);
  EXPECT_EQ(connected->error(), std::errc::invalid_argument);
  EXPECT_EQ(conn.state(), connection_state::closed);
}

TEST_F(PrimaryLocator, no_sentinel_listening_is_sentinel_unreachable) {
  ASSERT_TRUE(r_);
  connection_config c = config_of(
      "redis+sentinel://127.0.0.1:" + std::to_string(test::free_loopback_port()) + "/mymaster");
  c.retry_first_connect = false;
  connection conn{*r_, c};
  const std::optional<result<void>> connected = connect(conn);
  ASSERT_TRUE(connected.has_value());
  ASSERT_TRUE(connected->has_error()) << describe(*connected);
  EXPECT_EQ(connected->error(), errc::sentinel_unreachable);
}

TEST_F(PrimaryLocator, an_answer_of_the_wrong_shape_is_an_invalid_sentinel_reply) {
  // A Sentinel (or something posing as one) answering get-master-addr-by-name with a nested
  // array, or a null inside: the answer cannot be read, which is what the error must say.
  ASSERT_TRUE(r_);
  const std::vector<std::string> answers = {"*2\r\n*1\r\n$1\r\nx\r\n$4\r\n6379\r\n",
                                            "*2\r\n$-1\r\n$4\r\n6379\r\n", ":7\r\n"};
  // The link's handshake first: HELLO 3, CLIENT SETINFO twice, PING.
  const std::string handshake = "%1\r\n+proto\r\n:3\r\n+OK\r\n+OK\r\n+PONG\r\n";
  for (std::size_t i = 0; i < answers.size(); ++i) {
    test::canned_server fake(std::vector<std::string>{handshake, answers[i]});
    connection_config c =
        config_of("redis+sentinel://127.0.0.1:" + std::to_string(fake.port()) + "/mymaster");
    c.retry_first_connect = false;
    connection conn{*r_, c};
    const std::optional<result<void>> connected = connect(conn);
    ASSERT_TRUE(connected.has_value()) << "answer " << i;
    ASSERT_TRUE(connected->has_error()) << describe(*connected);
    EXPECT_EQ(connected->error(), errc::sentinel_reply_invalid)
        << "answer " << i << ": " << describe(*connected);
  }
}

TEST_F(PrimaryLocator, a_sentinel_down_is_skipped_and_moves_behind_the_one_that_answered) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  set_->sentinel(0).stop();  // the first of the URL's list
  auto locator = std::make_shared<primary_locator>(*r_, config_of(set_->url()).sentinel);
  connection_config config = config_of(set_->url());
  config.address = locator;
  {
    connection c{*r_, config};
    const std::optional<result<void>> connected = connect(c);
    set_->sentinel(0).start();
    ASSERT_TRUE(connected.has_value());
    ASSERT_TRUE(*connected) << describe(*connected);
    ASSERT_NE(locator->primary(), nullptr);
    EXPECT_EQ(locator->primary()->port, primary->port());
    // The next round asks the Sentinel that answered first.
    EXPECT_EQ(locator->sentinels().order().front(), 1u);
  }
}

TEST_F(PrimaryLocator, the_blocking_client_takes_a_sentinel_url) {
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  blocking_client b{set_->url()};
  b.set("sentinel:blocking", "yes");
  EXPECT_EQ(b.get("sentinel:blocking"), std::optional<std::string>("yes"));
  EXPECT_EQ(primary->command({"GET", "sentinel:blocking"}), "$3\r\nyes\r\n");
  std::string url = set_->url();
  url.replace(url.rfind('/') + 1, std::string::npos, "typo");
  EXPECT_THROW(blocking_client{url}, connection_error);
  // No Sentinel listening: the message names the service and the Sentinels asked, never the
  // config's default host and port, which nothing tried.
  const std::string nobody = "127.0.0.1:" + std::to_string(test::free_loopback_port());
  try {
    blocking_client{"redis+sentinel://" + nobody + "/mymaster"};
    ADD_FAILURE() << "connected through a Sentinel that is not there";
  } catch (const connection_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("Sentinel service mymaster (asked " + nobody + ")"), std::string::npos)
        << what;
    EXPECT_EQ(what.find(":6379"), std::string::npos) << what;
  }
}

// One worker of the load: SET a new key, WAIT for the replica, GET it back, again. One command
// in flight per worker; every completion is counted.
struct load;
struct worker {
  load* owner = nullptr;
  int id = 0;
  int step = 0;
  std::string key;
  std::string value;
};

struct load {
  connection* conn = nullptr;
  bool stopping = false;
  bool switched = false;
  std::uint64_t issued = 0;
  std::uint64_t completed = 0;
  std::uint64_t sets_ok_after_switch = 0;
  std::map<std::string, int> errors;               // what failed, by error
  std::map<std::string, std::string> durable;      // SET OK and WAIT >= 1: must survive
  std::map<std::string, std::string> unconfirmed;  // SET OK, not (yet) on the replica
  std::vector<std::string> wrong_reads;            // a GET that saw another value

  void failed(const std::string& what) { ++errors[what]; }
};

template <class T>
std::string error_of(const result<T>& r) {
  if (r.has_error()) return r.error().message();
  const std::string& m = r.server_error().message;
  return m.substr(0, m.find(' '));  // READONLY, NOREPLICAS...: the kind, not the text
}

void start_set(worker& w);

void start_get(worker& w) {
  load& l = *w.owner;
  ++l.issued;
  l.conn->exec(cmd::get{w.key}, [&w](result<std::optional<std::string>> r) {
    load& l = *w.owner;
    ++l.completed;
    if (!r) {
      l.failed("GET: " + error_of(r));
    } else if (l.durable.contains(w.key) && *r != std::optional<std::string>(w.value)) {
      l.wrong_reads.push_back(w.key + " read " + r->value_or("(nil)"));
    }
    start_set(w);
  });
}

void start_wait(worker& w) {
  load& l = *w.owner;
  ++l.issued;
  l.conn->exec(cmd::raw<std::int64_t>{"WAIT", 1, 100}, [&w](result<std::int64_t> r) {
    load& l = *w.owner;
    ++l.completed;
    if (r && *r >= 1) {
      l.unconfirmed.erase(w.key);
      l.durable[w.key] = w.value;
    } else if (!r) {
      l.failed("WAIT: " + error_of(r));
    }
    start_get(w);
  });
}

void start_set(worker& w) {
  load& l = *w.owner;
  if (l.stopping) return;
  ++w.step;
  w.key = "load:" + std::to_string(w.id) + ":" + std::to_string(w.step);
  w.value = "v" + std::to_string(w.step);
  ++l.issued;
  l.conn->exec(cmd::set{w.key, w.value}, [&w](result<cmd::applied> r) {
    load& l = *w.owner;
    ++l.completed;
    if (!r) {
      l.failed("SET: " + error_of(r));
      return start_set(w);
    }
    l.unconfirmed[w.key] = w.value;
    if (l.switched) ++l.sets_ok_after_switch;
    start_wait(w);
  });
}

TEST_F(PrimaryLocator, follows_a_failover_under_load_and_loses_nothing_silently) {
  ASSERT_TRUE(r_);
  test::redis_server* old_primary = set_->primary();
  ASSERT_NE(old_primary, nullptr);
  connection_config config = config_of(set_->url());
  config.retry = retry::retry_policy(
      retry::backoff::exponential_with_jitter(std::chrono::milliseconds(20), 500ms), -1);
  connection c{*r_, config};
  const std::optional<result<void>> connected = connect(c);
  ASSERT_TRUE(connected.has_value() && *connected) << describe(connected.value_or(result<void>{}));

  std::optional<std::uint16_t> switched_to;
  event::listener<event::sentinel_primary_switched> on_switch(
      r_->events(), [&](const event::sentinel_primary_switched& e) {
        EXPECT_EQ(e.service, "mymaster");
        EXPECT_EQ(e.old_port, old_primary->port());
        switched_to = e.port;
      });

  load l;
  l.conn = &c;
  std::vector<worker> workers(4);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    workers[i].owner = &l;
    workers[i].id = static_cast<int>(i);
    start_set(workers[i]);
  }
  test::run_for(*r_, 500ms);
  const std::uint64_t before = l.completed;
  EXPECT_GT(before, 100u) << "the load did not run";

  // SENTINEL FAILOVER from another thread: the blocking helper must not stall the reactor.
  std::string failover_reply;
  std::thread trigger([&] { failover_reply = set_->failover(1); });
  const bool followed = test::run_until(
      *r_,
      [&] {
        if (switched_to && !l.switched) l.switched = true;
        return l.switched && l.sets_ok_after_switch >= 20;
      },
      30s);
  trigger.join();
  EXPECT_EQ(failover_reply, "+OK\r\n");
  ASSERT_TRUE(followed) << "switched: " << switched_to.has_value()
                        << ", SETs after: " << l.sets_ok_after_switch;

  // Stop issuing; every command still in flight must complete.
  l.stopping = true;
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return l.completed == l.issued; }, 10s))
      << l.issued - l.completed << " commands never completed";

  test::redis_server* new_primary = set_->primary();
  ASSERT_NE(new_primary, nullptr);
  EXPECT_NE(new_primary, old_primary);
  EXPECT_EQ(*switched_to, new_primary->port());
  EXPECT_GE(c.reconnects(), 1u);

  // Only the errors a failover explains: written writes whose outcome is unknown, and (with
  // WAIT) the replica gone. A read is resent, never failed.
  for (const auto& [what, count] : l.errors) {
    const bool explained =
        what.find(std::error_code(errc::outcome_unknown).message()) != std::string::npos ||
        what.starts_with("SET: READONLY") || what.starts_with("WAIT: READONLY");
    EXPECT_TRUE(explained) << what << " x" << count;
    EXPECT_FALSE(what.starts_with("GET")) << what << " x" << count;
  }
  EXPECT_TRUE(l.wrong_reads.empty()) << l.wrong_reads.front();

  // Every write a replica had confirmed is on the new primary, with its value.
  ASSERT_GT(l.durable.size(), 50u);
  std::size_t missing = 0;
  std::string first_missing;
  for (const auto& [key, value] : l.durable) {
    const std::string expected = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    if (new_primary->command({"GET", key}) != expected) {
      if (missing++ == 0) first_missing = key;
    }
  }
  EXPECT_EQ(missing, 0u) << "first: " << first_missing;
  std::cout << "[ load     ] " << l.completed << " commands, " << l.durable.size()
            << " durable writes, " << l.unconfirmed.size() << " unconfirmed, errors:";
  for (const auto& [what, count] : l.errors)
    std::cout << " [" << what << " x" << count << "]";
  std::cout << "\n";
}

}  // namespace
}  // namespace uredis::sentinel
