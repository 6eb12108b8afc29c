#include "uredis/proto/handshake.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../support/redis_server.hpp"
#include "allocation_counter.hpp"
#include "uredis/exceptions.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace {

using uredis::server_error_kind;
using uredis::proto::handshake;
using uredis::proto::handshake_params;
using uredis::proto::handshake_status;
using uredis::proto::resp_version;
using uredis::proto::setinfo_step;
namespace resp = uredis::resp;

// RESP-encodes a command by hand, independently of resp::encoder, so the expected bytes are not
// produced by the code under test.
std::string cmd(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out.append(a);
    out += "\r\n";
  }
  return out;
}

std::string setinfo() {
  return cmd({"CLIENT", "SETINFO", "LIB-NAME", "uredis"}) +
         cmd({"CLIENT", "SETINFO", "LIB-VER", setinfo_step::lib_version()});
}

// HELLO 3's answer from Redis 7.0, with a chosen id and version.
std::string hello_map(std::string_view version = "7.0.15", int id = 42) {
  return "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$" +
         std::to_string(version.size()) + "\r\n" + std::string(version) +
         "\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:" + std::to_string(id) +
         "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
         "$7\r\nmodules\r\n*0\r\n";
}

const std::string ok = "+OK\r\n";
// Every first batch ends with PING (a server still loading its data fails it).
const std::string pong = "+PONG\r\n";
const std::string ping = "*1\r\n$4\r\nPING\r\n";
// Redis 7.0 has no CLIENT SETINFO (7.2 added it).
const std::string no_setinfo = "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n";
const std::string no_hello_v5 = "-ERR unknown command `HELLO`, with args beginning with: `3`, \r\n";
const std::string no_hello_v3 = "-ERR unknown command 'HELLO'\r\n";

// What a connection is set up with, as a connection_config says it.
struct settings {
  std::optional<std::string> password;
  std::string username;
  std::optional<std::string> name;
  int db = 0;
  resp_version protocol = resp_version::resp3;

  handshake_params params() const {
    handshake_params p;
    p.protocol = protocol;
    p.authenticate = password.has_value() || !username.empty();
    p.username = username;
    p.password = password ? std::string_view{*password} : std::string_view{};
    p.client_name = name ? std::string_view{*name} : std::string_view{};
    p.db = db;
    return p;
  }
};

// Drives one handshake over canned bytes: what it wrote, and what it made of the replies.
class driver {
 public:
  explicit driver(settings s, uredis::proto::handshake_step* extra = nullptr,
                  uredis::proto::push_router* pushes = nullptr)
      : settings_(std::move(s)), params_(settings_.params()) {
    if (extra != nullptr) extra_.push_back(*extra);
    hs_.emplace();
    hs_->start(params_, extra_, encoder_, pushes);
  }

  /// The bytes written since the last call.
  std::string written() {
    std::string s(out_.data());
    out_.clear();
    return s;
  }

  /// Feeds `bytes` in one call; every byte must be consumed unless the handshake ended early.
  handshake_status feed(std::string_view bytes) {
    std::size_t consumed = 99;
    const auto status = hs_->on_bytes(bytes, consumed, encoder_);
    if (status == handshake_status::in_progress) {
      EXPECT_EQ(consumed, bytes.size());
    }
    last_consumed_ = consumed;
    return status;
  }

  handshake& hs() { return *hs_; }
  std::size_t last_consumed() const { return last_consumed_; }
  /// Starts the same handshake again, as the next connect attempt does.
  void restart() { hs_->start(params_, extra_, encoder_, nullptr); }

 private:
  settings settings_;
  handshake_params params_;
  uredis::proto::handshake_step_list extra_;
  uredis::util::byte_buffer out_;
  resp::encoder encoder_{out_};
  std::optional<handshake> hs_;
  std::size_t last_consumed_ = 0;
};

settings make_config(std::optional<std::string> password = {}, std::string username = {},
                     std::optional<std::string> name = {}, int db = 0,
                     resp_version protocol = resp_version::resp3) {
  return {std::move(password), std::move(username), std::move(name), db, protocol};
}

void expect_server_failure(const handshake& hs, server_error_kind kind, std::string_view message) {
  EXPECT_EQ(hs.status(), handshake_status::failed);
  ASSERT_TRUE(hs.failure().has_server_error());
  EXPECT_EQ(hs.failure().server_error().kind, kind);
  EXPECT_EQ(hs.failure().server_error().message, message);
}

TEST(Handshake, lib_version_is_the_project_version) {
  EXPECT_TRUE(uredis::util::parse_version(setinfo_step::lib_version()).has_value())
      << setinfo_step::lib_version();
}

TEST(Handshake, resp3_without_auth_is_hello_and_setinfo) {
  driver d(make_config());
  EXPECT_EQ(d.written(),
            "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
            "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$6\r\nuredis\r\n" +
                cmd({"CLIENT", "SETINFO", "LIB-VER", setinfo_step::lib_version()}) + ping);
  EXPECT_EQ(d.hs().status(), handshake_status::in_progress);
  EXPECT_EQ(d.feed(hello_map("7.0.15", 42)), handshake_status::in_progress);
  EXPECT_EQ(d.hs().protocol(), 3);
  EXPECT_EQ(d.feed(no_setinfo), handshake_status::in_progress);
  EXPECT_EQ(d.feed(no_setinfo), handshake_status::in_progress);
  EXPECT_EQ(d.feed(pong), handshake_status::done);
  EXPECT_EQ(d.written(), "") << "nothing more to send";
  EXPECT_EQ(d.hs().protocol(), 3);
  EXPECT_EQ(d.hs().server_version(), (uredis::util::version{7, 0, 15}));
  EXPECT_EQ(d.hs().client_id(), 42);
  EXPECT_FALSE(d.hs().fell_back());
  EXPECT_TRUE(d.hs().failure().has_value());
}

TEST(Handshake, resp3_password_only_authenticates_the_default_user) {
  driver d(make_config("s3cret"));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "default", "s3cret"}) + setinfo() + ping);
  EXPECT_EQ(d.feed(hello_map() + ok + ok + pong),
            handshake_status::done);  // Redis 7.2 accepts SETINFO
}

TEST(Handshake, resp3_user_and_password) {
  driver d(make_config("apw", "alice"));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "alice", "apw"}) + setinfo() + ping);
  EXPECT_EQ(d.feed(hello_map("7.2.4") + ok + ok + pong), handshake_status::done);
  EXPECT_EQ(d.hs().server_version(), (uredis::util::version{7, 2, 4}));
}

TEST(Handshake, resp3_user_without_password_sends_an_empty_one) {
  driver d(make_config({}, "nopass-user"));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "nopass-user", ""}) + setinfo() + ping);
}

TEST(Handshake, resp3_client_name_rides_on_hello) {
  driver d(make_config({}, {}, "my-app"));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "SETNAME", "my-app"}) + setinfo() + ping);
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + pong), handshake_status::done);
}

TEST(Handshake, an_empty_client_name_is_not_sent) {
  driver d(make_config({}, {}, ""));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3"}) + setinfo() + ping);
}

TEST(Handshake, resp3_everything_is_one_round_trip) {
  driver d(make_config("p", "u", "n", 5));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"}) + setinfo() +
                             cmd({"SELECT", "5"}) + ping);
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo), handshake_status::in_progress);
  EXPECT_EQ(d.feed(ok), handshake_status::in_progress);
  EXPECT_EQ(d.feed(pong), handshake_status::done);
  EXPECT_EQ(d.written(), "");
}

TEST(Handshake, select_out_of_range_fails) {
  driver d(make_config({}, {}, {}, 16));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3"}) + setinfo() + cmd({"SELECT", "16"}) + ping);
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + "-ERR DB index is out of range\r\n"),
            handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::err, "ERR DB index is out of range");
  EXPECT_THROW(d.hs().failure().value(), uredis::response_error);
}

TEST(Handshake, wrong_password_is_a_server_error_not_a_protocol_error) {
  driver d(make_config("bad", "alice"));
  (void)d.written();
  const std::string_view wrongpass =
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
  EXPECT_EQ(d.feed(wrongpass), handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::wrongpass,
                        "WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_FALSE(d.hs().failure().has_error()) << "not a code, so not a protocol error";
  EXPECT_THROW(d.hs().failure().value(), uredis::authentication_error);
  // The replies still due (NOAUTH for SETINFO...) are not consumed: the connection closes.
  EXPECT_EQ(d.feed("-NOAUTH Authentication required.\r\n"), handshake_status::failed);
  EXPECT_EQ(d.last_consumed(), 0u);
}

TEST(Handshake, hello_without_auth_on_a_protected_server_is_noauth) {
  driver d(make_config());
  const std::string_view noauth =
      "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
      "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
      "RESP protocol version at the same time\r\n";
  EXPECT_EQ(d.feed(noauth), handshake_status::failed);
  EXPECT_EQ(d.hs().failure().server_error().kind, server_error_kind::noauth);
  EXPECT_THROW(d.hs().failure().value(), uredis::authentication_error);
}

TEST(Handshake, fallback_when_hello_is_unknown_redoes_every_step_for_resp2) {
  driver d(make_config("apw", "alice", "app", 3));
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "alice", "apw", "SETNAME", "app"}) + setinfo() +
                             cmd({"SELECT", "3"}) + ping);
  EXPECT_EQ(d.feed(no_hello_v5), handshake_status::in_progress);
  EXPECT_TRUE(d.hs().fell_back());
  EXPECT_EQ(d.hs().protocol(), 2);
  // The second batch goes out as soon as HELLO's error arrives: one extra round trip.
  EXPECT_EQ(d.written(), cmd({"AUTH", "alice", "apw"}) + cmd({"CLIENT", "SETNAME", "app"}) +
                             setinfo() + cmd({"SELECT", "3"}) + ping);
  // The first batch's remaining replies are skipped, whatever they say.
  EXPECT_EQ(d.feed("-ERR unknown command `CLIENT`, with args beginning with: `SETINFO`, \r\n"),
            handshake_status::in_progress);
  EXPECT_EQ(d.feed("-NOAUTH Authentication required.\r\n"), handshake_status::in_progress);
  EXPECT_EQ(d.feed("-NOAUTH Authentication required.\r\n"), handshake_status::in_progress);
  EXPECT_EQ(d.feed("-NOAUTH Authentication required.\r\n"), handshake_status::in_progress);
  EXPECT_EQ(d.feed(ok), handshake_status::in_progress);  // AUTH
  EXPECT_EQ(d.feed(ok), handshake_status::in_progress);  // CLIENT SETNAME
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo), handshake_status::in_progress);
  EXPECT_EQ(d.feed(ok), handshake_status::in_progress);  // SELECT
  EXPECT_EQ(d.feed(pong), handshake_status::done);
  EXPECT_EQ(d.written(), "");
  EXPECT_EQ(d.hs().protocol(), 2);
  EXPECT_FALSE(d.hs().server_version().has_value());
  EXPECT_FALSE(d.hs().client_id().has_value());
}

TEST(Handshake, fallback_with_a_password_only_sends_auth_without_a_user) {
  for (const std::string user : {"", "default"}) {
    driver d(make_config("pw", user));
    (void)d.written();
    EXPECT_EQ(d.feed(no_hello_v3), handshake_status::in_progress);
    EXPECT_EQ(d.written(), cmd({"AUTH", "pw"}) + setinfo() + ping) << "user '" << user << "'";
    EXPECT_EQ(d.feed(no_setinfo + no_setinfo + pong + ok + no_setinfo + no_setinfo + pong),
              handshake_status::done);
  }
}

TEST(Handshake, fallback_with_no_credentials_still_asks_the_server_again) {
  driver d(make_config());
  (void)d.written();
  EXPECT_EQ(d.feed(no_hello_v5), handshake_status::in_progress);
  EXPECT_EQ(d.written(), setinfo() + ping);
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo + pong), handshake_status::in_progress)
      << "the first batch's replies are skipped";
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo), handshake_status::in_progress);
  EXPECT_EQ(d.feed(pong), handshake_status::done);
  EXPECT_EQ(d.hs().protocol(), 2);
}

TEST(Handshake, noproto_also_falls_back) {
  driver d(make_config({}, {}, {}, 1));
  (void)d.written();
  EXPECT_EQ(d.feed("-NOPROTO sorry, this protocol version is not supported.\r\n"),
            handshake_status::in_progress);
  EXPECT_EQ(d.written(), setinfo() + cmd({"SELECT", "1"}) + ping);
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo + ok + pong + no_setinfo + no_setinfo + ok + pong),
            handshake_status::done);
}

TEST(Handshake, fallback_auth_failure_on_an_old_server) {
  driver d(make_config("bad"));
  (void)d.written();
  EXPECT_EQ(d.feed(no_hello_v3 + "-ERR unknown command 'CLIENT'\r\n" +
                   "-ERR unknown command 'CLIENT'\r\n" + "-NOAUTH Authentication required.\r\n" +
                   "-ERR invalid password\r\n"),
            handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::err, "ERR invalid password");
  EXPECT_THROW(d.hs().failure().value(), uredis::authentication_error);
}

TEST(Handshake, fallback_select_failure) {
  driver d(make_config({}, {}, {}, 40));
  (void)d.written();
  EXPECT_EQ(
      d.feed(no_hello_v5 + no_setinfo + no_setinfo + "-ERR DB index is out of range\r\n" + pong),
      handshake_status::in_progress)
      << "the first batch's SELECT error is skipped";
  EXPECT_EQ(d.written(), setinfo() + cmd({"SELECT", "40"}) + ping);
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo + "-ERR DB index is out of range\r\n"),
            handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::err, "ERR DB index is out of range");
}

TEST(Handshake, resp2_never_sends_hello) {
  driver d(make_config("apw", "alice", "app", 1, resp_version::resp2));
  EXPECT_EQ(d.written(), cmd({"AUTH", "alice", "apw"}) + cmd({"CLIENT", "SETNAME", "app"}) +
                             setinfo() + cmd({"SELECT", "1"}) + ping);
  EXPECT_EQ(d.feed(ok + ok + no_setinfo + no_setinfo + ok + pong), handshake_status::done);
  EXPECT_EQ(d.hs().protocol(), 2);
  EXPECT_FALSE(d.hs().fell_back());
  EXPECT_FALSE(d.hs().server_version().has_value());
}

TEST(Handshake, resp2_password_only_and_no_credentials) {
  driver d(make_config("pw", {}, {}, 0, resp_version::resp2));
  EXPECT_EQ(d.written(), cmd({"AUTH", "pw"}) + setinfo() + ping);
  driver bare(make_config({}, {}, {}, 0, resp_version::resp2));
  EXPECT_EQ(bare.written(), setinfo() + ping);
  EXPECT_EQ(bare.feed(no_setinfo + no_setinfo + pong), handshake_status::done);
}

TEST(Handshake, resp2_wrong_password) {
  driver d(make_config("bad", {}, "n", 0, resp_version::resp2));
  (void)d.written();
  EXPECT_EQ(d.feed("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            handshake_status::failed);
  EXPECT_EQ(d.hs().failure().server_error().kind, server_error_kind::wrongpass);
}

TEST(Handshake, resp2_setname_refused_fails) {
  driver d(make_config({}, {}, "has space", 0, resp_version::resp2));
  (void)d.written();
  EXPECT_EQ(d.feed("-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
            handshake_status::failed);
  EXPECT_EQ(d.hs().failure().server_error().kind, server_error_kind::err);
}

TEST(Handshake, a_reply_of_the_wrong_shape_fails) {
  {
    driver d(make_config());
    EXPECT_EQ(d.feed(ok), handshake_status::failed) << "HELLO answered +OK";
    ASSERT_TRUE(d.hs().failure().has_error());
    EXPECT_EQ(d.hs().failure().error(), uredis::errc::type_mismatch);
  }
  {
    driver d(make_config({}, {}, {}, 2));
    EXPECT_EQ(d.feed(hello_map() + ok + ok + ":1\r\n"), handshake_status::failed)
        << "SELECT answered :1";
    EXPECT_EQ(d.hs().failure().error(), uredis::errc::type_mismatch);
  }
}

TEST(Handshake, a_resp2_style_hello_array_is_read_like_a_map) {
  driver d(make_config());
  EXPECT_EQ(d.feed("*4\r\n$7\r\nversion\r\n$5\r\n6.2.1\r\n$5\r\nproto\r\n:3\r\n"),
            handshake_status::in_progress);
  EXPECT_EQ(d.hs().server_version(), (uredis::util::version{6, 2, 1}));
  EXPECT_EQ(d.hs().protocol(), 3);
}

TEST(Handshake, malformed_bytes_are_a_protocol_error) {
  driver d(make_config());
  EXPECT_EQ(d.feed("?garbage\r\n"), handshake_status::failed);
  ASSERT_TRUE(d.hs().failure().has_error());
  EXPECT_TRUE(uredis::is_protocol_error(d.hs().failure().error()));
}

TEST(Handshake, bytes_may_arrive_one_at_a_time) {
  driver d(make_config("p", "u", "n", 9));
  (void)d.written();
  const std::string replies = hello_map("7.0.15", 7) + no_setinfo + no_setinfo + ok + pong;
  // A connection's read buffer: append each byte, feed the unread bytes, drop what was consumed.
  std::string unread;
  uredis::util::byte_buffer scratch;
  resp::encoder nothing_to_send(scratch);
  handshake_status status = handshake_status::in_progress;
  for (const char c : replies) {
    ASSERT_EQ(status, handshake_status::in_progress);
    unread.push_back(c);
    std::size_t consumed = 0;
    status = d.hs().on_bytes(unread, consumed, nothing_to_send);
    unread.erase(0, consumed);
  }
  EXPECT_EQ(status, handshake_status::done);
  EXPECT_EQ(unread, "");
  EXPECT_TRUE(scratch.empty());
  EXPECT_EQ(d.hs().client_id(), 7);
  EXPECT_EQ(d.hs().server_version(), (uredis::util::version{7, 0, 15}));
}

TEST(Handshake, stops_at_the_end_of_its_last_reply) {
  driver d(make_config());
  const std::string replies = hello_map() + no_setinfo + no_setinfo + pong;
  EXPECT_EQ(d.feed(replies + "+PONG\r\n:1\r\n"), handshake_status::done);
  EXPECT_EQ(d.last_consumed(), replies.size()) << "the rest belongs to the pipeline";
}

TEST(Handshake, push_frames_and_attributes_are_not_replies) {
  driver d(make_config());
  EXPECT_EQ(d.feed(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n" + hello_map() +
                   "|1\r\n+ttl\r\n:3\r\n" + no_setinfo + no_setinfo + pong),
            handshake_status::done);
  EXPECT_EQ(d.hs().server_version(), (uredis::util::version{7, 0, 15}));
}

TEST(Handshake, a_server_still_loading_fails_the_ping) {
  driver d(make_config());
  const std::string loading = "-LOADING Redis is loading the dataset in memory\r\n";
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + loading), handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::loading,
                        "LOADING Redis is loading the dataset in memory");
}

TEST(Handshake, any_other_answer_to_the_ping_passes) {
  driver d(make_config({}, {}, {}, 0, resp_version::resp2));
  EXPECT_EQ(d.feed("-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n"
                   "-NOAUTH Authentication required.\r\n"),
            handshake_status::done)
      << "a caller authenticating by hand (uredis-cli) sees NOAUTH on its own commands";
}

// A step a feature adds (CLIENT TRACKING, say): it writes for the protocol it is asked for and
// records the replies it is given.
class tracking_step final : public uredis::proto::handshake_step {
 public:
  std::size_t write(resp::encoder& out, const handshake_params&, resp_version protocol) override {
    asked.push_back(protocol);
    if (protocol == resp_version::resp3) {
      out.command("CLIENT", "TRACKING", "ON");
    } else {
      out.command("CLIENT", "TRACKING", "ON", "REDIRECT", "7");
    }
    return 1;
  }
  uredis::result<void> on_node(const resp::node& n, std::size_t reply) override {
    seen.push_back(std::to_string(reply) + ":" + std::string(n.value));
    if (resp::is_error(n.type)) return uredis::server_error::parse(n.value);
    return {};
  }
  std::vector<resp_version> asked;
  std::vector<std::string> seen;
};

TEST(Handshake, a_registered_step_runs_between_select_and_ping) {
  tracking_step tracking;
  driver d(make_config({}, {}, {}, 2), &tracking);
  EXPECT_EQ(d.written(), cmd({"HELLO", "3"}) + setinfo() + cmd({"SELECT", "2"}) +
                             cmd({"CLIENT", "TRACKING", "ON"}) + ping);
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + ok + ok + pong), handshake_status::done);
  EXPECT_EQ(tracking.seen, std::vector<std::string>{"0:OK"});
}

TEST(Handshake, a_registered_step_that_fails_fails_the_handshake) {
  tracking_step tracking;
  driver d(make_config(), &tracking);
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + "-ERR tracking refused\r\n"),
            handshake_status::failed);
  expect_server_failure(d.hs(), server_error_kind::err, "ERR tracking refused");
}

TEST(Handshake, a_registered_step_is_asked_again_for_resp2_after_a_fallback) {
  tracking_step tracking;
  driver d(make_config(), &tracking);
  (void)d.written();
  EXPECT_EQ(d.feed(no_hello_v3), handshake_status::in_progress);
  EXPECT_EQ(d.written(), setinfo() + cmd({"CLIENT", "TRACKING", "ON", "REDIRECT", "7"}) + ping);
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo + "-ERR unknown command 'CLIENT'\r\n" + pong),
            handshake_status::in_progress)
      << "the first batch's TRACKING error is skipped, not given to the step";
  EXPECT_EQ(d.feed(no_setinfo + no_setinfo + ok + pong), handshake_status::done);
  EXPECT_EQ(tracking.asked, (std::vector<resp_version>{resp_version::resp3, resp_version::resp2}));
  EXPECT_EQ(tracking.seen, std::vector<std::string>{"0:OK"});
}

// A step may be destroyed at any time (its feature goes away, say from an event listener): a
// handshake that still awaits its replies skips them, and never calls it. (Under ASan, a call
// into the freed step would be reported.)
TEST(Handshake, a_step_destroyed_while_its_reply_is_due_is_skipped) {
  auto tracking = std::make_unique<tracking_step>();
  driver d(make_config(), tracking.get());
  EXPECT_EQ(d.feed(hello_map() + no_setinfo), handshake_status::in_progress);
  tracking.reset();
  EXPECT_EQ(d.feed(no_setinfo + "-ERR would fail the step\r\n" + pong), handshake_status::done);
}

// A failed handshake forgets the steps whose replies it still awaited: one destroyed after the
// failure (a feature that went away during the reconnect's backoff) is not written to when the
// next attempt starts the handshake again, nor when it ends. (ASan reports such a write into the
// freed step.)
TEST(Handshake, a_step_destroyed_after_a_failure_is_never_touched_again) {
  auto tracking = std::make_unique<tracking_step>();
  driver d(make_config("bad", "alice"), tracking.get());
  EXPECT_EQ(d.feed("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            handshake_status::failed);
  tracking.reset();
  (void)d.written();
  d.restart();
  EXPECT_EQ(d.written(), cmd({"HELLO", "3", "AUTH", "alice", "bad"}) + setinfo() + ping)
      << "the destroyed step has left the list";
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + pong), handshake_status::done);
}

TEST(Handshake, a_step_may_destroy_itself_while_it_reads_its_reply) {
  struct self_destroying final : uredis::proto::handshake_step {
    std::unique_ptr<self_destroying>* owner = nullptr;
    std::size_t write(resp::encoder& out, const handshake_params&, resp_version) override {
      out.command("CLIENT", "NO-EVICT", "ON");
      return 2;  // two replies: the second must be skipped
    }
    uredis::result<void> on_node(const resp::node&, std::size_t) override {
      owner->reset();  // `this` is gone from here on
      return {};
    }
  };
  auto step = std::make_unique<self_destroying>();
  step->owner = &step;
  driver d(make_config(), step.get());
  EXPECT_EQ(d.feed(hello_map() + no_setinfo + no_setinfo + ok + ok + pong), handshake_status::done);
  EXPECT_EQ(step, nullptr);
}

TEST(Handshake, a_step_may_outlive_its_handshake) {
  tracking_step tracking;
  {
    driver d(make_config(), &tracking);
    EXPECT_EQ(d.feed(hello_map()), handshake_status::in_progress);
  }  // the handshake goes first, its replies still due; the step's destructor must not call it
  EXPECT_TRUE(tracking.seen.empty());
}

// Confirmations sent as pushes (RESP3 SUBSCRIBE) reach the push router during the handshake.
struct subscriptions final : uredis::proto::subscription_hook {
  void on_message(const uredis::proto::pubsub_message&) override {}
  void on_subscription(const uredis::proto::subscription_change& c) override {
    confirmed.push_back(std::string(c.channel) + ":" + std::to_string(c.count));
  }
  std::vector<std::string> confirmed;
};

TEST(Handshake, push_frames_meanwhile_go_to_the_push_router) {
  uredis::proto::push_router router;
  subscriptions subs;
  router.set_subscription_hook(&subs);
  driver d(make_config(), nullptr, &router);
  EXPECT_EQ(d.feed(hello_map() + ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" + no_setinfo +
                   no_setinfo + pong),
            handshake_status::done);
  EXPECT_EQ(subs.confirmed, std::vector<std::string>{"ch:1"});
}

TEST(Handshake, reading_replies_allocates_nothing) {
  driver warm(make_config("p", "u", "n", 3));
  const std::string replies = hello_map() + no_setinfo + no_setinfo + ok + pong;
  ASSERT_EQ(warm.feed(replies), handshake_status::done);
  driver d(make_config("p", "u", "n", 3));
  const uredis::dev::allocation_scope scope;
  EXPECT_EQ(d.feed(replies), handshake_status::done);
  EXPECT_EQ(scope.allocations(), 0u);
}

// ---- Against a real redis-server: the bytes are right, carried by a plain blocking socket. ----

class blocking_socket {
 public:
  explicit blocking_socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    timeval tv{5, 0};  // never hang the test on a server that does not answer
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~blocking_socket() { ::close(fd_); }
  blocking_socket(const blocking_socket&) = delete;
  blocking_socket& operator=(const blocking_socket&) = delete;

  void send_all(uredis::util::byte_buffer& out) {
    while (!out.empty()) {
      const ssize_t n = ::send(fd_, out.data().data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send");
      out.consume(static_cast<std::size_t>(n));
    }
  }

  /// Appends what the server sends next; false on EOF or timeout.
  bool receive(uredis::util::byte_buffer& in) {
    const auto span = in.prepare(4096);
    const ssize_t n = ::recv(fd_, span.data(), span.size(), 0);
    if (n <= 0) return false;
    in.commit(static_cast<std::size_t>(n));
    return true;
  }

 private:
  int fd_;
};

// One connection that went through the handshake, kept open for follow-up checks.
class live_session {
 public:
  live_session(std::uint16_t port, settings s)
      : settings_(std::move(s)), params_(settings_.params()), socket_(port) {
    hs_.start(params_, extra_, encoder_);
    while (true) {
      socket_.send_all(out_);
      std::size_t consumed = 0;
      const auto status = hs_.on_bytes(in_.data(), consumed, encoder_);
      in_.consume(consumed);
      if (status != handshake_status::in_progress) break;
      if (!out_.empty()) continue;  // the fallback batch: send it before waiting
      if (!socket_.receive(in_)) throw std::runtime_error("the server stopped answering");
    }
  }

  handshake& hs() { return hs_; }

  /// Sends one command on the session and returns its reply.
  resp::reply command(std::initializer_list<std::string_view> args) {
    encoder_.begin(args.size());
    for (const auto a : args)
      encoder_.arg(a);
    socket_.send_all(out_);
    resp::reply r;
    std::error_code ec;
    while (true) {
      const resp::step s = resp::parse_reply_tree(in_.data(), r, ec);
      if (s.status == resp::outcome::node) {
        in_.consume(s.consumed);
        return r;
      }
      if (s.status == resp::outcome::error) throw std::runtime_error(ec.message());
      if (!socket_.receive(in_)) throw std::runtime_error("the server stopped answering");
    }
  }

  /// CLIENT INFO's "field=value" for `field`.
  std::string client_info(std::string_view field) {
    const std::string info = " " + std::string(command({"CLIENT", "INFO"}).text());
    const std::string key = " " + std::string(field) + "=";
    const auto at = info.find(key);
    if (at == std::string::npos) return "<no " + std::string(field) + ">";
    const auto start = at + key.size();
    return info.substr(start, info.find_first_of(" \r\n", start) - start);
  }

 private:
  settings settings_;
  handshake_params params_;
  uredis::proto::handshake_step_list extra_;
  blocking_socket socket_;
  uredis::util::byte_buffer out_;
  uredis::util::byte_buffer in_;
  resp::encoder encoder_{out_};
  handshake hs_;
};

// A password for the default user and an ACL user alice (redis.conf's `user` directive).
uredis::test::redis_server_options protected_server(std::vector<std::string> extra = {}) {
  uredis::test::redis_server_options options;
  options.args = {"--requirepass", "pw", "--user", "alice", "on", ">apw", "~*", "&*", "+@all"};
  options.args.insert(options.args.end(), extra.begin(), extra.end());
  return options;
}

TEST(HandshakeLive, against_real_redis) {
  uredis::test::redis_server server(protected_server());

  {  // RESP3: HELLO 3 AUTH alice apw SETNAME, SELECT pipelined behind it.
    live_session s(server.port(), make_config("apw", "alice", "hs-resp3", 2));
    ASSERT_EQ(s.hs().status(), handshake_status::done);
    EXPECT_EQ(s.hs().protocol(), 3);
    EXPECT_FALSE(s.hs().fell_back());
    ASSERT_TRUE(s.hs().server_version().has_value());
    ASSERT_TRUE(s.hs().client_id().has_value());
    EXPECT_EQ(s.client_info("user"), "alice");
    EXPECT_EQ(s.client_info("name"), "hs-resp3");
    EXPECT_EQ(s.client_info("db"), "2");
    EXPECT_EQ(s.client_info("resp"), "3");
    EXPECT_EQ(s.client_info("id"), std::to_string(*s.hs().client_id()));
    const std::string info(s.command({"INFO", "server"}).text());
    const std::string want = "redis_version:" + uredis::util::to_string(*s.hs().server_version());
    EXPECT_NE(info.find(want + "\r\n"), std::string::npos) << want << "\n" << info;
    EXPECT_EQ(s.command({"HSET", "h", "f", "v"}).integer(), 1);
    EXPECT_EQ(s.command({"HGETALL", "h"}).type(), resp::type::map) << "the session speaks RESP3";
  }
  {  // RESP2 only: AUTH pw, CLIENT SETNAME, SELECT; never HELLO.
    live_session s(server.port(), make_config("pw", {}, "hs-resp2", 3, resp_version::resp2));
    ASSERT_EQ(s.hs().status(), handshake_status::done);
    EXPECT_EQ(s.hs().protocol(), 2);
    EXPECT_EQ(s.client_info("user"), "default");
    EXPECT_EQ(s.client_info("name"), "hs-resp2");
    EXPECT_EQ(s.client_info("db"), "3");
    EXPECT_EQ(s.client_info("resp"), "2");
    EXPECT_EQ(s.command({"HGETALL", "h"}).type(), resp::type::array);
  }
  {  // Wrong passwords, both ways: WRONGPASS as a server error.
    live_session s3(server.port(), make_config("nope", "alice"));
    expect_server_failure(s3.hs(), server_error_kind::wrongpass,
                          "WRONGPASS invalid username-password pair or user is disabled.");
    live_session s2(server.port(), make_config("nope", {}, {}, 0, resp_version::resp2));
    EXPECT_EQ(s2.hs().status(), handshake_status::failed);
    EXPECT_EQ(s2.hs().failure().server_error().kind, server_error_kind::wrongpass);
  }
  {  // No password at all: HELLO is refused with NOAUTH.
    live_session s(server.port(), make_config());
    EXPECT_EQ(s.hs().status(), handshake_status::failed);
    EXPECT_EQ(s.hs().failure().server_error().kind, server_error_kind::noauth);
  }
  {  // A database the server does not have (16 by default).
    live_session s(server.port(), make_config("pw", {}, {}, 16));
    expect_server_failure(s.hs(), server_error_kind::err, "ERR DB index is out of range");
  }
}

TEST(HandshakeLive, fallback_against_a_server_without_hello) {
  // Renaming HELLO away makes Redis 7 answer like Redis 5: "ERR unknown command `HELLO`...".
  uredis::test::redis_server server(protected_server({"--rename-command", "HELLO", ""}));
  live_session s(server.port(), make_config("apw", "alice", "hs-fallback", 4));
  ASSERT_EQ(s.hs().status(), handshake_status::done)
      << (s.hs().failure().has_server_error() ? s.hs().failure().server_error().message : "");
  EXPECT_TRUE(s.hs().fell_back());
  EXPECT_EQ(s.hs().protocol(), 2);
  EXPECT_EQ(s.client_info("user"), "alice");
  EXPECT_EQ(s.client_info("name"), "hs-fallback");
  EXPECT_EQ(s.client_info("db"), "4");
  EXPECT_EQ(s.client_info("resp"), "2");
}

}  // namespace
