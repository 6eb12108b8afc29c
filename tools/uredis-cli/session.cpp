#include "session.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "uredis/cmd/raw.hpp"
#include "uredis/error.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis::cli {
namespace {

bool readable(const std::string& path) {
  return ::access(path.c_str(), R_OK) == 0;
}

// What redis-cli would name when TLS options do not load: the file that cannot be read, else
// the library's description (a file that does not parse, a key that does not match, a cipher
// list that is not usable).
std::string tls_config_problem(const tls::options& t) {
  if ((!t.ca_file.empty() && !readable(t.ca_file)) || (!t.ca_path.empty() && !readable(t.ca_path)))
    return "Invalid CA Certificate File/Directory";
  if (!t.cert_file.empty() && !readable(t.cert_file)) return "Invalid client certificate";
  if (!t.key_file.empty() && !readable(t.key_file)) return "Invalid private key";
  return make_error_code(errc::tls_config_invalid).message();
}

}  // namespace

std::unique_ptr<session> session::create(const server_options& server, std::FILE* err,
                                         bool reconnect, std::size_t max_waiting) {
  auto r = reactor::reactor::create();
  if (!r) {
    std::fprintf(err, "uredis-cli: cannot start the event loop: %s\n", r.error().message().c_str());
    return nullptr;
  }
  return std::unique_ptr<session>(new session(std::move(*r), server, err, reconnect, max_waiting));
}

session::session(std::unique_ptr<reactor::reactor> r, const server_options& server, std::FILE* err,
                 bool reconnect, std::size_t max_waiting)
    : server_(server),
      err_(err),
      reconnect_(reconnect),
      max_waiting_(max_waiting),
      reactor_(std::move(r)) {
  make_connection();
}

void session::make_connection() {
  connection_config config;
  config.host = server_.host;
  config.port = server_.port;
  config.unix_socket = server_.unix_socket;
  tools::apply_to(server_.tls, config);
  if (server_.sentinel.enabled()) {
    locator_ = std::make_shared<sentinel::primary_locator>(*reactor_, server_.sentinel);
    config.address = locator_;
    // The handshake checks ROLE, which a protected primary answers only once authenticated:
    // the credentials go in the handshake, not in a step after it.
    if (server_.user) config.username = *server_.user;
    config.password = server_.password;
  }
  // Everything else (AUTH, SELECT, HELLO 3) is done by open(), step by step.
  config.protocol = resp_version::resp2;
  // One command: as redis-cli, a lost connection is reported at once. Commands from stdin: the
  // library's default policy reconnects and resends what is safe.
  if (reconnect_) {
    config.max_queued_while_disconnected = max_waiting_;
  } else {
    config.retry = retry::retry_policy::never();
  }
  // Either way a server that is not there is reported at once, as redis-cli does.
  config.retry_first_connect = false;
  connection_ = std::make_unique<uredis::connection>(*reactor_, std::move(config));
  if (reconnect_) {
    replay_ = std::make_unique<replay_step>(setup_);
    connection_->add_handshake_step(*replay_);
  }
}

session::opened session::move_to(const std::string& host, std::uint16_t port) {
  // The step leaves the old connection's list before that connection goes (it is freed at the
  // end of the loop turn).
  replay_.reset();
  connection_.reset();
  server_.host = host;
  server_.port = port;
  server_.unix_socket.clear();
  setup_ = session_setup{};
  opening_failure_ = {};
  make_connection();
  return open_steps();
}

bool session::revive() {
  if (connection_->state() != connection_state::closed) return false;
  connection_->connect();
  return true;
}

std::string session::error_text(const std::error_code& ec) const {
  if (ec == errc::connection_refused) {
    // The io layer maps ENOENT (a socket path with no file) to connection_refused too; the
    // file's absence tells the two apart.
    struct stat st;
    if (!server_.unix_socket.empty() && ::lstat(server_.unix_socket.c_str(), &st) != 0 &&
        errno == ENOENT)
      return std::strerror(ENOENT);
    return std::strerror(ECONNREFUSED);
  }
  if (ec == errc::connection_reset) return std::strerror(ECONNRESET);
  if (ec == errc::timeout) return std::strerror(ETIMEDOUT);
  if (ec == errc::not_connected) return std::strerror(ENOTCONN);
  if (ec == errc::connection_closed) return "Server closed the connection";
  if (ec.category() == std::system_category()) return std::strerror(ec.value());
  // redis-cli's words (OpenSSL's) for a chain that does not verify; the other certificate
  // failures say which check failed.
  if (ec == errc::tls_certificate_untrusted) return "SSL_connect failed: certificate verify failed";
  if (ec == errc::tls_certificate_expired || ec == errc::tls_host_name_mismatch ||
      ec == errc::tls_certificate_rejected || ec == errc::tls_handshake_failed ||
      ec == errc::tls_peer_alert)
    return "SSL_connect failed: " + ec.message();
  return ec.message();
}

result<resp::reply> session::call(std::span<const std::string> args) {
  std::optional<result<resp::reply>> got;
  connection_->exec(cmd::raw<resp::reply>{args},
                    [&got](result<resp::reply> r) { got.emplace(std::move(r)); });
  reactor_->run_until([&got] { return got.has_value(); });
  return std::move(*got);
}

bool session::step(std::span<const std::string> args, const std::string& prefix, bool& broken) {
  const result<resp::reply> r = call(args);
  if (r.has_error()) {
    const std::error_code ec = opening_failure_ ? opening_failure_ : r.error();
    std::fprintf(err_, "Error: %s\n", error_text(ec).c_str());
    broken = true;
    return false;
  }
  if (r.has_server_error()) {
    // redis-cli prints the error's text as a C string.
    const std::string& text = r.server_error().message;
    std::fprintf(err_, "%s failed: %s\n", prefix.c_str(), text.c_str());
    return false;
  }
  return true;
}

session::opened session::open_steps() {
  std::optional<result<void>> outcome;
  // Nothing is retried until the set-up is done. The connect itself is not
  // (retry_first_connect); a failure during the set-up steps below, once connected, closes the
  // connection (the policy would otherwise try again), and is the one reported.
  event::listener<event::reconnect_scheduled> no_retry(reactor_->events(),
                                                       [this](const event::reconnect_scheduled& e) {
                                                         if (!opening_failure_)
                                                           opening_failure_ = e.cause;
                                                         connection_->close();
                                                       });
  connection_->connect([&outcome](const result<void>& o) { outcome = o; });
  reactor_->run_until([&outcome] { return outcome.has_value(); });
  if (!outcome->has_value()) {
    const std::string reason = opening_failure_       ? error_text(opening_failure_)
                               : outcome->has_error() ? error_text(outcome->error())
                                                      : outcome->server_error().message;
    const std::error_code ec = opening_failure_       ? opening_failure_
                               : outcome->has_error() ? outcome->error()
                                                      : std::error_code{};
    if (ec == errc::tls_config_invalid)
      std::fprintf(err_, "Could not negotiate a TLS connection: %s\n",
                   tls_config_problem(server_.tls.options).c_str());
    else if (server_.sentinel.enabled())
      std::fprintf(err_, "Could not connect to Redis through Sentinel (service %s): %s\n",
                   server_.sentinel.service.c_str(), reason.c_str());
    else if (server_.unix_socket.empty())
      std::fprintf(err_, "Could not connect to Redis at %s:%u: %s\n", server_.host.c_str(),
                   static_cast<unsigned>(server_.port), reason.c_str());
    else
      std::fprintf(err_, "Could not connect to Redis at %s: %s\n", server_.unix_socket.c_str(),
                   reason.c_str());
    return opened::unreachable;
  }

  bool broken = false;
  if (const endpoint* at = connection_->provided_endpoint(); locator_ != nullptr && at) {
    // Raw connections (--pipe, SUBSCRIBE, MONITOR) go where the connection went: the primary,
    // or the replica sentinel_role=replica chose; not to a -s socket given beside the URL.
    server_.host = at->host;
    server_.port = at->port;
    server_.unix_socket.clear();
    setup_.user = server_.user;
    setup_.password = server_.password;
  } else if (server_.password) {
    std::vector<std::string> auth{"AUTH"};
    if (server_.user) auth.push_back(*server_.user);
    auth.push_back(*server_.password);
    if (!step(auth, "AUTH", broken)) return broken ? opened::unreachable : opened::refused;
    setup_.user = server_.user;
    setup_.password = server_.password;
  }
  if (server_.db != 0) {
    const std::string db = std::to_string(server_.db);
    const std::string select[] = {"SELECT", db};
    if (!step(select, "SELECT " + db, broken))
      return broken ? opened::unreachable : opened::refused;
    setup_.db = server_.db;
  }
  if (server_.resp3) {
    const std::string hello[] = {"HELLO", "3"};
    if (!step(hello, "HELLO 3", broken)) return broken ? opened::unreachable : opened::refused;
    setup_.resp3 = true;
  }
  return opened::ready;
}

}  // namespace uredis::cli
