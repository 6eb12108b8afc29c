#pragma once
// session: one Redis connection's life as a sans-I/O state machine — connecting, the
// handshake, commands and their replies, deadlines, health checks, losing the socket,
// reconnecting with backoff and deciding which commands may be sent again. It is fed what the
// transport did (connected, bytes, sent, failed) and the time, and answers with what the I/O
// shell must do (open or close the transport, send bytes, wake it at a deadline). It never
// touches a socket or reads a clock of its own: tests drive it with byte strings and a
// manual_clock, with no server and no kernel.
//
//   shell ──connect() / enqueue() / close()──────────────► session ──► take_actions():
//   shell ──on_connected() / on_data() / on_transport_failed()──►        close, open the
//   shell ──begin_send() … end_send()──────────────────────►             transport
//   shell ──on_timer() at next_deadline()───────────────────►          wants_send()
//
// States:
//
//   idle --connect()--> connecting --on_connected()--> handshaking --> ready
//                          ^  |                            |             |
//                          |  +----------------------------+-------------+  the socket fails
//                          |                               v
//                     (backoff due) <------------ reconnecting: the retry policy says retry
//                                                          | says give up, or close()
//                                                          v
//                                                        closed --connect()--> connecting ...
//
// Failures and what becomes of the commands (session_config::retry decides; see
// retry/retry_policy.hpp for its rules):
//   - The socket fails (reset, EOF, a protocol error, a failed health check, the setup
//     deadline): the session asks the transport to close and the policy whether to reconnect (a
//     protocol error counts as a broken connection here; a handshake the server refuses, e.g.
//     WRONGPASS, is never retried, except for LOADING: a server still loading its data,
//     errc::server_loading). If so, each pending command is judged: never written -> kept;
//     written and read-only or marked idempotent -> kept, within the policy's retry budget per
//     command; written otherwise -> completes with errc::outcome_unknown (a protocol error or
//     another non-retryable cause completes it with that error); reply already half read ->
//     completes with the cause. A command bound to its socket (a transaction after WATCH,
//     request::bound_to_socket) is never kept: written -> errc::outcome_unknown, never written
//     -> errc::watch_lost (its watches died with the socket). Kept commands go out again, in order,
//     right behind the next handshake. "Written" means handed to the transport (begin_send()).
//   - The first connect() (before the session was ever ready) is retried the same way, as
//     redis-py does, unless session_config::retry_first_connect is false: then its first
//     failure gives up at once (the policy is not asked), as redis-cli does. Its callback runs
//     once, when the session is first ready or when it gives up. After a first success, every
//     failure and connect() follows the policy.
//   - Giving up (retries exhausted, a refused handshake, close()) completes every pending
//     command with the error and leaves the session closed.
//   - While connecting or reconnecting, new commands wait (bounded:
//     max_queued_while_disconnected, then errc::queue_full); while idle or closed they complete
//     at once with errc::not_connected.
//   - Deadlines (exec_options::timeout, config.command_timeout, blocking commands' server
//     timeout + margin) hold in every state: a command past its deadline completes with
//     errc::timeout at once, and its reply, if it comes, is discarded.
//   - Health checks (config.health_check_interval): a ready session with nothing pending (timed
//     out commands aside) that received nothing for an interval sends PING; no answer within
//     the next interval recycles the socket.
//   - connect_timeout bounds the connect and the handshake together: a server that accepts and
//     never answers fails the attempt with errc::timeout (retried like any other).
// Every step is reported on the event dispatcher (event/events.hpp).
//
// Re-authentication: a provider that announces new credentials (credentials_provider::watch)
// makes a ready session queue `AUTH [user] password` behind the commands already queued, as
// one more pipeline entry: pending commands are neither dropped nor reordered, and the server
// applies the new identity from that point of the stream (event::reauthenticated; a refusal is
// event::reauth_failed with errc::credentials_rejected, and the connection stays authenticated
// as before, as Redis does). Where it may not go:
//   - a transaction is one pipeline entry (MULTI, its commands and EXEC encoded together), so
//     an AUTH can only land before MULTI or after EXEC, never between them;
//   - a RESP2 connection in subscribe mode refuses AUTH (subscriber_only), so the session
//     defers it until the subscriptions end (set_subscribed(false)) or the socket is replaced,
//     whose handshake fetches the newest credentials anyway; RESP3 subscribers take it at once;
//   - not ready (connecting, handshaking, reconnecting): the AUTH waits for the handshake to
//     end, unless a new fetch starts after the announcement (it gets the newest credentials);
//   - a socket that fails under a queued AUTH takes it along (it is bound to its socket, and
//     no event follows): the next handshake authenticates with the newest credentials, which
//     an older AUTH replayed after it would undo.
//
// Input: on_data() takes the bytes of one read, valid during the call only, and parses them in
// place. Only a node cut by the end of a read is copied (with the bytes of the next read that
// complete it), into a small carry buffer; everything else is read straight from the
// transport's buffers.
//
// Re-entrancy: completions, the connect callback and event listeners run in the middle of the
// session's calls, and may call back into it (enqueue, close, connect). The session finishes
// its own work consistently whatever they did. They must not destroy it: the I/O shell that
// owns it defers its destruction to the end of the loop turn (client/connection.hpp).
//
// Owner: the I/O shell (client/connection), on one shard's thread. Nothing here allocates per
// command in steady state, nor per retry cycle once the buffers have grown.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "uredis/auth/credentials.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/handshake.hpp"
#include "uredis/proto/handshake_step.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/pipeline.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/proto/request_buffer.hpp"
#include "uredis/proto/session_config.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"
#include "uredis/retry/retry_policy.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/random.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis::proto {

enum class session_state : std::uint8_t {
  idle,
  connecting,    // the transport is being opened (address, socket, connect)
  handshaking,   // open: credentials, then the handshake's replies are awaited
  ready,         // commands flow
  reconnecting,  // between two sockets: waiting out the backoff before the next attempt
  closed,
};

class session {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using connect_callback = util::inline_function<void(const result<void>&), 32>;

  /// What the I/O shell must do with the transport, in this order.
  struct actions {
    bool close_transport = false;  // drop the socket (its late completions are stale)
    bool open_transport = false;   // resolve the address, connect: on_connected() or
                                   // on_transport_failed() follows
  };

  /// `config`, `clock` and `events` must outlive the session.
  session(const session_config& config, const util::clock& clock, event::dispatcher& events,
          const resp::limits& limits = {});
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // ---- Driven by the user ----

  /// Starts connecting, retrying as the config's policy says (before the session was ever
  /// ready, only if retry_first_connect allows); `done` runs once, with success when the
  /// session is first ready or with what ended the last attempt (a transport error,
  /// errc::timeout, or the server's refusal, e.g. WRONGPASS). Precondition: idle or closed.
  void connect(connect_callback done = {});

  /// What enqueue() did, for the shell: whether to schedule a flush and look at the deadline.
  enum class enqueued : std::uint8_t {
    refused,             // the handler has completed (and may have destroyed the shell)
    queued,              // queued; next_deadline() did not change
    queued_new_deadline  // queued, and next_deadline() moved earlier
  };

  /// Encodes `command` and queues `handler` (a proto::reply_handler) for its reply. When the
  /// command cannot be queued (idle, closed, queue full, a command a RESP2 subscriber connection
  /// does not take) the handler completes before this returns (enqueued::refused). A command
  /// that encodes a batch (a transaction) says how many top-level replies it gets with
  /// `replies()`; the handler reads them all (pipeline.hpp).
  template <class Command, class Handler>
  enqueued enqueue(const Command& command, Handler&& handler, const exec_options& options = {}) {
    request r;
    r.idempotent = options.idempotent;
    if constexpr (requires { command.replies(); }) r.replies = command.replies();
    if constexpr (requires { command.bound_to_socket(); })
      r.bound_to_socket = command.bound_to_socket();
    if constexpr (requires { command.confirmed_by(); }) {
      // A (P|S)(UN)SUBSCRIBE: answered by that many confirmation pushes of that kind
      // (pipeline.hpp), not by a reply. Subscribing twice is harmless: resent like a read.
      r.confirmations = command.confirmations();
      r.confirmed_by = command.confirmed_by();
      r.idempotent = true;
    }
    return push_command(command, std::forward<Handler>(handler), r, timeout_for(command, options));
  }

  /// Every pending command completes with errc::connection_closed, and no reconnect follows.
  void close();

  // ---- Driven by the transport ----

  /// The transport asked for by actions::open_transport is open; `tls_resumed`: its TLS
  /// handshake resumed an earlier session (reported in the connected / reconnected event).
  void on_connected(bool tls_resumed = false);
  /// The transport failed (refused, reset, EOF, a send error...), or could not be opened.
  void on_transport_failed(std::error_code ec);
  /// Bytes received, valid during the call only.
  void on_data(std::string_view bytes);
  /// True when there are bytes to send and no send in flight.
  bool wants_send() const noexcept;
  /// The bytes to send now (empty: none). They stay valid and unchanged until end_send(), and
  /// count as written from now on.
  std::string_view begin_send() noexcept;
  /// The transport is done with the bytes of the last begin_send().
  void end_send() noexcept;

  // ---- Driven by time ----

  /// When the setup under way (connect, TLS, handshake) must be done; time_point::max() when
  /// none is, or it has no deadline (connect_timeout 0).
  time_point setup_deadline() const noexcept { return setup_deadline_; }
  /// When on_timer() must next be called (time_point::max(): never).
  time_point next_deadline() const noexcept {
    return std::min({reconnect_at_, setup_deadline_, health_at_, command_deadline_});
  }
  /// Handles whatever is due at the clock's now().
  void on_timer();

  /// What the shell must do now; resets the request.
  actions take_actions() noexcept { return std::exchange(actions_, {}); }

  // ---- Features ----

  /// Adds `step` to every handshake from the next connect on, between SELECT and PING. The
  /// step unregisters itself when destroyed.
  void add_handshake_step(handshake_step& step) noexcept { steps_.push_back(step); }
  /// Where push frames go: set the cache's and the subscriptions' hooks there.
  push_router& pushes() noexcept { return pipeline_.pushes(); }
  /// Asked for credentials on every connect; null: no authentication. Must outlive the session.
  /// The session also watches it: new credentials it announces (a streaming provider, a token
  /// manager) re-authenticate the live connection (see "Re-authentication" above).
  void set_credentials_provider(auth::credentials_provider* p);
  /// Called when the session changed of its own accord, outside any call from the shell: a
  /// provider answered later from its own callback, or announced new credentials. The shell
  /// then does what it does after each of its calls (take_actions(), wants_send(),
  /// next_deadline()); it may also come while a call of the shell is under way (a reply
  /// callback that updated the provider), which the shell tells apart.
  void set_output_hook(util::inline_function<void(), 16> hook) noexcept {
    output_hook_ = std::move(hook);
  }
  /// Shows `observer` the text of every error reply to a command (pipeline::observe_errors).
  void observe_errors(pipeline::error_observer observer) noexcept {
    pipeline_.observe_errors(std::move(observer));
  }
  /// The connection carries subscriptions (pubsub/subscriber.hpp). Speaking RESP2, it then
  /// accepts only (P|S)(UN)SUBSCRIBE, PING and QUIT (anything else is refused unsent,
  /// with errc::subscriber_only) and reads pub/sub arrays as pushes. RESP3 changes nothing.
  void set_subscribed(bool on);
  /// True when this connection refuses what a RESP2 subscriber connection does not take.
  bool subscriber_only() const noexcept { return restricted_; }

  // ---- State ----

  session_state state() const noexcept { return state_; }
  bool ready() const noexcept { return state_ == session_state::ready; }
  /// A process-wide unique number naming this connection in events.
  std::uint64_t id() const noexcept { return id_; }
  /// The RESP version negotiated by the last handshake (2 or 3).
  int protocol() const noexcept { return protocol_; }
  /// Commands queued and not yet answered (timed-out ones whose reply is still due included).
  std::size_t pending() const noexcept { return pipeline_.size(); }
  /// Times the session became ready again after losing its socket.
  std::uint64_t reconnects() const noexcept { return reconnects_; }
  /// The current socket's TLS handshake resumed an earlier session (false without TLS).
  bool tls_resumed() const noexcept { return tls_resumed_; }
  /// Sockets whose TLS handshake resumed a session, over the session's life.
  std::uint64_t tls_resumptions() const noexcept { return tls_resumptions_; }
  const session_config& config() const noexcept { return *config_; }
  /// Where the session reports its events.
  event::dispatcher& events() const noexcept { return *events_; }
  /// The last handshake, for what it learnt (server version, client id).
  const proto::handshake& handshake() const noexcept { return handshake_; }
  const proto::pipeline& pipeline() const noexcept { return pipeline_; }

 private:
  friend struct health_check_reply;
  friend struct reauth_reply;

  struct consumed_input {
    std::size_t bytes = 0;
    bool stopped = false;  // the socket was given up on: drop the rest
  };

  // Why a new command cannot be queued while the session is not ready, if it cannot (a ready
  // session takes every command; enqueue() asks only otherwise).
  std::error_code admission() const noexcept {
    if (state_ == session_state::idle || state_ == session_state::closed)
      return make_error_code(errc::not_connected);
    if (pipeline_.size() >= config_->max_queued_while_disconnected)
      return make_error_code(errc::queue_full);
    return {};
  }
  template <class Command>
  std::chrono::milliseconds timeout_for(const Command& command, const exec_options& o) const {
    return command_timeout_for(command, o, *config_);
  }

  template <class Command, class Handler>
  enqueued push_command(const Command& command, Handler&& handler, request r,
                        std::chrono::milliseconds timeout);
  template <class Handler>
  enqueued refuse(Handler&& handler, std::error_code why) {
    proto::pending p{std::forward<Handler>(handler)};
    p.complete(reply_outcome::failed(why));
    return enqueued::refused;
  }
  void update_subscribed_mode() noexcept;

  void start_attempt();
  void on_credentials(const auth::credentials* c, std::error_code why);
  void start_handshake();
  consumed_input consume(std::string_view bytes);
  void handshake_done();
  void fail(std::error_code ec);
  void fail(const result<void>& reason);
  void abandon_socket() noexcept;
  bool schedule_reconnect(const std::error_code& cause);
  void rewind_commands(const std::error_code& cause);
  void give_up(const std::error_code& ec, const result<void>& why);
  void expire_commands(time_point now);
  void check_health(time_point now);
  void on_health_reply(const std::error_code& ec);
  void on_new_credentials(const auth::credentials& c);
  void reauthenticate();
  void on_reauth_reply(const reply_outcome& o);

  const session_config* config_;
  const util::clock* clock_;
  event::dispatcher* events_;
  std::uint64_t id_;
  session_state state_ = session_state::idle;
  // Bumped whenever the session gives up on a socket or starts an attempt: code that called
  // out to user code compares it to know whether that code already decided what happens next.
  std::uint64_t epoch_ = 0;
  actions actions_;
  int protocol_ = 0;
  bool ever_ready_ = false;           // ready at least once: later sockets are reconnects
  bool ready_since_connect_ = false;  // ready since the last connect(): events say reconnected
  bool subscribed_ = false;           // set_subscribed()
  bool restricted_ = false;           // subscribed_ and speaking RESP2: see set_subscribed()

  proto::pipeline pipeline_;
  proto::handshake handshake_;
  handshake_step_list steps_;
  request_buffer setup_out_;  // the handshake's commands
  enum class sender : std::uint8_t { none, setup, pipeline } in_flight_ = sender::none;
  util::byte_buffer carry_;  // a node cut by the end of a read, and what completes it
  connect_callback on_connect_;

  // Credentials for the attempt under way, kept for its handshake (its params view them).
  auth::credentials_provider* provider_ = nullptr;
  auth::credentials_request credentials_request_;
  auth::credentials credentials_;
  bool authenticate_ = false;
  bool credentials_ready_ = false;
  bool fetching_ = false;  // inside provider_->fetch(): an answer now needs no output hook
  bool handshake_started_ = false;
  handshake_params params_;
  // Re-authentication: the provider's announcements, and the newest credentials they brought
  // until an AUTH carries them (wiped then).
  auth::credentials_listener credentials_listener_;
  auth::credentials reauth_with_;
  bool reauth_due_ = false;
  util::inline_function<void(), 16> output_hook_;

  retry::retry_state reconnect_;  // failures since the session was last ready
  std::uint64_t reconnects_ = 0;
  std::uint64_t tls_resumptions_ = 0;
  bool tls_resumed_ = false;
  util::rng rng_;
  util::ring_buffer<std::uint16_t> retried_;  // rewind_commands' scratch: resends per command

  // Deadlines (time_point::max(): none).
  time_point reconnect_at_ = time_point::max();
  time_point setup_deadline_ = time_point::max();
  time_point health_at_ = time_point::max();
  time_point command_deadline_ = time_point::max();  // the earliest a command may have
  bool received_ = false;                            // a byte arrived since the last health check
  bool health_ping_pending_ = false;                 // our PING is waiting for its reply
  bool health_failed_ = false;  // ...and timed out: recycle at the next health tick
};

/// True for what a RESP2 connection in subscribe mode accepts, by the command's request bytes.
bool allowed_when_subscribed(std::string_view request) noexcept;
/// True for a descriptor whose command name is known only once encoded (cmd::raw, or a
/// transaction holding one): the session then checks the bytes with refused_unsent().
template <class Command>
inline constexpr bool names_any_command = [] {
  if constexpr (requires { Command::any_command; })
    return static_cast<bool>(Command::any_command);
  else
    return false;
}();

/// Why `request` (a raw command's bytes, or a transaction's) must not be sent, or no error:
/// errc::not_one_reply when a command of it is answered otherwise than by one reply ((P|S)(UN)
/// SUBSCRIBE, MONITOR), errc::reset_refused for RESET, which would undo the connection's setup
/// (protocol, credentials, database, name, tracking) without the session knowing.
std::error_code refused_unsent(std::string_view request) noexcept;

template <class Command, class Handler>
session::enqueued session::push_command(const Command& command, Handler&& handler, request r,
                                        std::chrono::milliseconds timeout) {
  // Ready is checked first: admission()'s "no error" costs a call into the standard library
  // (std::error_code's default category), per command.
  if (state_ != session_state::ready) {
    if (const std::error_code refused = admission())
      return refuse(std::forward<Handler>(handler), refused);
  }
  util::byte_buffer& out = pipeline_.requests();
  const std::size_t before = out.size();
  resp::encoder e{out};
  command.encode(e);
  if constexpr (names_any_command<Command>) {
    if (const std::error_code refused = refused_unsent(out.data().substr(before))) {
      out.truncate(before);
      return refuse(std::forward<Handler>(handler), refused);
    }
  }
  if (restricted_ && !allowed_when_subscribed(out.data().substr(before))) {
    out.truncate(before);
    return refuse(std::forward<Handler>(handler), make_error_code(errc::subscriber_only));
  }
  if (out.size() - before > UINT32_MAX) [[unlikely]] {  // the pipeline counts 32-bit lengths
    out.truncate(before);
    return refuse(std::forward<Handler>(handler), std::make_error_code(std::errc::value_too_large));
  }
  r.length = static_cast<std::uint32_t>(out.size() - before);
  enqueued result = enqueued::queued;
  if (timeout.count() > 0) {
    r.deadline = clock_->now() + timeout;
    if (r.deadline < command_deadline_) {
      command_deadline_ = r.deadline;
      result = enqueued::queued_new_deadline;
    }
  }
  pipeline_.push(std::forward<Handler>(handler), r);
  return result;
}

}  // namespace uredis::proto
