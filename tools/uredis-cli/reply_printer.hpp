#pragma once
// reply_printer: sends the network modes' commands on the session's connection and prints their
// replies in order, with the tool's own lines in between (run.hpp says what each line means).
//
// Commands from stdin (`per_command`): a command the connection failed prints its own line in
// its place ("(error) uredis-cli: not sent (...)", "... may have run ...") and the others go
// on. One command from the command line: the first failure is reported on `err` as
// "Error: ..." and ends the run.
//
// Cluster mode (redirect_follower.hpp): with hold_redirects(true), a MOVED or ASK reply is
// not printed but kept for take_redirect(), as redis-cli -c prints nothing for it.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "session.hpp"
#include "transaction_guard.hpp"
#include "uredis/cluster/redirect.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"

namespace uredis::cli {

class reply_printer {
 public:
  reply_printer(session& s, std::FILE* out, std::FILE* err, bool per_command);

  // The callbacks of commands still waiting point here: fail them while this still exists.
  ~reply_printer();

  reply_printer(const reply_printer&) = delete;
  reply_printer& operator=(const reply_printer&) = delete;

  /// Sends `args`; its reply is printed when it comes, after those of the commands before it.
  void send(const std::vector<std::string>& args);

  /// Prints `text` after the replies of the commands sent so far.
  void print(std::string text);

  /// Runs the loop until at most `n` commands await their replies.
  void wait_until_in_flight(std::size_t n);

  /// Waits for every reply, prints what is left, flushes.
  void finish();

  /// Writes what is buffered to `out` and flushes it.
  void flush();

  /// Cluster mode: keep MOVED and ASK replies instead of printing them.
  void hold_redirects(bool on) noexcept { hold_redirects_ = on; }
  /// The redirect a reply carried since the last call, if any.
  std::optional<cluster::redirect> take_redirect() noexcept {
    return std::exchange(redirect_, std::nullopt);
  }

  /// Marks the run as failed (exit status 1) without printing anything.
  void fail() noexcept { status_ = 1; }

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

  void on_connection_lost();
  void on_reply(const result<resp::reply>& r, std::uint8_t flags);
  // `at_once`: the library refused the command inside exec() (RESET, no connection): it was
  // never sent, and commands sent before it may still wait for their replies.
  void on_failure(const std::error_code& ec, std::uint8_t flags, bool at_once);
  void print_notes_up_to(std::uint64_t answered);
  void append(std::string_view text);
  void flush_buffer();

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
  bool in_exec_ = false;  // inside connection().exec(): a completion now is a refusal
  int status_ = 0;
  bool hold_redirects_ = false;
  std::optional<cluster::redirect> redirect_;
  transaction_guard guard_;
  std::size_t waiting_inside_ = 0;  // commands sent inside a transaction, not yet answered
  event::listener<event::reconnect_scheduled> on_lost_;
};

}  // namespace uredis::cli
