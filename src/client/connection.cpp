#include "uredis/client/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <span>

#include "uredis/cmd/server.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis {
namespace {

// Read size for the one-shot recv fallback (kernels without provided-buffer rings).
constexpr std::size_t fallback_read_size = 16 * 1024;

std::error_code no_sqe() {
  return std::make_error_code(std::errc::resource_unavailable_try_again);
}

std::uint64_t next_connection_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The command's name, the first bulk string of its RESP array ("*2\r\n$3\r\nGET\r\n..."), or
// empty when the bytes are not of that shape.
std::string_view command_name(std::string_view request) noexcept {
  const std::size_t dollar = request.find("\r\n$");
  if (dollar == std::string_view::npos) return {};
  const std::size_t digits = dollar + 3;
  const std::size_t end = request.find("\r\n", digits);
  if (end == std::string_view::npos) return {};
  std::size_t length = 0;
  const auto [ptr, ec] = std::from_chars(request.data() + digits, request.data() + end, length);
  if (ec != std::errc{} || end + 2 + length > request.size()) return {};
  return request.substr(end + 2, length);
}

}  // namespace

// The reply handler of the health-check PING: only whether an answer came matters.
struct health_check_reply {
  connection* owner;
  void on_complete(const proto::reply_outcome& o) { owner->on_health_reply(o.error); }
  struct active {
    explicit active(health_check_reply&& q) noexcept : owner(q.owner) {}
    connection* owner;
    void on_node(const resp::node&) noexcept {}
    void on_complete(const proto::reply_outcome& o) { owner->on_health_reply(o.error); }
  };
};

connection::connection(reactor::reactor& r, connection_config config)
    : reactor_(r),
      config_(std::move(config)),
      id_(next_connection_id()),
      slot_(r.attach(*this)),
      reconnect_(config_.retry),
      rng_(id_ ^
           static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      reconnect_timer_([this] { open_socket(); }),
      deadline_timer_([this] { on_deadline(); }),
      health_timer_([this] { on_health_timer(); }),
      setup_timer_([this] { on_setup_timeout(); }) {
  pipeline_.on_push([this](const resp::reply& frame) {
    reactor_.events().emit(event::push_received{id_, &frame});
    if (push_handler_) push_handler_(frame);
  });
}

connection::~connection() {
  close();
  reactor_.detach(slot_);
}

void connection::connect(connect_callback done) {
  assert(state_ == connection_state::idle || state_ == connection_state::closed);
  on_connect_ = std::move(done);
  reconnect_.reset();
  open_socket();
}

void connection::open_socket() {
  state_ = connection_state::connecting;  // from here on, any failure goes through fail()
  auto address = config_.unix_socket.empty() ? io::resolve(config_.host, config_.port)
                                             : io::unix_socket_address(config_.unix_socket);
  if (!address) return fail(address.error());
  address_ = *address;
  auto fd = io::open_stream_socket(address_.family());
  if (!fd) return fail(fd.error());
  fd_ = *fd;

  io_uring_sqe* sqe = reactor_.sqe();
  if (sqe == nullptr) return fail(no_sqe());
  io::prep_connect(sqe, fd_, address_, user_data(io::op::connect));
  // One deadline for the whole setup: a server that accepts and then never answers HELLO must
  // not hold the connection (and the commands waiting for it) forever.
  if (config_.connect_timeout.count() > 0)
    reactor_.timers().rearm_in(setup_timer_, config_.connect_timeout);
}

void connection::on_setup_timeout() {
  if (state_ == connection_state::connecting || state_ == connection_state::handshaking)
    fail(make_error_code(errc::timeout));
}

void connection::on_completion(io::op op, const io_uring_cqe& cqe) {
  switch (op) {
    case io::op::connect:
      on_connected(cqe.res);
      break;
    case io::op::send:
      on_sent(cqe.res);
      break;
    case io::op::recv:
    case io::op::recv_multishot:
      on_received(cqe);
      break;
    default:
      break;
  }
}

void connection::on_connected(int res) {
  if (res < 0) return fail(io::from_errno(-res));
  state_ = connection_state::handshaking;
  arm_receive();
  if (state_ != connection_state::handshaking) return;
  handshake_.emplace(config_);
  resp::encoder e{out_};
  handshake_->start(e);
  reactor_.schedule_flush(*this);
}

void connection::flush() {
  if (fd_ < 0 || send_in_flight_) return;
  if (state_ == connection_state::handshaking) {
    if (out_.empty()) return;
    std::swap(out_, sending_);  // the handshake's bytes go out while replies are read
  } else if (state_ == connection_state::ready) {
    // A copy: the pipeline keeps every request's bytes until its reply, to resend them if
    // this socket fails; the kernel reads sending_ until the send completes.
    const std::string_view unsent = pipeline_.unsent();
    if (unsent.empty()) return;
    sending_.append(unsent);
    pipeline_.mark_sent(unsent.size());
  } else {
    return;
  }
  on_sent(0);
}

void connection::on_sent(int res) {
  send_in_flight_ = false;
  if (res < 0) return fail(io::from_errno(-res));
  sending_.consume(static_cast<std::size_t>(res));
  if (sending_.empty()) {
    if (!out_.empty() || !pipeline_.unsent().empty()) reactor_.schedule_flush(*this);
    return;
  }
  // Whatever is left (all of it at first, the rest after a short send) goes out now.
  io_uring_sqe* sqe = reactor_.sqe();
  if (sqe == nullptr) return fail(no_sqe());
  const std::string_view bytes = sending_.data();
  io::prep_send(sqe, fd_, std::as_bytes(std::span(bytes.data(), bytes.size())),
                user_data(io::op::send));
  send_in_flight_ = true;
}

void connection::arm_receive() {
  io_uring_sqe* sqe = reactor_.sqe();
  if (sqe == nullptr) return fail(no_sqe());
  if (io::buffer_ring* buffers = reactor_.receive_buffers()) {
    io::prep_recv_multishot(sqe, fd_, buffers->group_id(), user_data(io::op::recv_multishot));
  } else {
    // The kernel writes into in_'s free space; nothing touches in_ until this completes.
    const std::span<char> space = in_.prepare(fallback_read_size);
    io::prep_recv(sqe, fd_, std::as_writable_bytes(space), user_data(io::op::recv));
  }
}

void connection::on_received(const io_uring_cqe& cqe) {
  io::buffer_ring* buffers = reactor_.receive_buffers();
  const auto bid = io::buffer_id(cqe);
  if (cqe.res > 0) {
    received_ = true;
    if (bid) {
      const auto bytes = buffers->buffer(*bid, static_cast<std::size_t>(cqe.res));
      in_.append({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    } else {
      in_.commit(static_cast<std::size_t>(cqe.res));
    }
  }
  if (bid) buffers->recycle(*bid);
  if (cqe.res == 0) return fail(make_error_code(errc::connection_closed));
  if (cqe.res == -ENOBUFS) return arm_receive();  // the shard's buffers ran dry for a moment
  if (cqe.res < 0) return fail(io::from_errno(-cqe.res));

  // A multishot recv stays armed while the kernel says MORE; a one-shot recv never does.
  const bool rearm = !bid || (cqe.flags & IORING_CQE_F_MORE) == 0;
  const std::uint64_t socket = slot_;
  process_input();
  // Completions may have closed this socket, or even opened the next one: only re-arm the
  // socket this completion belongs to.
  if (rearm && slot_ == socket && fd_ >= 0) arm_receive();
}

void connection::process_input() {
  const std::uint64_t socket = slot_;
  if (state_ == connection_state::handshaking) {
    std::size_t consumed = 0;
    resp::encoder e{out_};
    const proto::handshake_status status = handshake_->on_bytes(in_.data(), consumed, e);
    in_.consume(consumed);
    if (!out_.empty()) reactor_.schedule_flush(*this);
    if (status == proto::handshake_status::failed) return fail(handshake_->failure());
    if (status == proto::handshake_status::in_progress) return;
    handshake_done();
    if (slot_ != socket) return;
  }
  if (state_ != connection_state::ready) return;
  const proto::pipeline::feed_result r = pipeline_.feed(in_.data());
  if (slot_ != socket) return;  // a completion closed the connection: in_ is gone
  in_.consume(r.consumed);
  if (r.error) fail(r.error);
}

void connection::handshake_done() {
  protocol_ = handshake_->protocol();
  state_ = connection_state::ready;
  setup_timer_.cancel();
  const std::uint32_t attempts = reconnect_.failures();
  reconnect_.reset();
  received_ = true;
  if (config_.health_check_interval.count() > 0)
    reactor_.timers().rearm_in(health_timer_, config_.health_check_interval);
  // Commands issued meanwhile, and those kept from the last socket, go out right behind the
  // handshake, in order.
  if (!pipeline_.unsent().empty()) reactor_.schedule_flush(*this);
  if (ever_ready_) {
    ++reconnects_;
    reactor_.events().emit(event::reconnected{id_, attempts});
  } else {
    ever_ready_ = true;
    reactor_.events().emit(event::connected{id_});
  }
  finish_connect({});
}

void connection::fail(std::error_code ec) {
  fail(result<void>(ec));
}

void connection::close_socket() {
  if (fd_ >= 0) {
    // SQEs prepared this turn still name fd_: submit them before the number can be reused.
    (void)reactor_.ring().submit();
    ::shutdown(fd_, SHUT_RDWR);  // ends the armed recv and any send at once
    ::close(fd_);
    fd_ = -1;
    reactor_.detach(slot_);  // their completions, still to come, are dropped
    slot_ = reactor_.attach(*this);
  }
  send_in_flight_ = false;
  out_.clear();
  sending_.clear();
  in_.clear();
  handshake_.reset();
  health_timer_.cancel();
  setup_timer_.cancel();
  health_ping_pending_ = false;
  health_failed_ = false;
}

// A socket failed (or could not be set up, or its handshake was refused).
void connection::fail(const result<void>& reason) {
  const result<void> why = reason;  // a copy: `reason` may live in handshake_, reset below
  // A server still loading its data will be ready later: that refusal is worth retrying.
  const bool loading =
      why.has_server_error() && why.server_error().kind == server_error_kind::loading;
  // The code every pending command gets: the transport's, or "the handshake was refused".
  const std::error_code ec = why.has_error() ? why.error()
                             : loading       ? make_error_code(errc::server_loading)
                                             : make_error_code(errc::handshake_failed);
  const connection_state was = state_;
  close_socket();

  event::dispatcher& events = reactor_.events();
  if (was == connection_state::ready) events.emit(event::disconnected{id_, ec});
  if (is_protocol_error(ec)) events.emit(event::protocol_error{id_, ec});
  if (!why.has_error()) events.emit(event::handshake_failed{id_, ec});

  // A refused handshake (a server error) does not go away by asking again.
  if ((why.has_error() || loading) && schedule_reconnect(ec)) return;
  give_up(ec, why);
}

bool connection::schedule_reconnect(const std::error_code& cause) {
  const retry::retry_policy& policy = config_.retry;
  if (policy.retries() == 0) return false;
  // A protocol error breaks this stream, not the server: a new connection is the cure, so the
  // policy judges it as the connection being closed.
  const std::error_code judged =
      is_protocol_error(cause) ? make_error_code(errc::connection_closed) : cause;
  const retry::decision d = reconnect_.on_failure(judged, /*written=*/false,
                                                  /*idempotent=*/true, rng_);
  if (!d.retrying()) {
    // Given up on a retryable error: the budget is spent (else the error is not one to retry).
    if (policy.retryable(judged))
      reactor_.events().emit(event::retries_exhausted{id_, reconnect_.failures(), cause});
    return false;
  }
  rewind_commands(cause);
  if (state_ != connection_state::reconnecting) return true;  // a completion closed it
  reactor_.timers().rearm_in(reconnect_timer_,
                             std::chrono::duration_cast<reactor::clock::duration>(d.delay));
  reactor_.events().emit(event::reconnect_scheduled{id_, reconnect_.failures(), d.delay, cause});
  return true;
}

void connection::rewind_commands(const std::error_code& cause) {
  const retry::retry_policy& policy = config_.retry;
  retried_.clear();
  // Cleared first: a completion below may close the connection, or issue new commands, which
  // then wait for the next socket like the kept ones.
  state_ = connection_state::reconnecting;
  pipeline_.rewind(cause, [&](const proto::request& r, std::string_view bytes, bool written) {
    if (!written) return std::error_code{};  // it never reached the server: always safe
    const bool idempotent = r.idempotent || retry::is_read_only(command_name(bytes));
    retry::backoff unused;  // the delay is the reconnect's, not the command's
    const retry::decision d = policy.decide(cause, static_cast<std::uint32_t>(r.resends) + 1,
                                            written, idempotent, unused, rng_);
    if (!d.retrying()) return d.error;
    retried_.push_back(static_cast<std::uint16_t>(r.resends + 1));
    return std::error_code{};
  });
  // Reported once the pipeline is consistent again: listeners may issue commands.
  while (!retried_.empty()) {
    const std::uint16_t attempt = retried_.front();
    retried_.pop_front();
    reactor_.events().emit(event::command_retried{id_, attempt, cause});
  }
}

void connection::give_up(const std::error_code& ec, const result<void>& why) {
  reconnect_timer_.cancel();
  deadline_timer_.cancel();
  state_ = connection_state::closed;
  // Taken now: a completion below may call connect() again with a callback of its own.
  connect_callback on_connect = std::move(on_connect_);
  on_connect_ = {};
  pipeline_.fail_all(ec);
  if (on_connect) on_connect(why);
}

void connection::close() {
  if (state_ == connection_state::idle || state_ == connection_state::closed) {
    pipeline_.fail_all(make_error_code(errc::connection_closed));
    return;
  }
  const bool was_ready = state_ == connection_state::ready;
  close_socket();
  const std::error_code ec = make_error_code(errc::connection_closed);
  if (was_ready) reactor_.events().emit(event::disconnected{id_, ec});
  give_up(ec, result<void>(ec));
}

void connection::finish_connect(const result<void>& outcome) {
  if (!on_connect_) return;
  connect_callback done = std::move(on_connect_);
  on_connect_ = {};
  done(outcome);
}

// Deadlines: one timer for the connection, armed for the earliest deadline it knows of.

connection::time_point connection::deadline(std::chrono::milliseconds timeout) const noexcept {
  if (timeout.count() <= 0) return time_point::max();
  return reactor_.timers().now() + timeout;
}

void connection::watch_deadline(time_point deadline) noexcept {
  if (!deadline_timer_.armed() || deadline < deadline_timer_.deadline())
    reactor_.timers().rearm(deadline_timer_, deadline);
}

void connection::on_deadline() {
  time_point next;
  const std::size_t expired = pipeline_.expire(reactor_.timers().now(), next);
  if (next != time_point::max()) watch_deadline(next);
  for (std::size_t i = 0; i < expired; ++i)
    reactor_.events().emit(event::command_timed_out{id_});
}

// Health checks: an idle, silent interval earns a PING; an unanswered PING recycles the socket.

void connection::on_health_timer() {
  if (state_ != connection_state::ready) return;  // re-armed when ready again
  if (health_failed_) {
    reactor_.events().emit(event::health_check_failed{id_});
    return fail(make_error_code(errc::timeout));
  }
  reactor_.timers().arm_in(health_timer_, config_.health_check_interval);
  // Only an idle connection is checked: pending commands have deadlines of their own, and a
  // blocking command keeps a healthy connection silent on purpose.
  if (received_ || health_ping_pending_ || !pipeline_.empty()) {
    received_ = false;
    return;
  }
  health_ping_pending_ = true;
  enqueue(cmd::ping{}, health_check_reply{this}, {.timeout = config_.health_check_interval});
}

void connection::on_health_reply(const std::error_code& ec) {
  health_ping_pending_ = false;
  if (ec == errc::timeout && state_ == connection_state::ready) {
    health_failed_ = true;  // recycled from the timer, not from inside the pipeline
    reactor_.timers().rearm_in(health_timer_, reactor::clock::duration::zero());
  }
}

}  // namespace uredis
