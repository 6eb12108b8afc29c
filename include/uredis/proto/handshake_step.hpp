#pragma once
// handshake_step: one thing a connection sets up before it carries commands — the protocol
// version, authentication, a client name, the database, and whatever a feature adds (CLIENT
// TRACKING for the cache, READONLY for a cluster replica, resubscribing for pub/sub) — as an
// object the handshake (handshake.hpp) asks to write its commands and to read their replies.
//
//   write(out, params, protocol) -> n     commands appended to `out`, n replies awaited
//   on_node(node, reply)                  each node of each of those replies, in order;
//                                         an error result fails the whole handshake
//
// write() is called once per connect and reconnect, with the protocol the connection is being
// set up for: resp3 first; if the server turns HELLO down (Redis < 6), every step is asked
// again for resp2, and the replies still due for the first batch are skipped. A step that has
// nothing to do returns 0.
//
// The replies a step reads are its own, in the order it wrote its commands. Push frames are not
// replies: they go to the connection's push router even during the handshake, so a step that
// waits for confirmations sent as pushes (RESP3 SUBSCRIBE) writes a PING after its commands and
// knows they have all arrived when the PING's reply does.
//
// Ownership: a step belongs to whoever registered it (a feature, for as long as it lives) or
// to the handshake (the built-in ones); a session keeps registered steps in an intrusive list
// (`hook`), so destroying a step unregisters it, at any time: a handshake under way that still
// awaits its replies skips them instead.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::proto {

class handshake;

/// Which RESP version a connection speaks.
enum class resp_version : std::uint8_t {
  resp3,  // HELLO 3 (with AUTH and SETNAME); RESP2 when the server has no HELLO (Redis < 6)
  resp2,  // RESP2 only: HELLO is never sent
};

/// What one connect sets up: a snapshot taken when the attempt starts, valid until its
/// handshake ends (the strings view storage the session keeps for the attempt).
struct handshake_params {
  resp_version protocol = resp_version::resp3;
  /// Authenticate as `username` (empty: the default user) with `password`.
  bool authenticate = false;
  std::string_view username;
  std::string_view password;
  /// CLIENT SETNAME, when not empty.
  std::string_view client_name;
  /// SELECT, when not 0.
  int db = 0;
};

class handshake_step {
 public:
  util::list_hook hook;

  /// Appends this step's commands for `protocol` to `out` and returns how many replies they
  /// get (0: nothing to do on this connection).
  virtual std::size_t write(resp::encoder& out, const handshake_params& params,
                            resp_version protocol) = 0;

  /// One node of reply number `reply` (0 for the first reply to this step's last write()).
  /// Attributes never come here; a top-level error reply is a single node. Returning an error
  /// (a server_error: the server refused; or an errc) fails the handshake.
  virtual result<void> on_node(const resp::node& n, std::size_t reply) = 0;

 protected:
  handshake_step() = default;
  handshake_step(const handshake_step&) = delete;
  handshake_step& operator=(const handshake_step&) = delete;
  ~handshake_step();  // tells a handshake that awaits its replies to skip them

 private:
  friend class handshake;
  handshake* awaited_by_ = nullptr;  // the handshake holding this step's pending replies
};

using handshake_step_list = util::intrusive_list<handshake_step, &handshake_step::hook>;

}  // namespace uredis::proto
