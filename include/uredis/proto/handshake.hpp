#pragma once
// handshake: the sans-I/O state machine that sets up a fresh connection's session. It runs a
// list of steps (handshake_step.hpp), built for each connect: the built-in ones
// (handshake_steps.hpp: HELLO or AUTH and SETNAME, CLIENT SETINFO, SELECT, PING) and those the
// session's features registered (CLIENT TRACKING, resubscribing...), which run between SELECT
// and PING. It writes the steps' commands into the connection's output and hands each reply to
// the step that asked for it; it never touches a socket or a clock.
//
// Every step writes at once, so the whole handshake is one batch, pipelined: one round trip.
//
//   start(params, extra, out) ──► in_progress ──on_bytes()──► in_progress ... ──► done | failed
//
// Fall-back: if HELLO is refused as an unknown command (Redis < 6) or with NOPROTO, the
// connection stays RESP2, and a second batch follows, written as soon as HELLO's error arrives:
// every step again, for resp2 (AUTH, SETNAME, SELECT, the registered steps, PING). The replies
// still due for the first batch (read before the second batch's, since a server answers in
// order) are skipped whatever they say: those commands ran unauthenticated.
//
// Failure: the first error a step returns (a server_error such as WRONGPASS or LOADING, or an
// errc such as type_mismatch for a reply of the wrong shape), or the parser's protocol error
// for malformed bytes.
//
// Push frames (RESP3 '>') are not replies: they go to the push router given to start(), if any.
// On a RESP2 connection that carries subscriptions (set_pubsub_arrays), the arrays that are
// pub/sub frames (a resubscribing step's confirmations, the messages that follow them) are
// pushes too, as in pipeline.hpp.
// Replies are read node by node, never built into trees: a handshake allocates nothing once its
// list of awaited replies has grown (a reconnect is part of a retry cycle, which must not
// allocate), except the message of the server_error it fails with.
//
// Owner: a session, reused for every connect. The params and the registered steps must stay
// valid until the handshake ends.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "uredis/proto/handshake_step.hpp"
#include "uredis/proto/handshake_steps.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/result.hpp"
#include "uredis/util/ring_buffer.hpp"
#include "uredis/util/version.hpp"

namespace uredis::proto {

enum class handshake_status : std::uint8_t {
  in_progress,  // replies are still due (and maybe the bytes just written must be sent)
  done,         // the session is set up: the connection may send commands
  failed,       // failure() says why; the connection must be closed
};

class handshake {
 public:
  explicit handshake(const resp::limits& limits = {}) noexcept;
  ~handshake();
  handshake(const handshake&) = delete;
  handshake& operator=(const handshake&) = delete;

  /// Begins a handshake for `params` with the `extra` steps and writes its batch to `out`. Any
  /// earlier handshake is forgotten. `pushes` receives the push frames that arrive meanwhile.
  void start(const handshake_params& params, handshake_step_list& extra, resp::encoder& out,
             push_router* pushes = nullptr);

  /// Parses replies from the front of `bytes` (a connection's unread input) and hands them to
  /// their steps, stopping at done, failed or the end of the bytes. May append the fall-back
  /// batch to `out` (send whatever `out` holds after each call). `consumed` is set to the bytes
  /// to drop: every node parsed, including those of a reply still incomplete (what they mean is
  /// kept), never a byte past the handshake's last reply. Call again with the remaining bytes
  /// plus new ones. After done or failed, nothing is consumed and the status stays.
  handshake_status on_bytes(std::string_view bytes, std::size_t& consumed, resp::encoder& out);

  handshake_status status() const noexcept { return status_; }
  /// Why the handshake failed (a code or a server_error); success in any other status.
  const result<void>& failure() const noexcept { return failure_; }

  /// The RESP version the session speaks: 3 after a successful HELLO, 2 otherwise.
  int protocol() const noexcept { return hello_.protocol(); }
  /// The server's version from HELLO's "version" field; unknown without HELLO (RESP2).
  std::optional<util::version> server_version() const noexcept { return hello_.server_version(); }
  /// The connection's id from HELLO's "id" field (CLIENT TRACKING ... REDIRECT needs it).
  std::optional<std::int64_t> client_id() const noexcept { return hello_.client_id(); }
  /// True when HELLO was refused and the RESP2 batch was sent.
  bool fell_back() const noexcept { return fell_back_; }

  /// When speaking RESP2, reads arrays that are pub/sub frames as pushes (from the next start).
  void set_pubsub_arrays(bool on) noexcept { pubsub_arrays_ = on; }

 private:
  // A reply the handshake waits for: reply number `reply` of `step` (null: to be skipped).
  struct awaited {
    handshake_step* step = nullptr;
    std::uint32_t reply = 0;
  };

  void write_batch(resp::encoder& out, resp_version protocol);
  void write_step(handshake_step& step, resp::encoder& out, resp_version protocol);
  handshake_status fail(result<void> why);
  bool take_awaited() noexcept;  // the next awaited reply becomes current_ (false: none)
  // Steps know which handshake awaits their replies, so that one destroyed meanwhile is
  // skipped (forget) rather than called: release() ends that link once nothing is awaited.
  friend class handshake_step;
  void forget(handshake_step& step) noexcept;
  void release(handshake_step* step) noexcept;
  void release_all() noexcept;
  bool speaks_resp2() const noexcept {
    return fell_back_ || params_->protocol == resp_version::resp2;
  }

  hello_step hello_;
  ok_step auth_{ok_step::command::auth};
  ok_step setname_{ok_step::command::setname};
  setinfo_step setinfo_;
  ok_step select_{ok_step::command::select};
  ping_step ping_;

  const handshake_params* params_ = nullptr;
  handshake_step_list* extra_ = nullptr;
  push_router* pushes_ = nullptr;
  util::ring_buffer<awaited> awaited_;
  handshake_status status_ = handshake_status::in_progress;
  result<void> failure_;
  bool fell_back_ = false;

  // The reply being read.
  resp::parser parser_;
  bool in_reply_ = false;
  bool in_push_ = false;
  bool pubsub_arrays_ = false;
  bool holding_ = false;  // held_ is a RESP2 array's header, its kind still unknown
  resp::node held_;
  awaited current_;
};

}  // namespace uredis::proto
