#include "uredis/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using uredis::errc;
using uredis::server_error;
using uredis::server_error_kind;

constexpr errc protocol_codes[] = {
    errc::invalid_type_byte,  errc::invalid_integer,  errc::invalid_length,
    errc::invalid_double,     errc::invalid_boolean,  errc::invalid_null,
    errc::invalid_big_number, errc::invalid_verbatim, errc::missing_crlf,
    errc::line_too_long,      errc::bulk_too_large,   errc::aggregate_too_large,
    errc::nesting_too_deep,   errc::unexpected_reply,
};

constexpr errc other_codes[] = {
    errc::type_mismatch,
    errc::unexpected_null,
    errc::unexpected_server_error,
    errc::incomplete_reply,
    errc::connection_refused,
    errc::connection_reset,
    errc::connection_closed,
    errc::not_connected,
    errc::timeout,
    errc::handshake_failed,
    errc::io_uring_unsupported,
    errc::io_uring_disabled,
    errc::io_uring_memlock_limit,
    errc::invalid_url,
    errc::invalid_shard_count,
    errc::tls_unavailable,
    errc::outcome_unknown,
    errc::queue_full,
    errc::server_loading,
    errc::subscriber_only,
    errc::not_one_reply,
    errc::reset_refused,
    errc::watch_conflict,
    errc::watch_lost,
    errc::runtime_stopped,
    errc::lock_not_owned,
    errc::tls_config_invalid,
    errc::tls_handshake_failed,
    errc::tls_certificate_untrusted,
    errc::tls_certificate_expired,
    errc::tls_host_name_mismatch,
    errc::tls_certificate_rejected,
    errc::tls_peer_alert,
    errc::tls_record_invalid,
    errc::tls_peer_not_tls,
    errc::credentials_expired,
    errc::credentials_rejected,
    errc::tls_certificate_revoked,
    errc::ocsp_response_invalid,
    errc::ocsp_staple_missing,
    errc::ocsp_responder_unavailable,
    errc::cluster_topology_invalid,
    errc::cluster_cross_slot,
    errc::cluster_too_many_redirects,
    errc::cluster_slot_unserved,
    errc::sentinel_unreachable,
    errc::sentinel_service_unknown,
    errc::sentinel_reply_invalid,
    errc::role_mismatch,
    errc::primary_switched,
};

TEST(ErrorCategory, name_is_uredis) {
  EXPECT_STREQ(uredis::category().name(), "uredis");
}

TEST(ErrorCategory, every_code_has_its_own_message) {
  std::vector<std::string> seen;
  auto check = [&](errc e) {
    const std::string m = std::error_code(e).message();
    EXPECT_FALSE(m.empty()) << static_cast<int>(e);
    EXPECT_NE(m, "unknown uredis error") << static_cast<int>(e);
    for (const auto& s : seen)
      EXPECT_NE(m, s) << "two codes share a message";
    seen.push_back(m);
  };
  for (errc e : protocol_codes)
    check(e);
  for (errc e : other_codes)
    check(e);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(errc::primary_switched))
      << "a code is missing here";
}

TEST(ErrorCategory, specific_messages) {
  EXPECT_EQ(std::error_code(errc::incomplete_reply).message(),
            "incomplete reply: more bytes needed");
  EXPECT_EQ(std::error_code(errc::connection_refused).message(), "connection refused");
  EXPECT_EQ(std::error_code(errc::timeout).message(), "operation timed out");
}

TEST(ErrorCategory, unknown_value_has_a_fallback_message) {
  EXPECT_EQ(std::error_code(999, uredis::category()).message(), "unknown uredis error");
}

TEST(ErrorCategory, errc_converts_implicitly_to_error_code) {
  const std::error_code ec = errc::timeout;
  EXPECT_TRUE(ec);
  EXPECT_EQ(&ec.category(), &uredis::category());
  EXPECT_EQ(ec.value(), static_cast<int>(errc::timeout));
  EXPECT_EQ(ec, errc::timeout);
  EXPECT_NE(ec, errc::connection_reset);
}

TEST(ErrorCategory, transport_codes_equal_their_errno_conditions) {
  EXPECT_EQ(std::error_code(errc::connection_refused), std::errc::connection_refused);
  EXPECT_EQ(std::error_code(errc::connection_reset), std::errc::connection_reset);
  EXPECT_EQ(std::error_code(errc::not_connected), std::errc::not_connected);
  EXPECT_EQ(std::error_code(errc::timeout), std::errc::timed_out);
  // ...and only those.
  EXPECT_NE(std::error_code(errc::timeout), std::errc::connection_refused);
  EXPECT_NE(std::error_code(errc::connection_closed), std::errc::connection_reset);
  EXPECT_NE(std::error_code(errc::invalid_integer), std::errc::invalid_argument);
  // The codes themselves stay distinct from the kernel's.
  EXPECT_NE(std::error_code(errc::timeout), std::error_code(ETIMEDOUT, std::system_category()));
}

TEST(ErrorCategory, protocol_errors_are_exactly_the_parser_codes) {
  for (errc e : protocol_codes)
    EXPECT_TRUE(uredis::is_protocol_error(e)) << static_cast<int>(e);
  for (errc e : other_codes)
    EXPECT_FALSE(uredis::is_protocol_error(e)) << static_cast<int>(e);
  EXPECT_FALSE(uredis::is_protocol_error(std::error_code{}));
  // Same value, other category.
  EXPECT_FALSE(uredis::is_protocol_error(
      std::error_code(static_cast<int>(errc::invalid_integer), std::generic_category())));
  EXPECT_FALSE(uredis::is_protocol_error(std::make_error_code(std::errc::protocol_error)));
}

struct kind_case {
  server_error_kind kind;
  std::string_view prefix;
};

constexpr kind_case kinds[] = {
    {server_error_kind::err, "ERR"},
    {server_error_kind::wrongtype, "WRONGTYPE"},
    {server_error_kind::moved, "MOVED"},
    {server_error_kind::ask, "ASK"},
    {server_error_kind::noscript, "NOSCRIPT"},
    {server_error_kind::busy, "BUSY"},
    {server_error_kind::busykey, "BUSYKEY"},
    {server_error_kind::notbusy, "NOTBUSY"},
    {server_error_kind::loading, "LOADING"},
    {server_error_kind::readonly, "READONLY"},
    {server_error_kind::noauth, "NOAUTH"},
    {server_error_kind::wrongpass, "WRONGPASS"},
    {server_error_kind::noperm, "NOPERM"},
    {server_error_kind::noproto, "NOPROTO"},
    {server_error_kind::oom, "OOM"},
    {server_error_kind::execabort, "EXECABORT"},
    {server_error_kind::tryagain, "TRYAGAIN"},
    {server_error_kind::crossslot, "CROSSSLOT"},
    {server_error_kind::clusterdown, "CLUSTERDOWN"},
    {server_error_kind::masterdown, "MASTERDOWN"},
    {server_error_kind::noreplicas, "NOREPLICAS"},
    {server_error_kind::busygroup, "BUSYGROUP"},
    {server_error_kind::nogroup, "NOGROUP"},
    {server_error_kind::misconf, "MISCONF"},
    {server_error_kind::unblocked, "UNBLOCKED"},
};
static_assert(std::size(kinds) == static_cast<std::size_t>(server_error_kind::other),
              "every kind but `other` is listed");

TEST(ErrorServerError, parses_every_known_prefix) {
  for (const auto& [kind, prefix] : kinds) {
    const std::string text = std::string(prefix) + " some detail here";
    const server_error e = server_error::parse(text);
    EXPECT_EQ(e.kind, kind) << text;
    EXPECT_EQ(e.message, text);
    EXPECT_EQ(e.code(), prefix);
    EXPECT_EQ(e.detail(), "some detail here");
    EXPECT_EQ(uredis::to_string(kind), prefix);
  }
}

TEST(ErrorServerError, parses_a_prefix_with_no_detail) {
  for (const auto& [kind, prefix] : kinds) {
    const server_error e = server_error::parse(prefix);
    EXPECT_EQ(e.kind, kind) << prefix;
    EXPECT_EQ(e.code(), prefix);
    EXPECT_EQ(e.detail(), "");
  }
}

TEST(ErrorServerError, real_server_messages) {
  const auto wrongtype =
      server_error::parse("WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(wrongtype.kind, server_error_kind::wrongtype);
  EXPECT_EQ(wrongtype.detail(), "Operation against a key holding the wrong kind of value");

  const auto moved = server_error::parse("MOVED 3999 127.0.0.1:6381");
  EXPECT_EQ(moved.kind, server_error_kind::moved);
  EXPECT_EQ(moved.code(), "MOVED");
  EXPECT_EQ(moved.detail(), "3999 127.0.0.1:6381");

  const auto err = server_error::parse("ERR unknown command 'FOO', with args beginning with: ");
  EXPECT_EQ(err.kind, server_error_kind::err);
  EXPECT_EQ(err.detail(), "unknown command 'FOO', with args beginning with: ");
}

TEST(ErrorServerError, unknown_first_word_is_other) {
  const auto e = server_error::parse("MYMODULE something failed");
  EXPECT_EQ(e.kind, server_error_kind::other);
  EXPECT_EQ(e.code(), "MYMODULE");
  EXPECT_EQ(e.detail(), "something failed");
  EXPECT_EQ(e.message, "MYMODULE something failed");
  EXPECT_EQ(uredis::to_string(server_error_kind::other), "");
}

TEST(ErrorServerError, prefix_match_is_whole_word_and_case_sensitive) {
  EXPECT_EQ(server_error::parse("ASKING x").kind, server_error_kind::other);
  EXPECT_EQ(server_error::parse("ERROR x").kind, server_error_kind::other);
  EXPECT_EQ(server_error::parse("err x").kind, server_error_kind::other);
  EXPECT_EQ(server_error::parse("Moved 1 h:1").kind, server_error_kind::other);
  EXPECT_EQ(server_error::parse("BUSYKEY Target key name already exists.").kind,
            server_error_kind::busykey);
  EXPECT_EQ(server_error::parse("BUSY Redis is busy running a script.").kind,
            server_error_kind::busy);
  // Only a space ends the word.
  EXPECT_EQ(server_error::parse("ERR\tx").kind, server_error_kind::other);
}

TEST(ErrorServerError, empty_text) {
  const auto e = server_error::parse("");
  EXPECT_EQ(e.kind, server_error_kind::other);
  EXPECT_EQ(e.message, "");
  EXPECT_EQ(e.code(), "");
  EXPECT_EQ(e.detail(), "");
}

TEST(ErrorServerError, spaces_at_the_edges) {
  const auto leading = server_error::parse(" ERR x");
  EXPECT_EQ(leading.kind, server_error_kind::other);
  EXPECT_EQ(leading.code(), "");
  EXPECT_EQ(leading.detail(), "ERR x");

  const auto trailing = server_error::parse("ERR ");
  EXPECT_EQ(trailing.kind, server_error_kind::err);
  EXPECT_EQ(trailing.code(), "ERR");
  EXPECT_EQ(trailing.detail(), "");

  const auto only_space = server_error::parse(" ");
  EXPECT_EQ(only_space.kind, server_error_kind::other);
  EXPECT_EQ(only_space.code(), "");
  EXPECT_EQ(only_space.detail(), "");

  const auto two_spaces = server_error::parse("ERR  x");
  EXPECT_EQ(two_spaces.kind, server_error_kind::err);
  EXPECT_EQ(two_spaces.detail(), " x");
}

TEST(ErrorServerError, message_may_hold_any_bytes) {
  // A bulk error (RESP3 '!') can carry newlines and NUL bytes.
  const std::string text("SYNTAX line one\nline two\0end", 28);
  const auto e = server_error::parse(text);
  EXPECT_EQ(e.kind, server_error_kind::other);
  EXPECT_EQ(e.message, text);
  EXPECT_EQ(e.detail().size(), text.size() - 7);
}

TEST(ErrorServerError, owns_its_message) {
  std::string buffer = "NOSCRIPT No matching script.";
  const auto e = server_error::parse(buffer);
  buffer.assign(buffer.size(), 'x');
  EXPECT_EQ(e.message, "NOSCRIPT No matching script.");
  EXPECT_EQ(e.detail(), "No matching script.");
}

TEST(ErrorServerError, default_is_err_with_empty_message) {
  const server_error e;
  EXPECT_EQ(e.kind, server_error_kind::err);
  EXPECT_EQ(e.code(), "");
  EXPECT_EQ(e.detail(), "");
}

TEST(ErrorServerError, equality_compares_kind_and_message) {
  EXPECT_EQ(server_error::parse("ERR x"), (server_error{server_error_kind::err, "ERR x"}));
  EXPECT_NE(server_error::parse("ERR x"), server_error::parse("ERR y"));
  EXPECT_NE(server_error::parse("ERR x"), (server_error{server_error_kind::other, "ERR x"}));
}

}  // namespace
