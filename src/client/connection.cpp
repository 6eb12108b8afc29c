#include "uredis/client/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <span>

namespace uredis {
namespace {

// Read size for the one-shot recv fallback (kernels without provided-buffer rings).
constexpr std::size_t fallback_read_size = 16 * 1024;

std::error_code no_sqe() {
  return std::make_error_code(std::errc::resource_unavailable_try_again);
}

}  // namespace

connection::connection(reactor::reactor& r, connection_config config)
    : reactor_(r), config_(std::move(config)), id_(r.attach(*this)) {}

connection::~connection() {
  fail(make_error_code(errc::connection_closed));
  reactor_.detach(id_);
}

void connection::connect(connect_callback done) {
  assert(state_ == connection_state::idle || state_ == connection_state::closed);
  on_connect_ = std::move(done);
  state_ = connection_state::connecting;  // from here on, any failure reports to `done`
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
  if (config_.connect_timeout.count() > 0) {
    io_uring_sqe* timeout = reactor_.sqe();
    if (timeout == nullptr) return fail(no_sqe());
    sqe->flags |= IOSQE_IO_LINK;
    const auto ns = std::chrono::nanoseconds(config_.connect_timeout).count();
    connect_timeout_.tv_sec = ns / 1'000'000'000;
    connect_timeout_.tv_nsec = ns % 1'000'000'000;
    io::prep_link_timeout(timeout, connect_timeout_, user_data(io::op::link_timeout));
  }
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
    default:  // link_timeout: -ETIME when it fired (connect saw -ECANCELED), else -ECANCELED
      break;
  }
}

void connection::on_connected(int res) {
  if (res == -ECANCELED) return fail(make_error_code(errc::timeout));  // the link timeout fired
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
  if (fd_ < 0 || send_in_flight_ || out_.empty() || state_ == connection_state::connecting) return;
  std::swap(out_, sending_);  // new commands go to out_ while the kernel reads sending_
  on_sent(0);
}

void connection::on_sent(int res) {
  send_in_flight_ = false;
  if (res < 0) return fail(io::from_errno(-res));
  sending_.consume(static_cast<std::size_t>(res));
  if (sending_.empty()) {
    if (!out_.empty()) reactor_.schedule_flush(*this);
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
  const std::uint64_t socket = id_;
  process_input();
  // Completions may have closed this socket, or even opened the next one: only re-arm the
  // socket this completion belongs to.
  if (rearm && id_ == socket && fd_ >= 0) arm_receive();
}

void connection::process_input() {
  const std::uint64_t socket = id_;
  if (state_ == connection_state::handshaking) {
    std::size_t consumed = 0;
    resp::encoder e{out_};
    const proto::handshake_status status = handshake_->on_bytes(in_.data(), consumed, e);
    in_.consume(consumed);
    if (!out_.empty()) reactor_.schedule_flush(*this);
    if (status == proto::handshake_status::failed) return fail(handshake_->failure());
    if (status == proto::handshake_status::in_progress) return;
    handshake_done();
    if (id_ != socket) return;
  }
  if (state_ != connection_state::ready) return;
  const proto::pipeline::feed_result r = pipeline_.feed(in_.data());
  if (id_ != socket) return;  // a completion closed the connection: in_ is gone
  in_.consume(r.consumed);
  if (r.error) fail(r.error);
}

void connection::handshake_done() {
  protocol_ = handshake_->protocol();
  state_ = connection_state::ready;
  // Commands issued meanwhile go out right behind the handshake, in the order they came.
  if (!held_bytes_.empty()) {
    out_.append(held_bytes_.data());
    held_bytes_.clear();
  }
  while (!held_.empty()) {
    pipeline_.push(std::move(held_.front()));
    held_.pop_front();
  }
  if (!out_.empty()) reactor_.schedule_flush(*this);
  finish_connect({});
}

void connection::fail(std::error_code ec) {
  fail(result<void>(ec));
}

void connection::fail(const result<void>& reason) {
  const result<void> why = reason;  // a copy: `reason` may live in handshake_, reset below
  // The code every pending command gets: the transport's, or "the handshake was refused".
  const std::error_code ec =
      why.has_error() ? why.error() : make_error_code(errc::handshake_failed);
  const bool connecting =
      state_ == connection_state::connecting || state_ == connection_state::handshaking;
  // Taken now: a completion below may call connect() again with a callback of its own.
  connect_callback on_connect = connecting ? std::move(on_connect_) : connect_callback{};
  on_connect_ = {};
  if (fd_ >= 0) {
    // SQEs prepared this turn still name fd_: submit them before the number can be reused.
    (void)reactor_.ring().submit();
    ::shutdown(fd_, SHUT_RDWR);  // ends the armed recv and any send at once
    ::close(fd_);
    fd_ = -1;
    reactor_.detach(id_);  // their completions, still to come, are dropped
    id_ = reactor_.attach(*this);
  }
  state_ = connection_state::closed;
  send_in_flight_ = false;
  out_.clear();
  sending_.clear();
  in_.clear();
  held_bytes_.clear();
  handshake_.reset();

  // Completions run user code, which may connect again and issue new commands: fail only the
  // commands pending now.
  util::ring_buffer<proto::pending> held = std::move(held_);
  held_ = util::ring_buffer<proto::pending>{};
  pipeline_.fail_all(ec);
  while (!held.empty()) {
    proto::pending p = std::move(held.front());
    held.pop_front();
    p.complete({ec, nullptr});
  }
  if (on_connect) on_connect(why);
}

void connection::finish_connect(const result<void>& outcome) {
  if (!on_connect_) return;
  connect_callback done = std::move(on_connect_);
  on_connect_ = {};
  done(outcome);
}

}  // namespace uredis
