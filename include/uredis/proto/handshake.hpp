#pragma once
// handshake: the sans-I/O state machine that sets up a fresh connection's session: protocol
// version, authentication, client name, library info and database. It writes commands into the
// connection's output buffer and reads their replies; it never touches a socket or a clock.
//
// What it sends (one batch, pipelined; a RESP3 handshake is one round trip):
//
//   resp3:  HELLO 3 [AUTH user pass] [SETNAME name]     (password only: user "default")
//           CLIENT SETINFO LIB-NAME uredis               (reply ignored: Redis < 7.2 refuses it)
//           CLIENT SETINFO LIB-VER <version>             (reply ignored)
//           [SELECT db]                                  (db != 0)
//           PING                                         (see below)
//   resp2:  [AUTH [user] pass] [CLIENT SETNAME name] CLIENT SETINFO x2 [SELECT db] PING
//
// PING is there for a server still loading its dataset after a restart: HELLO, AUTH and SELECT
// succeed then, but every ordinary command gets "-LOADING ...". PING does too, so the
// handshake fails with that server_error (kind loading) before any user command goes out, and
// the connection retries later, as redis-py does with BusyLoadingError. Any other answer to
// PING passes (NOAUTH, say, for a caller who authenticates by hand, as uredis-cli does).
//
// If HELLO is refused as an unknown command (Redis < 6) or with NOPROTO, the connection stays
// RESP2 and one more batch follows, written as soon as HELLO's error arrives:
//
//   fallback: [AUTH [user] pass] [CLIENT SETNAME name] [SELECT db]
//
// The replies still due for the first batch (read before the fallback's, since a server answers
// in order) are skipped whatever they say: they ran without authentication. AUTH names the user
// only when it is not "default", so the fallback works on servers without ACLs (< 6).
//
//   start(out) ──► in_progress ──on_bytes()──► in_progress ... ──► done | failed
//
// Failure: the first error reply to HELLO, AUTH, CLIENT SETNAME or SELECT, or LOADING to PING,
// as a server_error (WRONGPASS, NOAUTH, "ERR invalid password", "ERR DB index is out of
// range"...; the connection turns the authentication kinds into authentication_error), or an
// error code: a reply of the wrong shape (errc::type_mismatch) or malformed bytes (the parser's
// protocol error).
//
// Replies are read node by node, never built into trees: a handshake allocates nothing (a
// reconnect is part of a retry cycle, which must not allocate), except the message of the
// server_error it fails with.
//
// Owner: the connection, for the duration of one connect. It references the config, which must
// outlive it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "uredis/client/config.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/result.hpp"
#include "uredis/util/version.hpp"

namespace uredis::proto {

enum class handshake_status : std::uint8_t {
  in_progress,  // replies are still due (and maybe the bytes just written must be sent)
  done,         // the session is set up: the connection may send commands
  failed,       // failure() says why; the connection must be closed
};

class handshake {
 public:
  /// What CLIENT SETINFO reports as LIB-NAME.
  static constexpr std::string_view lib_name = "uredis";
  /// What CLIENT SETINFO reports as LIB-VER: the library's version.
  static std::string_view lib_version() noexcept;

  explicit handshake(const connection_config& config, const resp::limits& limits = {}) noexcept;
  handshake(const handshake&) = delete;
  handshake& operator=(const handshake&) = delete;

  /// Writes the first batch of commands to `out`. Call once, before any reply.
  void start(resp::encoder& out);

  /// Parses replies from the front of `bytes` (a connection's unread input) and acts on each,
  /// stopping at done, failed or the end of the bytes. May append the fallback batch to `out`
  /// (send whatever `out` holds after each call). Push frames (RESP3 '>') are not replies and
  /// are skipped. `consumed` is set to the bytes to drop: every node parsed, including those of
  /// a reply still incomplete (what they mean is kept), never a byte past the handshake's last
  /// reply. Call again with the remaining bytes plus new ones. After done or failed, nothing is
  /// consumed and the status stays.
  handshake_status on_bytes(std::string_view bytes, std::size_t& consumed, resp::encoder& out);

  handshake_status status() const noexcept { return status_; }
  /// Why the handshake failed (a code or a server_error); success in any other status.
  const result<void>& failure() const noexcept { return failure_; }

  /// The RESP version the session speaks: 3 after a successful HELLO, 2 otherwise (the value
  /// HELLO's "proto" field reported, if it sent one).
  int protocol() const noexcept { return protocol_; }
  /// The server's version from HELLO's "version" field; unknown without HELLO (RESP2).
  std::optional<util::version> server_version() const noexcept { return server_version_; }
  /// The connection's id from HELLO's "id" field (CLIENT TRACKING ... REDIRECT needs it).
  std::optional<std::int64_t> client_id() const noexcept { return client_id_; }
  /// True when HELLO was refused and the RESP2 fallback batch was sent.
  bool fell_back() const noexcept { return fell_back_; }

 private:
  // The command each awaited reply answers, and what it means.
  enum class role : std::uint8_t {
    hello,
    auth,
    setname,
    select,
    ping,
    ignored,  // CLIENT SETINFO, and first-batch replies after a fallback
    push,     // not awaited: an out-of-band push frame, skipped
  };
  // HELLO's fields the handshake keeps.
  enum class hello_field : std::uint8_t { other, proto, version, id };

  // A RESP2 first batch awaits at most 6 replies (AUTH, SETNAME, SETINFO x2, SELECT, PING); a
  // RESP3 one 5 (HELLO, SETINFO x2, SELECT, PING) plus 3 for the fallback (AUTH, SETNAME,
  // SELECT).
  static constexpr std::size_t max_awaited = 8;

  void expect(role r) noexcept;
  void write_auth(resp::encoder& out);
  void write_setname(resp::encoder& out);
  void write_select(resp::encoder& out);
  handshake_status fail(result<void> why);
  void begin_reply(const resp::node& n, resp::encoder& out);
  void begin_hello(const resp::node& n, resp::encoder& out);
  void on_hello_element(const resp::node& n);
  void end_reply();

  const connection_config* config_;
  std::array<role, max_awaited> awaited_{};
  std::size_t head_ = 0;   // index of the role the next reply answers
  std::size_t count_ = 0;  // roles pushed so far
  handshake_status status_ = handshake_status::in_progress;
  result<void> failure_;
  int protocol_ = 2;
  std::optional<util::version> server_version_;
  std::optional<std::int64_t> client_id_;
  bool fell_back_ = false;

  // The reply being read: what it answers and, for HELLO, where in its map it is.
  resp::parser parser_;
  bool in_reply_ = false;
  role reading_ = role::ignored;
  std::uint64_t hello_elements_ = 0;  // keys and values at depth 1 so far
  hello_field hello_field_ = hello_field::other;
};

}  // namespace uredis::proto
