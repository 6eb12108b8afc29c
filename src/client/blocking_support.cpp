#include "blocking_support.hpp"

#include <string>
#include <system_error>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/exceptions.hpp"

namespace uredis::detail {

std::unique_ptr<reactor::reactor> make_blocking_reactor(const reactor::reactor_options& options) {
  result<std::unique_ptr<reactor::reactor>> r = reactor::reactor::create(options);
  if (!r) throw_exception(r.error());
  return std::move(*r);
}

connection_config config_from_url(std::string_view url) {
  std::string_view reason;
  result<connection_config> parsed = parse_url(url, &reason);
  if (!parsed) throw data_error(parsed.error(), "invalid Redis URL: " + std::string(reason));
  return std::move(*parsed);
}

void throw_connect_failure(const result<void>& outcome, std::string_view what) {
  if (outcome.has_error()) {
    const std::error_code& ec = outcome.error();
    const std::string message = std::string(what) + ": " + ec.message();
    if (ec == std::errc::timed_out) throw timeout_error(ec, message);
    if (ec == errc::tls_unavailable || ec == errc::tls_config_invalid)
      throw data_error(ec, message);
    if (ec == errc::cluster_topology_invalid) throw cluster_error(ec, message);
    throw connection_error(ec, message);
  }
  const server_error& e = outcome.server_error();
  try {
    throw_exception(e);
  } catch (const connection_error&) {
    throw;
  } catch (const error&) {
    throw connection_error(e);
  }
}

}  // namespace uredis::detail
