#pragma once
// socket: where a connection goes (socket_address), the socket it goes there with, the SQEs
// it uses, and the one place where errno values become uredis error codes.
//
// An address comes from a host and port — numeric IPv4 ("127.0.0.1"), numeric IPv6 ("::1",
// also bracketed "[::1]"), or a name ("localhost") — or from a Unix socket path. It is a
// sockaddr_storage plus its length, copied by value: no allocation, nothing to free.
//
// Error mapping (from_errno), applied to every -res of a socket CQE and every failed call here:
//   ECONNREFUSED, ENOENT       -> errc::connection_refused   (ENOENT: a Unix socket path with
//                                 no socket file; like a refused TCP port, nobody listens there)
//   ECONNRESET, EPIPE, ECONNABORTED -> errc::connection_reset
//   ETIMEDOUT, ETIME           -> errc::timeout               (ETIME: an io_uring timeout fired)
//   ENOTCONN                   -> errc::not_connected
//   anything else              -> that errno in std::system_category()
// ECANCELED stays std::errc::operation_canceled: only the code that linked a timeout to an
// operation knows whether the cancel was that timeout (a connect bounded by prep_link_timeout
// completes with -ECANCELED and its timeout with -ETIME), and it reports errc::timeout itself.
// The mapped codes print uredis' messages ("connection refused"); a tool that must print the
// kernel's text (uredis-cli, as redis-cli does) keeps the raw errno from the CQE alongside.
//
// io_uring quirks handled here: sends carry MSG_NOSIGNAL (a send to a closed peer would raise
// SIGPIPE and kill the process); sockets are non-blocking, which io_uring handles by arming a
// poll internally (IORING_FEAT_FAST_POLL), and which keeps a direct send()/recv() from ever
// blocking the reactor.

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "uredis/result.hpp"

namespace uredis::io {

/// A socket address of any family (AF_INET, AF_INET6, AF_UNIX), by value.
struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;  // 0: empty (no address)

  int family() const noexcept { return storage.ss_family; }
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  /// The port of an AF_INET/AF_INET6 address, in host order; 0 for other families.
  std::uint16_t port() const noexcept;
  /// "127.0.0.1:6379", "[::1]:6379", or the Unix socket path, for messages and logs.
  std::string to_string() const;
};

/// The address for host:port. Numeric forms are parsed directly (resolve_numeric). Any other
/// name goes to getaddrinfo (AI_NUMERICSERV, SOCK_STREAM), which BLOCKS on DNS: on a shard,
/// call it through reactor::resolver, which runs it on a worker thread, never in a loop turn.
/// When a name has IPv4 and IPv6 addresses the first IPv4 one is taken (hiredis does the same),
/// so "localhost" is 127.0.0.1 where that exists, else ::1. Failure: std::errc::invalid_argument
/// for an empty host, a resolver_category() code for a name that does not resolve (its message
/// is gai_strerror's).
result<socket_address> resolve(std::string_view host, std::uint16_t port);

/// What resolve() answers without DNS, never blocking: the address of a numeric host (IPv4,
/// IPv6, bracketed IPv6) or std::errc::invalid_argument for an empty one. nullopt for a name,
/// which only getaddrinfo can answer.
std::optional<result<socket_address>> resolve_numeric(std::string_view host, std::uint16_t port);

/// The address of a Unix domain socket. Fails with std::errc::invalid_argument for an empty
/// path or one with a NUL byte, std::errc::filename_too_long when it does not fit sun_path.
result<socket_address> unix_socket_address(std::string_view path);

/// The category of getaddrinfo's EAI_* codes; message() is gai_strerror's text.
const std::error_category& resolver_category() noexcept;

/// A new stream socket for `family`: non-blocking and close-on-exec, with TCP_NODELAY for
/// AF_INET/AF_INET6 unless `tcp_nodelay` is false (a pipelining client batches by itself;
/// Nagle would only hold the tail of a batch back for an ACK). The caller owns the descriptor.
result<int> open_stream_socket(int family, bool tcp_nodelay = true);

/// errno (a positive value, e.g. -cqe.res) to error_code, as the table above says. 0 -> success.
std::error_code from_errno(int err) noexcept;

// SQE preparation. Each sets every field the operation reads, including user_data, so a
// recycled SQE carries nothing stale. The caller sets IOSQE_IO_LINK on an SQE to bound it by
// the prep_link_timeout that follows it.

/// Connect `fd` to `address`. The kernel copies the address when the SQE is submitted; keep it
/// alive until then (a connection keeps it anyway, for reconnects).
void prep_connect(io_uring_sqe* sqe, int fd, const socket_address& address,
                  std::uint64_t user_data) noexcept;

/// Send `bytes` (with MSG_NOSIGNAL, and MSG_WAITALL, with which the kernel continues a short
/// send itself). The bytes must stay valid and unchanged until the CQE; the CQE's res may still
/// be less than bytes.size() on older kernels or after an error (a short send: send the rest).
void prep_send(io_uring_sqe* sqe, int fd, std::span<const std::byte> bytes,
               std::uint64_t user_data) noexcept;

/// One recv into `buffer` (the fallback path without a provided-buffer ring). res 0 is EOF.
void prep_recv(io_uring_sqe* sqe, int fd, std::span<std::byte> buffer,
               std::uint64_t user_data) noexcept;

/// A multishot recv drawing buffers from group `buffer_group` (a buffer_ring). It posts one
/// CQE per chunk, each with IORING_CQE_F_BUFFER and, while it stays armed, IORING_CQE_F_MORE.
/// A CQE without F_MORE ends it: EOF (res 0), an error, or -ENOBUFS when the group ran dry
/// (recycle, then prepare it again). Needs ring_features::multishot_recv.
void prep_recv_multishot(io_uring_sqe* sqe, int fd, std::uint16_t buffer_group,
                         std::uint64_t user_data) noexcept;

/// Close `fd` through the ring (ordered after the SQEs submitted before it).
void prep_close(io_uring_sqe* sqe, int fd, std::uint64_t user_data) noexcept;

/// Cancel every in-flight operation on `fd` (IORING_ASYNC_CANCEL_FD | ALL, 5.19): a multishot
/// recv must be cancelled before its socket is closed, or it lingers. Each cancelled operation
/// completes with -ECANCELED; this SQE's res is the number cancelled (or -ENOENT for none).
void prep_cancel_fd(io_uring_sqe* sqe, int fd, std::uint64_t user_data) noexcept;

/// A timeout bounding the SQE prepared just before it, which must carry IOSQE_IO_LINK. If it
/// fires, that SQE completes with -ECANCELED and this one with -ETIME; otherwise this one
/// completes with -ECANCELED. `timeout` must stay valid until the SQE is submitted.
void prep_link_timeout(io_uring_sqe* sqe, const __kernel_timespec& timeout,
                       std::uint64_t user_data) noexcept;

}  // namespace uredis::io
