#include "uredis/exceptions.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <type_traits>
#include <typeinfo>

namespace {

using uredis::errc;
using uredis::server_error;

// The tree, edge by edge (redis-py's exceptions.py).
template <class Base, class Derived>
constexpr bool is_a = std::is_base_of_v<Base, Derived>;

static_assert(is_a<std::runtime_error, uredis::error>);
static_assert(is_a<uredis::error, uredis::connection_error>);
static_assert(is_a<uredis::connection_error, uredis::authentication_error>);
static_assert(is_a<uredis::connection_error, uredis::authorization_error>);
static_assert(is_a<uredis::connection_error, uredis::busy_loading_error>);
static_assert(is_a<uredis::connection_error, uredis::max_connections_error>);
static_assert(is_a<uredis::error, uredis::timeout_error>);
static_assert(is_a<uredis::error, uredis::invalid_response_error>);
static_assert(is_a<uredis::error, uredis::response_error>);
static_assert(is_a<uredis::response_error, uredis::no_script_error>);
static_assert(is_a<uredis::response_error, uredis::out_of_memory_error>);
static_assert(is_a<uredis::response_error, uredis::exec_abort_error>);
static_assert(is_a<uredis::response_error, uredis::read_only_error>);
static_assert(is_a<uredis::response_error, uredis::no_permission_error>);
static_assert(is_a<uredis::response_error, uredis::module_error>);
static_assert(is_a<uredis::response_error, uredis::auth_wrong_number_of_args_error>);
static_assert(is_a<uredis::response_error, uredis::ask_error>);
static_assert(is_a<uredis::ask_error, uredis::moved_error>);
static_assert(is_a<uredis::response_error, uredis::try_again_error>);
static_assert(is_a<uredis::response_error, uredis::cross_slot_error>);
static_assert(is_a<uredis::response_error, uredis::cluster_down_error>);
static_assert(is_a<uredis::cluster_down_error, uredis::master_down_error>);
static_assert(is_a<uredis::error, uredis::data_error>);
static_assert(is_a<uredis::error, uredis::pubsub_error>);
static_assert(is_a<uredis::error, uredis::watch_error>);
static_assert(is_a<uredis::error, uredis::cluster_error>);
static_assert(is_a<uredis::error, uredis::lock_error>);
static_assert(is_a<uredis::lock_error, uredis::lock_not_owned_error>);
// Branches that must stay apart.
static_assert(!is_a<uredis::response_error, uredis::authentication_error>);
static_assert(!is_a<uredis::connection_error, uredis::timeout_error>);
static_assert(!is_a<uredis::moved_error, uredis::ask_error>);
static_assert(!is_a<uredis::response_error, uredis::invalid_response_error>);
static_assert(!is_a<uredis::response_error, uredis::data_error>);
static_assert(!is_a<uredis::response_error, uredis::cluster_error>);
// Throwing copies an exception; that must not throw.
static_assert(std::is_nothrow_copy_constructible_v<uredis::moved_error>);
static_assert(std::is_nothrow_copy_constructible_v<uredis::error>);

// Rethrows `p` and reports whether it is caught as E (and, if so, lets `check` look at it).
template <class E, class Check = void (*)(const E&)>
bool caught_as(
    const std::exception_ptr& p, Check check = [](const E&) {}) {
  try {
    std::rethrow_exception(p);
  } catch (const E& e) {
    check(e);
    return true;
  } catch (...) {
    return false;
  }
}

// True if the most derived type of the exception in `p` is exactly E.
template <class E>
bool is_exactly(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    return typeid(e) == typeid(E);
  }
}

template <class E>
void expect_server_maps_to(const std::string& text) {
  SCOPED_TRACE(text);
  const server_error e = server_error::parse(text);
  const auto p = uredis::make_exception_ptr(e);
  EXPECT_TRUE(is_exactly<E>(p)) << "got another class";
  EXPECT_TRUE(caught_as<E>(p, [&](const E& x) {
    EXPECT_EQ(std::string(x.what()), text);
    ASSERT_NE(x.server_error(), nullptr);
    EXPECT_EQ(*x.server_error(), e);
    EXPECT_FALSE(x.code());
  }));
  // The throwing entry point agrees with the exception_ptr one.
  EXPECT_THROW(uredis::throw_exception(e), E);
  try {
    uredis::throw_exception(e);
  } catch (const std::exception& x) {
    EXPECT_TRUE(typeid(x) == typeid(E));
  }
}

template <class E>
void expect_code_maps_to(const std::error_code& ec) {
  SCOPED_TRACE(ec.category().name() + std::string(":") + std::to_string(ec.value()));
  const auto p = uredis::make_exception_ptr(ec);
  EXPECT_TRUE(is_exactly<E>(p)) << "got another class";
  EXPECT_TRUE(caught_as<E>(p, [&](const E& x) {
    EXPECT_EQ(x.code(), ec);
    EXPECT_EQ(std::string(x.what()), ec.message());
    EXPECT_EQ(x.server_error(), nullptr);
  }));
  EXPECT_THROW(uredis::throw_exception(ec), E);
  try {
    uredis::throw_exception(ec);
  } catch (const std::exception& x) {
    EXPECT_TRUE(typeid(x) == typeid(E));
  }
}

std::error_code sys(int e) {
  return {e, std::system_category()};
}
std::error_code gen(int e) {
  return {e, std::generic_category()};
}

TEST(ExceptionsServer, by_kind) {
  expect_server_maps_to<uredis::no_script_error>("NOSCRIPT No matching script. Please use EVAL.");
  expect_server_maps_to<uredis::out_of_memory_error>(
      "OOM command not allowed when used memory > 'maxmemory'.");
  expect_server_maps_to<uredis::exec_abort_error>(
      "EXECABORT Transaction discarded because of previous errors.");
  expect_server_maps_to<uredis::read_only_error>(
      "READONLY You can't write against a read only replica.");
  expect_server_maps_to<uredis::no_permission_error>(
      "NOPERM User u has no permissions to run the 'get' command");
  expect_server_maps_to<uredis::moved_error>("MOVED 3999 127.0.0.1:6381");
  expect_server_maps_to<uredis::ask_error>("ASK 3999 127.0.0.1:6381");
  expect_server_maps_to<uredis::try_again_error>(
      "TRYAGAIN Multiple keys request during rehashing of slot");
  expect_server_maps_to<uredis::cross_slot_error>(
      "CROSSSLOT Keys in request don't hash to the same slot");
  expect_server_maps_to<uredis::cluster_down_error>("CLUSTERDOWN The cluster is down");
  expect_server_maps_to<uredis::master_down_error>(
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  expect_server_maps_to<uredis::busy_loading_error>(
      "LOADING Redis is loading the dataset in memory");
  expect_server_maps_to<uredis::authentication_error>("NOAUTH Authentication required.");
  expect_server_maps_to<uredis::authentication_error>(
      "WRONGPASS invalid username-password pair or user is disabled.");
}

TEST(ExceptionsServer, other_kinds_are_response_errors) {
  expect_server_maps_to<uredis::response_error>(
      "WRONGTYPE Operation against a key holding the wrong kind of value");
  expect_server_maps_to<uredis::response_error>("BUSY Redis is busy running a script.");
  expect_server_maps_to<uredis::response_error>("BUSYKEY Target key name already exists.");
  expect_server_maps_to<uredis::response_error>("NOTBUSY No scripts in execution right now.");
  expect_server_maps_to<uredis::response_error>("NOPROTO unsupported protocol version");
  expect_server_maps_to<uredis::response_error>("NOREPLICAS Not enough good replicas to write.");
  expect_server_maps_to<uredis::response_error>("BUSYGROUP Consumer Group name already exists");
  expect_server_maps_to<uredis::response_error>("NOGROUP No such key 's' or consumer group 'g'");
  expect_server_maps_to<uredis::response_error>("MISCONF Redis is configured to save RDB...");
  expect_server_maps_to<uredis::response_error>("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  expect_server_maps_to<uredis::response_error>("MYMODULE custom failure");
  expect_server_maps_to<uredis::response_error>("");
  expect_server_maps_to<uredis::response_error>("ERR unknown command 'FOO'");
  expect_server_maps_to<uredis::response_error>("ERR");
}

TEST(ExceptionsServer, err_exact_messages) {
  expect_server_maps_to<uredis::max_connections_error>("ERR max number of clients reached");
  expect_server_maps_to<uredis::authentication_error>("ERR invalid password");
  expect_server_maps_to<uredis::authentication_error>(
      "ERR Client sent AUTH, but no password is set");
  expect_server_maps_to<uredis::authentication_error>(
      "ERR AUTH <password> called without any password configured for the default user. Are "
      "you sure your configuration is correct?");
  expect_server_maps_to<uredis::auth_wrong_number_of_args_error>(
      "ERR wrong number of arguments for 'auth' command");
  expect_server_maps_to<uredis::auth_wrong_number_of_args_error>(
      "ERR wrong number of arguments for 'AUTH' command");
  expect_server_maps_to<uredis::module_error>(
      "ERR Error loading the extension. Please check the server logs.");
  expect_server_maps_to<uredis::module_error>(
      "ERR Error unloading module: no such module with that name");
  expect_server_maps_to<uredis::module_error>(
      "ERR Error unloading module: operation not possible.");
  expect_server_maps_to<uredis::module_error>(
      "ERR Error unloading module: the module exports one or more module-side data types, "
      "can't unload");
  expect_server_maps_to<uredis::connection_error>("ERR problem with LDAP service");
}

TEST(ExceptionsServer, err_messages_match_exactly) {
  // Only the exact detail counts: other commands' arity errors, other kinds, near misses.
  expect_server_maps_to<uredis::response_error>("ERR wrong number of arguments for 'get' command");
  expect_server_maps_to<uredis::response_error>("ERR wrong number of arguments for 'Auth' command");
  expect_server_maps_to<uredis::response_error>("ERR invalid password ");
  expect_server_maps_to<uredis::response_error>("ERR  invalid password");
  expect_server_maps_to<uredis::response_error>("ERR max number of clients reached.");
  expect_server_maps_to<uredis::response_error>("WRONGTYPE invalid password");
  expect_server_maps_to<uredis::response_error>("invalid password");
}

TEST(ExceptionsServer, moved_is_caught_as_every_base) {
  const server_error e = server_error::parse("MOVED 3999 127.0.0.1:6381");
  EXPECT_THROW(uredis::throw_exception(e), uredis::moved_error);
  EXPECT_THROW(uredis::throw_exception(e), uredis::ask_error);
  EXPECT_THROW(uredis::throw_exception(e), uredis::response_error);
  EXPECT_THROW(uredis::throw_exception(e), uredis::error);
  EXPECT_THROW(uredis::throw_exception(e), std::runtime_error);
  EXPECT_FALSE(caught_as<uredis::connection_error>(uredis::make_exception_ptr(e)));
}

TEST(ExceptionsServer, ask_is_not_a_moved) {
  const auto p = uredis::make_exception_ptr(server_error::parse("ASK 1 h:1"));
  EXPECT_TRUE(caught_as<uredis::ask_error>(p));
  EXPECT_FALSE(caught_as<uredis::moved_error>(p));
}

TEST(ExceptionsServer, auth_failures_are_connection_errors) {
  const server_error e = server_error::parse("NOAUTH Authentication required.");
  EXPECT_THROW(uredis::throw_exception(e), uredis::connection_error);
  EXPECT_FALSE(caught_as<uredis::response_error>(uredis::make_exception_ptr(e)));
  EXPECT_THROW(uredis::throw_exception(server_error::parse("LOADING loading")),
               uredis::connection_error);
  EXPECT_THROW(uredis::throw_exception(server_error::parse("ERR max number of clients reached")),
               uredis::connection_error);
}

TEST(ExceptionsServer, master_down_is_a_cluster_down) {
  EXPECT_THROW(uredis::throw_exception(server_error::parse("MASTERDOWN x")),
               uredis::cluster_down_error);
}

TEST(ExceptionsServer, kind_decides_not_message_prefix) {
  // A server_error built by hand keeps its kind even if the text says otherwise.
  const server_error e{uredis::server_error_kind::moved, "custom text"};
  const auto p = uredis::make_exception_ptr(e);
  EXPECT_TRUE(is_exactly<uredis::moved_error>(p));
  EXPECT_TRUE(caught_as<uredis::moved_error>(
      p, [](const uredis::moved_error& x) { EXPECT_STREQ(x.what(), "custom text"); }));
}

TEST(ExceptionsCode, protocol_errors_are_invalid_responses) {
  for (int v = static_cast<int>(errc::invalid_type_byte);
       v <= static_cast<int>(errc::unexpected_reply); ++v) {
    const std::error_code ec(v, uredis::category());
    ASSERT_TRUE(uredis::is_protocol_error(ec));
    expect_code_maps_to<uredis::invalid_response_error>(ec);
  }
  expect_code_maps_to<uredis::invalid_response_error>(errc::incomplete_reply);
}

TEST(ExceptionsCode, adapter_errors_are_data_errors) {
  expect_code_maps_to<uredis::data_error>(errc::type_mismatch);
  expect_code_maps_to<uredis::data_error>(errc::unexpected_null);
  expect_code_maps_to<uredis::data_error>(errc::unexpected_server_error);
}

TEST(ExceptionsCode, uredis_transport_codes) {
  expect_code_maps_to<uredis::timeout_error>(errc::timeout);
  expect_code_maps_to<uredis::connection_error>(errc::connection_refused);
  expect_code_maps_to<uredis::connection_error>(errc::connection_reset);
  expect_code_maps_to<uredis::connection_error>(errc::connection_closed);
  expect_code_maps_to<uredis::connection_error>(errc::not_connected);
}

TEST(ExceptionsCode, transactions_that_did_not_run_are_watch_errors) {
  expect_code_maps_to<uredis::watch_error>(errc::watch_conflict);
  expect_code_maps_to<uredis::watch_error>(errc::watch_lost);
}

TEST(ExceptionsCode, a_lock_held_by_someone_else_is_lock_not_owned) {
  expect_code_maps_to<uredis::lock_not_owned_error>(errc::lock_not_owned);
}

TEST(ExceptionsCode, unknown_uredis_value_is_a_plain_error) {
  expect_code_maps_to<uredis::error>(std::error_code(999, uredis::category()));
}

TEST(ExceptionsCode, errno_values) {
  for (auto make : {sys, gen}) {
    expect_code_maps_to<uredis::timeout_error>(make(ETIMEDOUT));
    for (int e : {ECONNREFUSED, ECONNRESET, EPIPE, ENOTCONN, EHOSTUNREACH, ENETUNREACH,
                  ECONNABORTED, ENETDOWN, ENETRESET}) {
      expect_code_maps_to<uredis::connection_error>(make(e));
    }
    for (int e : {EINVAL, ENOMEM, EACCES, EAGAIN, EBADF}) {
      expect_code_maps_to<uredis::error>(make(e));
    }
  }
}

TEST(ExceptionsCode, foreign_category_is_a_plain_error) {
  expect_code_maps_to<uredis::error>(std::make_error_code(std::io_errc::stream));
}

TEST(ExceptionsCode, message_is_the_code_message) {
  try {
    uredis::throw_exception(errc::connection_refused);
  } catch (const uredis::connection_error& e) {
    EXPECT_STREQ(e.what(), "connection refused");
    EXPECT_EQ(e.code(), errc::connection_refused);
  }
  try {
    uredis::throw_exception(sys(ECONNREFUSED));
  } catch (const uredis::connection_error& e) {
    EXPECT_STREQ(e.what(), "Connection refused");  // glibc's strerror
  }
}

TEST(Exceptions, constructed_directly) {
  const uredis::lock_not_owned_error lock("Cannot release a lock that's no longer owned");
  EXPECT_STREQ(lock.what(), "Cannot release a lock that's no longer owned");
  EXPECT_FALSE(lock.code());
  EXPECT_EQ(lock.server_error(), nullptr);
  const uredis::lock_error& base = lock;
  EXPECT_STREQ(base.what(), lock.what());

  const uredis::watch_error watch(errc::connection_closed, "Watched variable changed.");
  EXPECT_STREQ(watch.what(), "Watched variable changed.");
  EXPECT_EQ(watch.code(), errc::connection_closed);

  const uredis::data_error data{std::error_code(errc::type_mismatch)};
  EXPECT_STREQ(data.what(), "reply type does not match the requested C++ type");
}

TEST(Exceptions, copies_share_the_server_error) {
  const uredis::response_error a(server_error::parse("ERR x"));
  const uredis::response_error b = a;
  ASSERT_NE(b.server_error(), nullptr);
  EXPECT_EQ(b.server_error(), a.server_error());
  EXPECT_EQ(b.server_error()->message, "ERR x");
  EXPECT_STREQ(b.what(), "ERR x");
}

}  // namespace
