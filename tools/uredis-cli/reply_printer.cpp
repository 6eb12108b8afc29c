#include "reply_printer.hpp"

#include <strings.h>

#include "reply_output.hpp"
#include "run.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/error.hpp"
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

}  // namespace

reply_printer::reply_printer(session& s, std::FILE* out, std::FILE* err, bool per_command)
    : session_(s),
      out_(out),
      err_(err),
      per_command_(per_command),
      on_lost_(s.loop().events(),
               [this](const event::reconnect_scheduled&) { on_connection_lost(); }) {}

reply_printer::~reply_printer() {
  if (in_flight() == 0) return;
  stopped_ = true;  // nothing more to print
  session_.connection().close();
}

void reply_printer::send(const std::vector<std::string>& args) {
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
  in_exec_ = true;
  session_.connection().exec(cmd::raw<resp::reply>{args},
                             [this, flags](result<resp::reply> r) { on_reply(r, flags); });
  in_exec_ = false;
  // Whether the server went away as asked decides whether anything more is sent.
  if (is_shutdown) wait_until_in_flight(0);
  if (sent_ % poll_every == 0) session_.loop().poll();
  if (in_flight() >= max_in_flight) wait_until_in_flight(max_in_flight / 2);
}

void reply_printer::print(std::string text) {
  if (in_flight() == 0) {
    append(text);
  } else {
    notes_.emplace_back(sent_, std::move(text));
  }
}

void reply_printer::wait_until_in_flight(std::size_t n) {
  session_.loop().run_until([this, n] { return in_flight() <= n; });
}

void reply_printer::finish() {
  wait_until_in_flight(0);
  print_notes_up_to(sent_);
  flush();
}

void reply_printer::flush() {
  if (!buffer_.empty()) std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
  buffer_.clear();
  std::fflush(out_);
}

// The library is about to reconnect and resend what it kept. Not inside a transaction: the
// waiting commands fail instead (and the connection is opened again for the next one).
void reply_printer::on_connection_lost() {
  if (guard_.on_connection_lost(waiting_inside_)) session_.connection().close();
}

void reply_printer::on_reply(const result<resp::reply>& r, std::uint8_t flags) {
  // Refused inside exec(): not sent after all, and its line goes after those of the commands
  // before it, which may still be waiting.
  const bool at_once = in_exec_;
  if (at_once) {
    --sent_;
  } else {
    print_notes_up_to(answered_);
    ++answered_;
  }
  if ((flags & inside) != 0) --waiting_inside_;
  std::vector<std::string> change;
  if ((flags & setup) != 0 && at_once) {  // a refusal's change is the last one pushed
    change = std::move(setup_changes_.back());
    setup_changes_.pop_back();
  } else if ((flags & setup) != 0) {
    change = std::move(setup_changes_.front());
    setup_changes_.pop_front();
  }
  if (stopped_) return;
  if (r.has_error()) return on_failure(r.error(), flags, at_once);
  if (hold_redirects_ && r.has_server_error()) {
    if (auto to = cluster::parse_redirect(r.server_error(), session_.server().host)) {
      redirect_ = std::move(*to);
      return;
    }
  }
  if ((flags & setup) != 0 && !r.has_server_error()) session_.setup().apply(change);
  format_result(r, (flags & raw) != 0, buffer_);
  if (buffer_.size() >= output_chunk) flush_buffer();
}

void reply_printer::on_failure(const std::error_code& ec, std::uint8_t flags, bool at_once) {
  const bool ended =
      ec == errc::connection_closed || ec == errc::connection_reset || ec == errc::outcome_unknown;
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
  // One line in the command's place, saying whether it may have run (docs in run.hpp). What
  // the library refused at once never left.
  std::string line;
  if (ec == errc::outcome_unknown) {
    line = may_have_run;
  } else if (!at_once && !retry::is_transient(ec)) {
    line.append(may_have_run_because).append(session_.error_text(ec)).append(")\n");
  } else if (!at_once && (flags & read_only) != 0) {
    line.append(no_reply).append(session_.error_text(ec)).append(")\n");
  } else {
    line.append(not_sent).append(session_.error_text(ec)).append(")\n");
  }
  if (at_once) return print(std::move(line));
  append(line);
}

void reply_printer::print_notes_up_to(std::uint64_t answered) {
  while (!notes_.empty() && notes_.front().first <= answered) {
    append(notes_.front().second);
    notes_.pop_front();
  }
}

void reply_printer::append(std::string_view text) {
  buffer_.append(text);
  if (buffer_.size() >= output_chunk) flush_buffer();
}

void reply_printer::flush_buffer() {
  std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
  buffer_.clear();
}

}  // namespace uredis::cli
