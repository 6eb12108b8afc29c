#pragma once
// What every blocking face (uredis::blocking_client, cluster::blocking_client) does the same
// way when it starts: its own reactor, a URL read into a config, and a failed first connect
// turned into the exception the caller catches.

#include <memory>
#include <string_view>

#include "uredis/client/config.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"

namespace uredis::detail {

/// A reactor of its own; io_uring unavailable throws a plain uredis::error.
std::unique_ptr<reactor::reactor> make_blocking_reactor(const reactor::reactor_options& options);

/// parse_url, or a data_error saying what is wrong with the URL.
connection_config config_from_url(std::string_view url);

/// A first connect that failed, as an exception whose message starts with `what`
/// ("cannot connect to 127.0.0.1:6379"): timeout_error for a connect timeout; data_error for a
/// TLS config this build cannot honour (the caller's to fix, not a connection to retry);
/// cluster_error for a node that is not a cluster node; an authentication_error for refused
/// credentials; otherwise connection_error.
[[noreturn]] void throw_connect_failure(const result<void>& outcome, std::string_view what);

}  // namespace uredis::detail
