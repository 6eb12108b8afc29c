#include "run.hpp"

#include <poll.h>
#include <strings.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "input.hpp"
#include "line_command.hpp"
#include "reply_output.hpp"
#include "session.hpp"
#include "stream_mode.hpp"
#include "transaction_guard.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/error.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis::cli {
namespace {

// How often (in commands sent) the reactor gets a non-blocking turn while input is read, so the
// queued commands go out and replies come back during a long read instead of all at the end.
constexpr std::uint64_t poll_every = 512;
// Formatted output is written once this much has accumulated.
constexpr std::size_t output_chunk = 64 * 1024;

// The line printed in place of the reply of a command the connection failed (run.hpp).
constexpr std::string_view may_have_run =
    "(error) uredis-cli: may have run: the connection was lost after it was sent\n";
constexpr std::string_view may_have_run_because = "(error) uredis-cli: may have run (";
constexpr std::string_view no_reply = "(error) uredis-cli: no reply to this read (";
constexpr std::string_view not_sent = "(error) uredis-cli: not sent (";
constexpr std::string_view transaction_lost =
    "(error) uredis-cli: not sent (its transaction was lost with the connection)\n";

// Sends commands and prints their replies in order, with the tool's own lines in between.
class reply_printer {
 public:
  // `per_command`: a command the connection failed prints its own error line and the others go
  // on (commands from stdin); otherwise the first failure is reported on `err` and ends it all.
  reply_printer(session& s, std::FILE* out, std::FILE* err, bool per_command)
      : session_(s),
        out_(out),
        err_(err),
        per_command_(per_command),
        on_lost_(s.loop().events(),
                 [this](const event::reconnect_scheduled&) { on_connection_lost(); }) {}

  // The callbacks of commands still waiting point here: fail them while this still exists.
  ~reply_printer() {
    if (in_flight() == 0) return;
    stopped_ = true;  // nothing more to print
    session_.connection().close();
  }

  reply_printer(const reply_printer&) = delete;
  reply_printer& operator=(const reply_printer&) = delete;

  void send(const std::vector<std::string>& args) {
    if (stopped_) return;
    const transaction_guard::verdict v =
        per_command_ ? guard_.on_send(args) : transaction_guard::verdict::send;
    if (v == transaction_guard::verdict::refuse) {
      status_ = run_failed;
      return print(std::string(transaction_lost));
    }
    const bool is_shutdown = ::strcasecmp(args[0].c_str(), "shutdown") == 0;
    const std::uint8_t flags = (prints_raw(args) ? raw : 0) | (is_shutdown ? shutdown : 0) |
                               (retry::is_read_only(args[0]) ? read_only : 0) |
                               (session_setup::changes_setup(args) ? setup : 0) |
                               (v == transaction_guard::verdict::send_inside ? inside : 0);
    if ((flags & inside) != 0) ++waiting_inside_;
    // The server may exit without sending the replies it still owes: collect them first.
    if (is_shutdown) wait_until_in_flight(0);
    // The library gave up reconnecting (its retries are spent): this command starts a new round.
    if (per_command_) session_.revive();
    if ((flags & setup) != 0) setup_changes_.push_back(args);
    ++sent_;
    session_.connection().exec(cmd::raw<resp::reply>{args},
                               [this, flags](result<resp::reply> r) { on_reply(r, flags); });
    // Whether the server went away as asked decides whether anything more is sent.
    if (is_shutdown) wait_until_in_flight(0);
    if (sent_ % poll_every == 0) session_.loop().poll();
    if (in_flight() >= max_in_flight) wait_until_in_flight(max_in_flight / 2);
  }

  /// Prints `text` after the replies of the commands sent so far.
  void print(std::string text) {
    if (in_flight() == 0) {
      append(text);
    } else {
      notes_.emplace_back(sent_, std::move(text));
    }
  }

  void wait_until_in_flight(std::size_t n) {
    session_.loop().run_until([this, n] { return in_flight() <= n; });
  }

  /// Waits for every reply, prints what is left, flushes.
  void finish() {
    wait_until_in_flight(0);
    print_notes_up_to(sent_);
    flush();
  }

  void flush() {
    if (!buffer_.empty()) std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
    buffer_.clear();
    std::fflush(out_);
  }

  std::size_t in_flight() const noexcept { return static_cast<std::size_t>(sent_ - answered_); }
  /// True when nothing more will be sent: the server was shut down, or (not per command) the
  /// connection failed.
  bool stopped() const noexcept { return stopped_; }
  int status() const noexcept { return status_; }

 private:
  static constexpr std::uint8_t raw = 1;        // redis-cli prints this command's reply raw
  static constexpr std::uint8_t shutdown = 2;   // the connection may end without a reply
  static constexpr std::uint8_t read_only = 4;  // retry::is_read_only: resent after a loss
  static constexpr std::uint8_t setup = 8;      // its success changes session_setup
  static constexpr std::uint8_t inside = 16;    // sent inside a transaction (transaction_guard)

  // The library is about to reconnect and resend what it kept. Not inside a transaction: the
  // waiting commands fail instead (and the connection is opened again for the next one).
  void on_connection_lost() {
    if (guard_.on_connection_lost(waiting_inside_)) session_.connection().close();
  }

  void on_reply(const result<resp::reply>& r, std::uint8_t flags) {
    print_notes_up_to(answered_);
    ++answered_;
    if ((flags & inside) != 0) --waiting_inside_;
    std::vector<std::string> change;
    if ((flags & setup) != 0) {
      change = std::move(setup_changes_.front());
      setup_changes_.pop_front();
    }
    if (stopped_) return;
    if (r.has_error()) return on_failure(r.error(), flags);
    if ((flags & setup) != 0 && !r.has_server_error()) session_.setup().apply(change);
    format_result(r, (flags & raw) != 0, buffer_);
    if (buffer_.size() >= output_chunk) flush_buffer();
  }

  void on_failure(const std::error_code& ec, std::uint8_t flags) {
    const bool ended = ec == errc::connection_closed || ec == errc::connection_reset ||
                       ec == errc::outcome_unknown;
    if ((flags & shutdown) != 0 && ended) {  // the server did as asked
      stopped_ = true;
      return;
    }
    status_ = run_failed;
    if (!per_command_) {
      stopped_ = true;
      flush();
      std::fprintf(err_, "Error: %s\n", session_.error_text(ec).c_str());
      return;
    }
    // One line in the command's place, saying whether it may have run (docs in run.hpp).
    if (ec == errc::outcome_unknown) {
      buffer_.append(may_have_run);
    } else if (!retry::is_transient(ec)) {
      buffer_.append(may_have_run_because).append(session_.error_text(ec)).append(")\n");
    } else if ((flags & read_only) != 0) {
      buffer_.append(no_reply).append(session_.error_text(ec)).append(")\n");
    } else {
      buffer_.append(not_sent).append(session_.error_text(ec)).append(")\n");
    }
    if (buffer_.size() >= output_chunk) flush_buffer();
  }

  void print_notes_up_to(std::uint64_t answered) {
    while (!notes_.empty() && notes_.front().first <= answered) {
      append(notes_.front().second);
      notes_.pop_front();
    }
  }

  void append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= output_chunk) flush_buffer();
  }

  void flush_buffer() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
    buffer_.clear();
  }

  session& session_;
  std::FILE* out_;
  std::FILE* err_;
  bool per_command_;
  std::uint64_t sent_ = 0;
  std::uint64_t answered_ = 0;
  // Lines to print once `first` commands have been answered.
  std::deque<std::pair<std::uint64_t, std::string>> notes_;
  // The arguments of the commands in flight that change session_setup, in order.
  std::deque<std::vector<std::string>> setup_changes_;
  std::string buffer_;
  bool stopped_ = false;
  int status_ = run_ok;
  transaction_guard guard_;
  std::size_t waiting_inside_ = 0;  // commands sent inside a transaction, not yet answered
  event::listener<event::reconnect_scheduled> on_lost_;
};

bool readable_within(int fd, int ms);

// True when reading `fd` would not block: data, end of file or an error is there.
bool readable_now(int fd) {
  return readable_within(fd, 0);
}

// The same, waiting up to `ms` milliseconds.
bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

// Waits for input while the connection stays serviced: a connection lost while the tool waits
// is noticed (and reconnected) now, not when the next command is written into a dead socket,
// where it would count as "may have run".
void wait_for_input(int fd, session& s) {
  // Short enough that a loss is seen at once; long enough that waiting costs nothing.
  constexpr int turn_ms = 20;
  while (!readable_within(fd, turn_ms))
    s.loop().poll();
  s.loop().poll();  // what happened while the input arrived comes before it
}

std::unique_ptr<session> open_session(const options& o, std::FILE* err, bool reconnect) {
  if (o.warn_about_password)
    std::fputs(
        "Warning: Using a password with '-a' or '-u' option on the command line interface may "
        "not be safe.\n",
        err);
  std::unique_ptr<session> s = session::create(o.server, err, reconnect, max_in_flight);
  if (s && !s->open()) s.reset();
  return s;
}

}  // namespace

int run_command(const options& o, std::FILE* out, std::FILE* err) {
  if (const std::string reason = unsupported_reason(o.command); !reason.empty()) {
    std::fprintf(err, "uredis-cli: %s\n", reason.c_str());
    return run_failed;
  }
  const std::unique_ptr<session> s = open_session(o, err, /*reconnect=*/false);
  if (!s) return run_failed;
  if (starts_stream(o.command))
    return run_stream(*s, o.command, out, err) == stream_end::error_reply ? run_ok : run_failed;
  reply_printer printer{*s, out, err, /*per_command=*/false};
  printer.send(o.command);
  printer.finish();
  return printer.status();
}

int run_lines(const options& o, int in_fd, std::FILE* out, std::FILE* err) {
  const std::unique_ptr<session> s = open_session(o, err, /*reconnect=*/true);
  if (!s) return run_failed;
  reply_printer printer{*s, out, err, /*per_command=*/true};
  line_reader reader{in_fd};
  std::vector<std::string> args;
  int status = run_ok;
  for (bool more = true; more && !printer.stopped();) {
    // Nothing more to read for now: print every reply due before blocking on the input.
    if (!reader.ready() && !readable_now(in_fd)) {
      printer.finish();
      wait_for_input(in_fd, *s);
    }
    std::string_view line;
    std::error_code ec;
    if (!reader.next(line, ec)) {
      if (ec) {
        printer.finish();
        std::fprintf(err, "uredis-cli: cannot read the input: %s\n", ec.message().c_str());
        status = run_failed;
      }
      break;
    }
    line_command c = interpret_line(line, args);
    switch (c.kind) {
      case line_kind::nothing:
        break;
      case line_kind::print:
        printer.print(std::move(c.text));
        break;
      case line_kind::quit:
        more = false;
        break;
      case line_kind::unsupported:
        printer.finish();
        std::fprintf(err, "uredis-cli: %s\n", c.text.c_str());
        status = run_failed;
        more = false;
        break;
      case line_kind::command:
        if (starts_stream(args)) {
          // Everything before it is printed first; the stream returns only on an error reply.
          printer.finish();
          for (long i = 0; i < c.repeat; ++i) {
            if (run_stream(*s, args, out, err) == stream_end::connection_lost) return run_failed;
          }
          break;
        }
        for (long i = 0; i < c.repeat && !printer.stopped(); ++i)
          printer.send(args);
        break;
    }
  }
  printer.finish();
  return printer.status() != run_ok ? printer.status() : status;
}

}  // namespace uredis::cli
