#pragma once
// connection: one Redis connection on one shard's reactor, with the callback API, that heals
// itself: it reconnects, resends what is safe to resend, enforces deadlines and checks health.
//
//   connection c{reactor, config};
//   c.connect([](const result<void>& r) { ... });           // resolve, connect, handshake
//   c.exec(cmd::get{"k"}, [](result<std::optional<std::string>> v) { ... });
//
// A command is encoded straight into the pipeline's request buffer and its handler queued; at
// the end of the loop turn the reactor calls flush(), which sends everything queued in that turn
// with one send. Replies arrive through a multishot recv (or a one-shot recv on kernels without
// provided-buffer rings), are appended to the read buffer and fed to the pipeline.
//
// States:
//
//   idle --connect()--> connecting --> handshaking --> ready
//                          ^  |             |            |
//                          |  +-------------+------------+  a socket fails
//                          |                v
//                     reconnecting <-- retry policy says retry (backoff timer)
//                                           | says give up, or close()
//                                           v
//                                         closed --connect()--> connecting ...
//
// Failures and what becomes of the commands (connection_config::retry decides; see
// retry/retry_policy.hpp for its rules):
//   - A socket fails (reset, EOF, a protocol error, a failed health check): the connection
//     closes it and asks the policy whether to reconnect (a protocol error counts as a broken
//     connection here; a handshake the server refuses, e.g. WRONGPASS, is never retried, except
//     for LOADING: a server still loading its data, errc::server_loading). If so,
//     each pending command is judged: never written -> kept; written and read-only or marked
//     idempotent -> kept, within the policy's retry budget per command; written otherwise ->
//     completes with errc::outcome_unknown (a protocol error or another non-retryable cause
//     completes it with that error); reply already half read -> completes with the cause. Kept
//     commands go out again, in order, right behind the next handshake.
//   - The first connect() is retried the same way (as redis-py does); its callback runs once,
//     when the connection is first ready or when the policy gives up.
//   - Giving up (retries exhausted, a refused handshake, close()) completes every pending
//     command with the error and leaves the connection closed.
//   - While connecting or reconnecting, new commands wait (bounded:
//     max_queued_while_disconnected, then errc::queue_full); while idle or closed they complete
//     at once with errc::not_connected.
//   - Deadlines (exec_options::timeout, config.command_timeout, blocking commands' server
//     timeout + margin) hold in every state: a command past its deadline completes with
//     errc::timeout at once, and its reply, if it comes, is discarded.
//   - Health checks (config.health_check_interval): a ready connection with nothing pending
//     that received nothing for an interval sends PING; no answer within the next interval
//     recycles the socket.
//   - connect_timeout bounds the connect and the handshake together: a server that accepts and
//     never answers fails the attempt with errc::timeout (retried like any other).
// Every step is reported on the reactor's event dispatcher (event/events.hpp).
//
// Ownership: the connection belongs to its reactor's thread and must not move (the reactor,
// timers and in-flight operations point at it). A completion must not destroy the connection
// it runs in. Nothing here allocates per command in steady state, nor per retry cycle once the
// buffers have grown to their working size.

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include "uredis/client/config.hpp"
#include "uredis/client/exec_options.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/handshake.hpp"
#include "uredis/proto/pipeline.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"
#include "uredis/retry/retry_policy.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/random.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis {

enum class connection_state : std::uint8_t {
  idle,
  connecting,
  handshaking,
  ready,
  reconnecting,  // waiting out the backoff before the next attempt
  closed,
};

class connection final : private reactor::io_target, private reactor::flushable {
 public:
  using connect_callback = util::inline_function<void(const result<void>&), 32>;

  connection(reactor::reactor& r, connection_config config);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Connects and runs the handshake, retrying as the config's policy says; `done` runs once,
  /// with success when the connection is ready or with what ended the last attempt (a transport
  /// error, errc::timeout, or the server's error, e.g. WRONGPASS). Precondition: state() is
  /// idle or closed.
  void connect(connect_callback done = {});

  /// Sends `command` and calls `callback(result<Command::response>)` once with its reply.
  template <class Command, class Callback>
  void exec(const Command& command, Callback&& callback, const exec_options& options = {}) {
    using handler = proto::callback_handler<typename Command::response, std::decay_t<Callback>>;
    enqueue(command, handler{std::forward<Callback>(callback)}, options);
  }

  /// Sends `command` and queues `handler` (a proto::reply_handler, see proto/pending.hpp) for
  /// its reply: what exec() and the coroutine awaiter (client/exec_awaiter.hpp) build on. When
  /// the command cannot be queued (idle, closed, queue full) the handler completes before this
  /// returns.
  template <class Command, class Handler>
  void enqueue(const Command& command, Handler&& handler, const exec_options& options = {}) {
    if (const std::error_code refused = admission()) {
      proto::pending p{std::forward<Handler>(handler)};
      p.complete({refused, nullptr});
      return;
    }
    util::byte_buffer& out = pipeline_.requests();
    const std::size_t before = out.size();
    resp::encoder e{out};
    command.encode(e);
    proto::request r;
    r.length = static_cast<std::uint32_t>(out.size() - before);
    r.idempotent = options.idempotent;
    r.deadline = deadline(timeout_for(command, options));
    pipeline_.push(std::forward<Handler>(handler), r);
    if (r.deadline != proto::request::time_point::max()) watch_deadline(r.deadline);
    if (state_ == connection_state::ready) reactor_.schedule_flush(*this);
  }

  /// Closes the connection: every pending command completes with errc::connection_closed, and
  /// no reconnect follows.
  void close();

  connection_state state() const noexcept { return state_; }
  bool ready() const noexcept { return state_ == connection_state::ready; }
  /// A process-wide unique number naming this connection in events.
  std::uint64_t id() const noexcept { return id_; }
  /// The RESP version negotiated by the last handshake (2 or 3).
  int protocol() const noexcept { return protocol_; }
  /// Commands queued and not yet answered (timed-out ones whose reply is still due included).
  std::size_t pending() const noexcept { return pipeline_.size(); }
  const connection_config& config() const noexcept { return config_; }
  /// Times the connection became ready again after losing its socket.
  std::uint64_t reconnects() const noexcept { return reconnects_; }

  /// Where RESP3 push frames go (pub/sub messages, invalidations).
  void on_push(proto::pipeline::push_function handler) { push_handler_ = std::move(handler); }

 private:
  friend struct health_check_reply;
  using time_point = proto::request::time_point;

  void on_completion(io::op op, const io_uring_cqe& cqe) override;
  void flush() override;

  // Why a new command cannot be queued now, if it cannot: inline, as it runs per command.
  std::error_code admission() const noexcept {
    if (state_ == connection_state::ready) return {};
    if (state_ == connection_state::idle || state_ == connection_state::closed)
      return make_error_code(errc::not_connected);
    if (pipeline_.size() >= config_.max_queued_while_disconnected)
      return make_error_code(errc::queue_full);
    return {};
  }
  // The caller's timeout first; else a blocking command's own (server-side + margin, none
  // when it blocks forever); else the connection's default.
  template <class Command>
  std::chrono::milliseconds timeout_for(const Command& command, const exec_options& o) const {
    if (o.timeout.count() >= 0) return o.timeout;
    if constexpr (requires { command.blocking_timeout(); }) {
      const std::chrono::milliseconds server = command.blocking_timeout();
      return server.count() == 0 ? server : server + config_.blocking_timeout_margin;
    } else {
      return config_.command_timeout;
    }
  }
  time_point deadline(std::chrono::milliseconds timeout) const noexcept;
  void watch_deadline(time_point deadline) noexcept;
  void on_deadline();
  void on_health_timer();
  void on_health_reply(const std::error_code& ec);
  void on_setup_timeout();

  void open_socket();
  void on_connected(int res);
  void on_sent(int res);
  void on_received(const io_uring_cqe& cqe);
  void arm_receive();
  void process_input();
  void handshake_done();
  void fail(std::error_code ec);
  void fail(const result<void>& reason);
  void close_socket();
  bool schedule_reconnect(const std::error_code& cause);
  void rewind_commands(const std::error_code& cause);
  void give_up(const std::error_code& ec, const result<void>& why);
  void finish_connect(const result<void>& outcome);
  std::uint64_t user_data(io::op op) const noexcept { return io::encode_user_data(slot_, op); }

  reactor::reactor& reactor_;
  connection_config config_;
  std::uint64_t id_;
  std::uint64_t slot_;  // this socket's slot in the reactor; renewed per socket
  int fd_ = -1;
  connection_state state_ = connection_state::idle;
  int protocol_ = 0;
  bool send_in_flight_ = false;
  bool ever_ready_ = false;
  bool received_ = false;             // a byte arrived since the last health check
  bool health_ping_pending_ = false;  // our PING is waiting for its reply
  bool health_failed_ = false;        // ...and timed out: recycle at the next health tick

  util::byte_buffer out_;      // the handshake's bytes, not yet handed to the kernel
  util::byte_buffer sending_;  // in flight: the kernel reads it until the send completes
  util::byte_buffer in_;       // received, not yet consumed by the handshake or the pipeline
  proto::pipeline pipeline_;
  std::optional<proto::handshake> handshake_;
  connect_callback on_connect_;
  proto::pipeline::push_function push_handler_;
  io::socket_address address_;

  retry::retry_state reconnect_;  // failures since the connection was last ready
  std::uint64_t reconnects_ = 0;
  util::rng rng_;
  util::ring_buffer<std::uint16_t> retried_;  // rewind_commands' scratch: resends per command
  reactor::timer reconnect_timer_;
  reactor::timer deadline_timer_;
  reactor::timer health_timer_;
  reactor::timer setup_timer_;  // connect_timeout, over the connect and the handshake
};

}  // namespace uredis
