#include "io/tcp_transport.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <span>

#include "uredis/error.hpp"

namespace uredis::io {
namespace {

std::error_code no_sqe() {
  return std::make_error_code(std::errc::resource_unavailable_try_again);
}

}  // namespace

tcp_transport::tcp_transport(ring& r, buffer_ring* buffers, transport_events& events,
                             const options& o)
    : ring_(&r), buffers_(buffers), events_(&events), options_(o) {}

std::error_code tcp_transport::open(const socket_address& address, std::uint64_t target) {
  close();
  address_ = address;
  target_ = target;
  result<int> fd = open_stream_socket(address.family(), options_.tcp_nodelay);
  if (!fd) return fd.error();
  fd_ = *fd;
  io_uring_sqe* sqe = ring_->get_sqe();
  if (sqe == nullptr) {
    close();
    return no_sqe();
  }
  prep_connect(sqe, fd_, address_, encode_user_data(target_, op::connect));
  return {};
}

std::error_code tcp_transport::send(std::string_view bytes) {
  pending_ = bytes;
  sending_ = true;
  return send_rest();
}

std::error_code tcp_transport::send_rest() {
  io_uring_sqe* sqe = ring_->get_sqe();
  if (sqe == nullptr) return no_sqe();
  prep_send(sqe, fd_, std::as_bytes(std::span(pending_.data(), pending_.size())),
            encode_user_data(target_, op::send));
  return {};
}

void tcp_transport::close() noexcept {
  if (fd_ >= 0) {
    // SQEs prepared this turn still name fd_: submit them before the number can be reused.
    (void)ring_->submit();
    ::shutdown(fd_, SHUT_RDWR);  // ends the armed recv and any send at once
    ::close(fd_);
    fd_ = -1;
    ++generation_;
  }
  sending_ = false;
  pending_ = {};
  in_.clear();
}

void tcp_transport::on_completion(op o, const io_uring_cqe& cqe) {
  switch (o) {
    case op::connect:
      return on_connect(cqe.res);
    case op::send:
      return on_sent(cqe.res);
    case op::recv:
    case op::recv_multishot:
      return on_received(cqe);
    default:
      return;
  }
}

void tcp_transport::on_connect(int res) {
  if (fd_ < 0) return;
  if (res < 0) return events_->on_transport_failed(from_errno(-res));
  if (const std::error_code ec = arm_receive()) return events_->on_transport_failed(ec);
  events_->on_transport_connected();
}

void tcp_transport::on_sent(int res) {
  if (fd_ < 0 || !sending_) return;
  if (res < 0) {
    sending_ = false;
    return events_->on_transport_failed(from_errno(-res));
  }
  pending_.remove_prefix(static_cast<std::size_t>(res));
  if (!pending_.empty()) {  // a short send: the rest goes now, from the same bytes
    if (const std::error_code ec = send_rest()) {
      sending_ = false;
      events_->on_transport_failed(ec);
    }
    return;
  }
  sending_ = false;
  events_->on_transport_sent();
}

std::error_code tcp_transport::arm_receive() {
  io_uring_sqe* sqe = ring_->get_sqe();
  if (sqe == nullptr) return no_sqe();
  if (buffers_ != nullptr) {
    prep_recv_multishot(sqe, fd_, buffers_->group_id(),
                        encode_user_data(target_, op::recv_multishot));
  } else {
    // The kernel writes into in_'s free space; nothing touches in_ until this completes.
    const std::span<char> space = in_.prepare(options_.fallback_read_size);
    prep_recv(sqe, fd_, std::as_writable_bytes(space), encode_user_data(target_, op::recv));
  }
  return {};
}

void tcp_transport::on_received(const io_uring_cqe& cqe) {
  const auto bid = buffer_id(cqe);
  const std::uint64_t generation = generation_;
  if (fd_ >= 0 && cqe.res > 0) {
    if (bid) {
      const auto bytes = buffers_->buffer(*bid, static_cast<std::size_t>(cqe.res));
      events_->on_transport_data({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    } else {
      in_.commit(static_cast<std::size_t>(cqe.res));
      events_->on_transport_data(in_.data());  // the receiver copies what it keeps
      in_.clear();
    }
  }
  if (bid) buffers_->recycle(*bid);                  // the receiver is done with the bytes
  if (fd_ < 0 || generation != generation_) return;  // closed meanwhile (and opened again?)
  if (cqe.res == 0) return events_->on_transport_failed(make_error_code(errc::connection_closed));
  if (cqe.res == -ENOBUFS) {  // the shard's buffers ran dry for a moment
    if (const std::error_code ec = arm_receive()) events_->on_transport_failed(ec);
    return;
  }
  if (cqe.res < 0) return events_->on_transport_failed(from_errno(-cqe.res));
  // A multishot recv stays armed while the kernel says MORE; a one-shot recv never does.
  if (!bid || (cqe.flags & IORING_CQE_F_MORE) == 0) {
    if (const std::error_code ec = arm_receive()) events_->on_transport_failed(ec);
  }
}

}  // namespace uredis::io
