#pragma once
// The exception tree of the blocking API, mirroring redis-py's `exceptions.py` so scripts and
// tools read naturally. Only the blocking API (and result<T>::value()) throws; the reactor path
// carries the same failures as std::error_code and server_error values (error.hpp).
//
//   error                              (std::runtime_error)
//   ├── connection_error
//   │   ├── authentication_error
//   │   ├── authorization_error
//   │   ├── busy_loading_error
//   │   └── max_connections_error
//   ├── timeout_error
//   ├── invalid_response_error         malformed RESP: the connection was dropped
//   ├── response_error                 a server error reply
//   │   ├── no_script_error, out_of_memory_error, exec_abort_error, read_only_error,
//   │   │   no_permission_error, module_error, auth_wrong_number_of_args_error,
//   │   │   try_again_error, cross_slot_error
//   │   ├── ask_error
//   │   │   └── moved_error
//   │   └── cluster_down_error
//   │       └── master_down_error
//   ├── data_error                     the reply does not fit the type asked for
//   ├── pubsub_error, watch_error, cluster_error
//   └── lock_error
//       └── lock_not_owned_error
//
// Departures from redis-py, because C++ single inheritance from std::runtime_error cannot share
// a base twice: cluster_down_error is a response_error only (redis-py also makes it a
// ClusterError). "ERR max number of clients reached" raises max_connections_error (redis-py: a
// plain ConnectionError; its MaxConnectionsError is pool exhaustion), still a connection_error.
//
// Every exception carries what it was made from: code() for a std::error_code (empty for a
// server error or a plain message), server_error() for a server reply (null otherwise). what()
// is the server's whole text ("MOVED 3999 127.0.0.1:6381") or the code's message ("connection
// refused"). Copying an exception never throws: the server_error is shared, not copied.

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "uredis/error.hpp"

namespace uredis {

class error : public std::runtime_error {
 public:
  /// A failure described only by text (raised by higher layers: locks, pub/sub, watch...).
  explicit error(const std::string& what);
  /// A library, transport or kernel failure; what() is ec.message().
  explicit error(const std::error_code& ec);
  error(const std::error_code& ec, const std::string& what);
  /// A server error reply; what() is its whole message.
  explicit error(const uredis::server_error& e);

  /// The code this exception was made from; empty (value 0) for a server error or plain text.
  const std::error_code& code() const noexcept { return code_; }
  /// The server reply this exception was made from, or nullptr.
  const uredis::server_error* server_error() const noexcept { return server_error_.get(); }

 private:
  std::error_code code_;
  std::shared_ptr<const uredis::server_error> server_error_;
};

class connection_error : public error {
 public:
  using error::error;
};
class authentication_error : public connection_error {
 public:
  using connection_error::connection_error;
};
class authorization_error : public connection_error {
 public:
  using connection_error::connection_error;
};
class busy_loading_error : public connection_error {
 public:
  using connection_error::connection_error;
};
class max_connections_error : public connection_error {
 public:
  using connection_error::connection_error;
};

class timeout_error : public error {
 public:
  using error::error;
};

class invalid_response_error : public error {
 public:
  using error::error;
};

class response_error : public error {
 public:
  using error::error;
};
class no_script_error : public response_error {
 public:
  using response_error::response_error;
};
class out_of_memory_error : public response_error {
 public:
  using response_error::response_error;
};
class exec_abort_error : public response_error {
 public:
  using response_error::response_error;
};
class read_only_error : public response_error {
 public:
  using response_error::response_error;
};
class no_permission_error : public response_error {
 public:
  using response_error::response_error;
};
class module_error : public response_error {
 public:
  using response_error::response_error;
};
class auth_wrong_number_of_args_error : public response_error {
 public:
  using response_error::response_error;
};
class ask_error : public response_error {
 public:
  using response_error::response_error;
};
class moved_error : public ask_error {
 public:
  using ask_error::ask_error;
};
class try_again_error : public response_error {
 public:
  using response_error::response_error;
};
class cross_slot_error : public response_error {
 public:
  using response_error::response_error;
};
class cluster_down_error : public response_error {
 public:
  using response_error::response_error;
};
class master_down_error : public cluster_down_error {
 public:
  using cluster_down_error::cluster_down_error;
};

class data_error : public error {
 public:
  using error::error;
};
class pubsub_error : public error {
 public:
  using error::error;
};
class watch_error : public error {
 public:
  using error::error;
};
class cluster_error : public error {
 public:
  using error::error;
};

class lock_error : public error {
 public:
  using error::error;
};
class lock_not_owned_error : public lock_error {
 public:
  using lock_error::lock_error;
};

// The one mapping from failures to exceptions. Both overloads of each pair use it, so a
// failure thrown directly and one carried as an exception_ptr have the same type.
//
// std::error_code (precondition: it is an error):
//   uredis protocol codes (is_protocol_error) and incomplete_reply  -> invalid_response_error
//   type_mismatch, unexpected_null, unexpected_server_error         -> data_error
//     (the reply is well formed; the caller asked for a type it does not fit)
//   errc::timeout, and any code equal to std::errc::timed_out       -> timeout_error
//   connection_refused/reset/closed, not_connected, handshake_failed, outcome_unknown (a
//   written command whose reply was lost), and any code equal to ECONNREFUSED,
//   ECONNRESET, ECONNABORTED, EPIPE, ENOTCONN, EHOSTUNREACH, ENETUNREACH, ENETDOWN, ENETRESET
//                                                                   -> connection_error
//   watch_conflict, watch_lost (a transaction that did not run)     -> watch_error
//   anything else                                                   -> error
// server_error:
//   by kind: NOSCRIPT, OOM, EXECABORT, READONLY, NOPERM, MOVED, ASK, TRYAGAIN, CROSSSLOT,
//   CLUSTERDOWN, MASTERDOWN -> their classes; LOADING -> busy_loading_error; NOAUTH, WRONGPASS
//   -> authentication_error. ERR by its exact detail (redis-py's table): max clients ->
//   max_connections_error; invalid password, AUTH without a configured password ->
//   authentication_error; AUTH arity -> auth_wrong_number_of_args_error; module load/unload
//   failures -> module_error; an LDAP provider failure -> connection_error. Anything else ->
//   response_error.

[[noreturn]] void throw_exception(const std::error_code& ec);
[[noreturn]] void throw_exception(const server_error& e);
std::exception_ptr make_exception_ptr(const std::error_code& ec);
std::exception_ptr make_exception_ptr(const server_error& e);

}  // namespace uredis
