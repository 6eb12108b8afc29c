#pragma once
// raw_connection: a plain socket to the server with a blocking reply reader, for the two modes
// the library's connection does not serve:
//
//   --pipe       the input's bytes are forwarded as they are, unparsed, and only the replies
//                are read (pipe_mode.hpp)
//   streaming    after SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE or MONITOR the server sends frames no
//                command waits for (stream_mode.hpp); the library's connection treats such a
//                frame as a protocol error in RESP2 (a reply with nothing pending), and in RESP3
//                routes pushes to subscribers the tool does not have
//
// It is set up like the tool's session (session_setup.hpp): AUTH, SELECT, HELLO 3, replayed
// without printing anything, because session::open() has just run the same steps with
// redis-cli's messages and recorded only what succeeded. With TLS on (--tls, rediss://) the
// bytes go through a raw_tls_stream (raw_tls_stream.hpp) made from the session's tls::options.
//
// The socket is non-blocking; read_reply and write_all wait with poll(), and a caller that
// polls the descriptor itself uses send_some / receive, and polls for POLLOUT while
// output_pending() (TLS records the socket has not taken yet).
//
// Owner: the mode that opened it; the descriptor is closed by the destructor.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "options.hpp"
#include "raw_tls_stream.hpp"
#include "session_setup.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cli {

class raw_connection {
 public:
  /// Connects to the server `o` names (over TLS when o.tls says so) and replays `setup`; on
  /// failure sets `ec` (an errno as a std::system_category() code, a resolver error, a TLS
  /// failure, or errc::handshake_failed when the server refused a step) and returns null.
  static std::unique_ptr<raw_connection> open(const server_options& o, const session_setup& setup,
                                              std::error_code& ec);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  int fd() const noexcept { return fd_; }

  /// Sends all of `bytes`, waiting while the socket is full.
  std::error_code write_all(std::string_view bytes);

  /// Sends what the socket takes now of `bytes`, without waiting; `taken`: how many bytes of
  /// `bytes` are done with (over TLS all of them: what the socket did not take is pending).
  std::error_code send_some(std::string_view bytes, std::size_t& taken);
  /// Bytes accepted by send_some are still waiting for the socket: poll for POLLOUT, then
  /// send_some again (with nothing new, if need be).
  bool output_pending() const noexcept { return tls_ && tls_->output_pending(); }
  /// Appends what the server has sent so far to `into` (possibly nothing), without waiting:
  /// up to `chunk` bytes, or as many as `into` already holds if that is more (a reply parsed
  /// again from its start when more comes stays linear overall). errc::connection_closed at
  /// EOF.
  std::error_code receive(std::string& into, std::size_t chunk = 64 * 1024);

  /// Reads the next whole reply into `out`, waiting for it as long as it takes. An error: the
  /// connection failed (errc::connection_closed at EOF) or sent malformed RESP.
  std::error_code read_reply(resp::reply& out);

 private:
  explicit raw_connection(int fd) noexcept : fd_(fd) {}

  int fd_;
  std::unique_ptr<raw_tls_stream> tls_;  // null: plain TCP or a unix socket
  std::string input_;                    // bytes read and not yet parsed
  std::size_t parsed_ = 0;               // bytes of input_ already consumed
};

}  // namespace uredis::cli
