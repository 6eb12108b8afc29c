#include "pipe_mode.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "raw_connection.hpp"
#include "session.hpp"
#include "uredis/error.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::cli {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t magic_size = 20;  // redis-cli's
constexpr std::size_t recv_chunk = 256 * 1024;

std::string random_magic() {
  std::random_device device;
  std::string magic(magic_size, '\0');
  for (char& c : magic)
    c = static_cast<char>(device() & 0xff);
  return magic;
}

// Counts replies in what the server sends, and spots the one that echoes the magic.
class reply_counter {
 public:
  reply_counter(std::string_view magic, std::FILE* err) : magic_(magic), err_(err) {}

  // Consumes what it can of `input`; false on malformed RESP.
  bool feed(std::string& input, std::size_t& offset) {
    resp::node n;
    for (;;) {
      const resp::step s = parser_.next(std::string_view(input).substr(offset), n);
      if (s.status == resp::outcome::need_more) return true;
      if (s.status == resp::outcome::error) return false;
      offset += s.consumed;
      if (n.depth == 0 && resp::is_error(n.type)) {
        // redis-cli prints the text as a C string.
        const std::string_view text = n.value.substr(0, n.value.find('\0'));
        std::fprintf(err_, "%.*s\n", static_cast<int>(text.size()), text.data());
        ++errors;
      }
      if (!parser_.done()) continue;
      if (expecting_magic && n.depth == 0 && n.type == resp::type::bulk_string &&
          n.value == magic_) {
        done = true;
        return true;
      }
      ++replies;
    }
  }

  const resp::parser& parser() const noexcept { return parser_; }

  long long errors = 0;
  long long replies = 0;
  bool expecting_magic = false;  // the ECHO has been sent
  bool done = false;

 private:
  std::string_view magic_;
  std::FILE* err_;
  resp::parser parser_;
};

// redis-cli's words for a connection that fails mid-transfer.
std::string describe(const std::error_code& ec) {
  if (ec == errc::connection_closed) return "Server closed the connection";
  if (ec.category() == std::system_category()) return std::strerror(ec.value());
  return ec.message();
}

}  // namespace

int run_pipe(const options& o, int in_fd, std::FILE* out, std::FILE* err) {
  if (o.warn_about_password)
    std::fputs(
        "Warning: Using a password with '-a' or '-u' option on the command line interface may "
        "not be safe.\n",
        err);
  // The set-up, with redis-cli's messages, on the library's connection; then a plain socket
  // set up the same way (raw_connection.hpp).
  std::unique_ptr<raw_connection> c;
  {
    const std::unique_ptr<session> s = session::create(o.server, err);
    if (!s || !s->open()) return 1;
    std::error_code ec;
    c = raw_connection::open(s->server(), s->setup(), ec);
    if (!c) {
      std::fprintf(err, "Error: %s\n", s->error_text(ec).c_str());
      return 1;
    }
  }

  const std::string magic = random_magic();
  reply_counter counter{magic, err};
  std::string output;  // bytes to send
  output.reserve(pipe_chunk);
  std::size_t sent = 0;
  std::string input;  // bytes received
  input.reserve(recv_chunk * 2);
  std::size_t parsed = 0;
  bool eof = false;
  bool all_sent = false;
  clock::time_point last_reply = clock::now();
  const auto timeout = std::chrono::seconds(o.pipe_timeout);

  // Once the last byte is out (written by a send, or flushed by a TLS receive), the next reply
  // after the others is the magic one.
  const auto note_all_sent = [&] {
    if (!eof || all_sent || sent != output.size() || c->output_pending()) return;
    all_sent = true;
    counter.expecting_magic = true;
    std::fputs("All data transferred. Waiting for the last reply...\n", out);
    std::fflush(out);
    last_reply = clock::now();
  };

  while (!counter.done) {
    const bool want_input = !eof && sent == output.size();
    const bool want_send = sent < output.size() || c->output_pending();
    pollfd fds[2] = {{c->fd(), static_cast<short>(POLLIN | (want_send ? POLLOUT : 0)), 0},
                     {in_fd, POLLIN, 0}};
    int wait_ms = -1;
    if (all_sent && o.pipe_timeout > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(last_reply + timeout -
                                                                              clock::now());
      wait_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0) + 1);
    }
    const int ready = ::poll(fds, want_input ? 2 : 1, wait_ms);
    if (ready < 0 && errno != EINTR) {
      std::fprintf(err, "uredis-cli: poll: %s\n", std::strerror(errno));
      return 1;
    }

    if (want_input && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      output.resize(pipe_chunk);
      const ssize_t n = ::read(in_fd, output.data(), pipe_chunk);
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        std::fprintf(err, "uredis-cli: cannot read the input: %s\n", std::strerror(errno));
        return 1;
      }
      output.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      sent = 0;
      if (n == 0) {
        eof = true;
        // The leading CRLF ends an inline command the input left without one, as redis-cli's
        // does; between whole commands the server takes it for an empty line and ignores it.
        output = "\r\n*2\r\n$4\r\nECHO\r\n$20\r\n" + magic + "\r\n";
      }
    }

    if (sent < output.size() || c->output_pending()) {
      std::size_t taken = 0;
      if (const std::error_code ec = c->send_some(std::string_view(output).substr(sent), taken)) {
        std::fprintf(err, "Error writing to the server: %s\n", describe(ec).c_str());
        return 1;
      }
      sent += taken;
      note_all_sent();
    }

    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (parsed > 0 && parsed == input.size()) {
        input.clear();
        parsed = 0;
      } else if (parsed > recv_chunk) {
        input.erase(0, parsed);
        parsed = 0;
      }
      if (const std::error_code ec = c->receive(input, recv_chunk)) {
        std::fprintf(err, "Error reading from the server: %s\n", describe(ec).c_str());
        return 1;
      }
      const long long before = counter.replies + counter.errors;
      if (!counter.feed(input, parsed)) {
        std::fprintf(err, "Error reading from the server: Protocol error: %s\n",
                     counter.parser().error().message().c_str());
        return 1;
      }
      if (counter.replies + counter.errors != before) last_reply = clock::now();
      note_all_sent();  // a TLS receive may have flushed the rest of the last record
    }

    if (all_sent && o.pipe_timeout > 0 && !counter.done && clock::now() - last_reply >= timeout) {
      std::fprintf(err, "No replies for %d seconds: exiting.\n", o.pipe_timeout);
      ++counter.errors;
      break;
    }
  }
  if (counter.done) std::fputs("Last reply received from server.\n", out);
  std::fprintf(out, "errors: %lld, replies: %lld\n", counter.errors, counter.replies);
  std::fflush(out);
  return counter.errors > 0 ? 1 : 0;
}

}  // namespace uredis::cli
