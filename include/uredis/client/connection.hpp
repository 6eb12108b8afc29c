#pragma once
// connection: one Redis connection on one shard's reactor, with the callback API.
//
//   connection c{reactor, config};
//   c.connect([](const result<void>& r) { ... });           // resolve, connect, handshake
//   c.exec(cmd::get{"k"}, [](result<std::optional<std::string>> v) { ... });
//
// A command is encoded straight into the output buffer and its handler queued in the pipeline;
// at the end of the loop turn the reactor calls flush(), which sends everything queued in that
// turn with one send. Replies arrive through a multishot recv (or a one-shot recv on kernels
// without provided-buffer rings), are appended to the read buffer and fed to the pipeline.
//
// States:  idle --connect()--> connecting --> handshaking --> ready
//            ^                     |               |            |
//            +------------------ closed <----------+------------+   (any failure, close())
//
// Commands issued while connecting or handshaking wait (their bytes apart) and go out right
// behind the handshake; commands issued while idle or closed complete at once with
// errc::not_connected. Any failure completes every pending command exactly once with the
// error (connection_closed, connection_reset, a protocol error...), and the connection is
// closed; reconnecting is the caller's call (automatic reconnection comes with the retry
// policies). Destroying a connection closes it the same way.
//
// Ownership: the connection belongs to its reactor's thread and must not move (the reactor
// and in-flight operations point at it). Nothing here allocates per command in steady state.

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include "uredis/client/config.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/handshake.hpp"
#include "uredis/proto/pipeline.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/ring_buffer.hpp"

namespace uredis {

enum class connection_state : std::uint8_t { idle, connecting, handshaking, ready, closed };

class connection final : private reactor::io_target, private reactor::flushable {
 public:
  using connect_callback = util::inline_function<void(const result<void>&), 32>;

  connection(reactor::reactor& r, connection_config config);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Connects and runs the handshake; `done` runs once, with success when the connection is
  /// ready or with what ended the attempt (a transport error, errc::timeout, or the server's
  /// error, e.g. WRONGPASS). Precondition: state() is idle or closed.
  void connect(connect_callback done = {});

  /// Sends `command` and calls `callback(result<Command::response>)` once with its reply.
  template <class Command, class Callback>
  void exec(const Command& command, Callback&& callback) {
    using handler = proto::callback_handler<typename Command::response, std::decay_t<Callback>>;
    enqueue(command, handler{std::forward<Callback>(callback)});
  }

  /// Sends `command` and queues `handler` (a proto::reply_handler, see proto/pending.hpp) for
  /// its reply: what exec() and the coroutine awaiter (client/exec_awaiter.hpp) build on. While
  /// idle or closed the handler completes before this returns, with errc::not_connected.
  template <class Command, class Handler>
  void enqueue(const Command& command, Handler&& handler) {
    proto::pending p{std::forward<Handler>(handler)};
    if (state_ == connection_state::idle || state_ == connection_state::closed) {
      p.complete({make_error_code(errc::not_connected), nullptr});
      return;
    }
    resp::encoder e{state_ == connection_state::ready ? out_ : held_bytes_};
    command.encode(e);
    if (state_ == connection_state::ready) {
      pipeline_.push(std::move(p));
      reactor_.schedule_flush(*this);
    } else {
      held_.push_back(std::move(p));
    }
  }

  /// Closes the connection: every pending command completes with errc::connection_closed.
  void close() { fail(make_error_code(errc::connection_closed)); }

  connection_state state() const noexcept { return state_; }
  bool ready() const noexcept { return state_ == connection_state::ready; }
  /// The RESP version negotiated by the last handshake (2 or 3).
  int protocol() const noexcept { return protocol_; }
  /// Commands sent (or waiting to be) and not yet answered.
  std::size_t pending() const noexcept { return pipeline_.size() + held_.size(); }
  const connection_config& config() const noexcept { return config_; }

  /// Where RESP3 push frames go (pub/sub messages, invalidations).
  void on_push(proto::pipeline::push_function handler) { pipeline_.on_push(std::move(handler)); }

 private:
  void on_completion(io::op op, const io_uring_cqe& cqe) override;
  void flush() override;

  void on_connected(int res);
  void on_sent(int res);
  void on_received(const io_uring_cqe& cqe);
  void arm_receive();
  void process_input();
  void handshake_done();
  void fail(std::error_code ec);
  void fail(const result<void>& reason);
  void finish_connect(const result<void>& outcome);
  std::uint64_t user_data(io::op op) const noexcept { return io::encode_user_data(id_, op); }

  reactor::reactor& reactor_;
  connection_config config_;
  std::uint64_t id_;  // this connection's slot in the reactor; renewed per socket
  int fd_ = -1;
  connection_state state_ = connection_state::idle;
  int protocol_ = 0;
  bool send_in_flight_ = false;

  util::byte_buffer out_;      // encoded, not yet handed to the kernel
  util::byte_buffer sending_;  // in flight: the kernel reads it until the send completes
  util::byte_buffer in_;       // received, not yet consumed by the handshake or the pipeline
  proto::pipeline pipeline_;
  std::optional<proto::handshake> handshake_;
  util::ring_buffer<proto::pending> held_;  // issued before the handshake finished...
  util::byte_buffer held_bytes_;            // ...and their bytes
  connect_callback on_connect_;
  io::socket_address address_;
  __kernel_timespec connect_timeout_{};
};

}  // namespace uredis
