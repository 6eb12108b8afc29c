#include "uredis/exceptions.hpp"

#include <array>
#include <cassert>
#include <string_view>

namespace uredis {

error::error(const std::string& what) : std::runtime_error(what) {}

error::error(const std::error_code& ec) : std::runtime_error(ec.message()), code_(ec) {}

error::error(const std::error_code& ec, const std::string& what)
    : std::runtime_error(what), code_(ec) {}

error::error(const uredis::server_error& e)
    : std::runtime_error(e.message),
      server_error_(std::make_shared<const uredis::server_error>(e)) {}

namespace {

template <class Exception, class Source>
std::exception_ptr make(const Source& source) {
  return std::make_exception_ptr(Exception(source));
}

// Every value is listed so that a new errc fails to compile (-Wswitch) until it is mapped.
std::exception_ptr map_uredis_code(const std::error_code& ec) {
  switch (static_cast<errc>(ec.value())) {
    case errc::invalid_type_byte:
    case errc::invalid_integer:
    case errc::invalid_length:
    case errc::invalid_double:
    case errc::invalid_boolean:
    case errc::invalid_null:
    case errc::invalid_big_number:
    case errc::invalid_verbatim:
    case errc::missing_crlf:
    case errc::line_too_long:
    case errc::bulk_too_large:
    case errc::aggregate_too_large:
    case errc::nesting_too_deep:
    case errc::unexpected_reply:
    // Input that stops mid-reply is not a reply: a response problem, not the caller's type.
    case errc::incomplete_reply:
      return make<invalid_response_error>(ec);
    case errc::type_mismatch:
    case errc::unexpected_null:
    case errc::unexpected_server_error:
    // A URL the caller wrote (redis-py raises ValueError): bad input, not a server problem.
    case errc::invalid_url:
    case errc::invalid_shard_count:
    // A configuration this build cannot honour: sending in plaintext instead would leak.
    case errc::tls_unavailable:
    case errc::tls_config_invalid:
    // A command the caller sent to the wrong connection: redis-py raises RedisError there.
    case errc::subscriber_only:
    case errc::not_one_reply:
    case errc::reset_refused:
      return make<data_error>(ec);
    case errc::timeout:
      return make<timeout_error>(ec);
    case errc::connection_refused:
    case errc::connection_reset:
    case errc::connection_closed:
    case errc::not_connected:
    case errc::handshake_failed:
    // The connection failed under a written command; redis-py raises ConnectionError there.
    case errc::outcome_unknown:
    // The server is unreachable for now; redis-py raises ConnectionError when it cannot connect.
    case errc::queue_full:
    // redis-py raises ConnectionError for every SSL failure of a connect.
    case errc::tls_handshake_failed:
    case errc::tls_certificate_untrusted:
    case errc::tls_certificate_expired:
    case errc::tls_host_name_mismatch:
    case errc::tls_certificate_rejected:
    case errc::tls_peer_alert:
    case errc::tls_record_invalid:
    case errc::tls_certificate_revoked:
    case errc::ocsp_response_invalid:
    case errc::ocsp_staple_missing:
    case errc::ocsp_responder_unavailable:
    case errc::tls_peer_not_tls:
    // redis-py raises MasterNotFoundError, a ConnectionError, when no Sentinel names a primary,
    // and ConnectionError when the master it reached turned out a replica.
    case errc::sentinel_unreachable:
    case errc::sentinel_service_unknown:
    case errc::sentinel_reply_invalid:
    case errc::role_mismatch:
    case errc::primary_switched:
      return make<connection_error>(ec);
    case errc::server_loading:
      return make<busy_loading_error>(ec);
    // Credentials that are missing or refused: redis-py raises AuthenticationError.
    case errc::credentials_expired:
    case errc::credentials_rejected:
      return make<authentication_error>(ec);
    // redis-py raises WatchError when EXEC answers null.
    case errc::watch_conflict:
    case errc::watch_lost:
      return make<watch_error>(ec);
    // redis-py raises LockNotOwnedError when release or extend finds another token.
    case errc::lock_not_owned:
      return make<lock_not_owned_error>(ec);
    // redis-py raises RedisClusterException when the cluster's topology cannot be read.
    case errc::cluster_topology_invalid:
    case errc::cluster_cross_slot:
    case errc::cluster_too_many_redirects:
    case errc::cluster_slot_unserved:
      return make<cluster_error>(ec);
    // This machine cannot run uredis at all; no retry helps, so not a connection_error.
    case errc::io_uring_unsupported:
    case errc::io_uring_disabled:
    case errc::io_uring_memlock_limit:
    // The program is shutting its runtime down: nothing to retry, nothing redis-py has.
    case errc::runtime_stopped:
      return make<error>(ec);
  }
  return make<error>(ec);  // a value outside the enum
}

// errno values (system or generic category, or any category that maps onto them) that mean
// the connection is gone or was never made.
constexpr std::array<std::errc, 9> connection_conditions{
    std::errc::connection_refused,  std::errc::connection_reset, std::errc::connection_aborted,
    std::errc::broken_pipe,         std::errc::not_connected,    std::errc::host_unreachable,
    std::errc::network_unreachable, std::errc::network_down,     std::errc::network_reset,
};

// redis-py's exact "ERR <detail>" table (redis/_parsers/base.py, EXCEPTION_CLASSES["ERR"]).
enum class err_class : std::uint8_t {
  max_connections,
  authentication,
  auth_arity,
  module,
  connection
};

struct err_row {
  std::string_view detail;
  err_class cls;
};

constexpr std::array<err_row, 11> err_table{{
    {"max number of clients reached", err_class::max_connections},
    {"invalid password", err_class::authentication},
    {"Client sent AUTH, but no password is set", err_class::authentication},  // Redis < 6
    {"AUTH <password> called without any password configured for the default user. Are you "
     "sure your configuration is correct?",
     err_class::authentication},  // Redis >= 6
    {"wrong number of arguments for 'auth' command", err_class::auth_arity},
    {"wrong number of arguments for 'AUTH' command", err_class::auth_arity},
    {"Error loading the extension. Please check the server logs.", err_class::module},
    {"Error unloading module: no such module with that name", err_class::module},
    {"Error unloading module: operation not possible.", err_class::module},
    {"Error unloading module: the module exports one or more module-side data types, can't "
     "unload",
     err_class::module},
    // redis-py's ExternalAuthProviderError, a ConnectionError.
    {"problem with LDAP service", err_class::connection},
}};

std::exception_ptr map_err(const server_error& e) {
  const std::string_view detail = e.detail();
  for (const auto& row : err_table) {
    if (row.detail != detail) continue;
    switch (row.cls) {
      case err_class::max_connections:
        return make<max_connections_error>(e);
      case err_class::authentication:
        return make<authentication_error>(e);
      case err_class::auth_arity:
        return make<auth_wrong_number_of_args_error>(e);
      case err_class::module:
        return make<module_error>(e);
      case err_class::connection:
        return make<connection_error>(e);
    }
  }
  return make<response_error>(e);
}

}  // namespace

std::exception_ptr make_exception_ptr(const std::error_code& ec) {
  assert(ec && "a success code is not an error");
  if (ec.category() == category()) return map_uredis_code(ec);
  if (ec == std::errc::timed_out) return make<timeout_error>(ec);
  for (const auto condition : connection_conditions) {
    if (ec == condition) return make<connection_error>(ec);
  }
  return make<error>(ec);
}

std::exception_ptr make_exception_ptr(const server_error& e) {
  using k = server_error_kind;
  switch (e.kind) {
    case k::err:
      return map_err(e);
    case k::noscript:
      return make<no_script_error>(e);
    case k::oom:
      return make<out_of_memory_error>(e);
    case k::execabort:
      return make<exec_abort_error>(e);
    case k::readonly:
      return make<read_only_error>(e);
    case k::noperm:
      return make<no_permission_error>(e);
    case k::moved:
      return make<moved_error>(e);
    case k::ask:
      return make<ask_error>(e);
    case k::tryagain:
      return make<try_again_error>(e);
    case k::crossslot:
      return make<cross_slot_error>(e);
    case k::clusterdown:
      return make<cluster_down_error>(e);
    case k::masterdown:
      return make<master_down_error>(e);
    case k::loading:
      return make<busy_loading_error>(e);
    case k::noauth:
    case k::wrongpass:
      return make<authentication_error>(e);
    case k::other:
    case k::wrongtype:
    case k::busy:
    case k::busykey:
    case k::notbusy:
    case k::noproto:
    case k::noreplicas:
    case k::busygroup:
    case k::nogroup:
    case k::misconf:
    case k::unblocked:
      return make<response_error>(e);
  }
  return make<response_error>(e);  // a value outside the enum
}

void throw_exception(const std::error_code& ec) {
  std::rethrow_exception(make_exception_ptr(ec));
}

void throw_exception(const server_error& e) {
  std::rethrow_exception(make_exception_ptr(e));
}

}  // namespace uredis
