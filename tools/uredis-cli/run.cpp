#include "run.hpp"

#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "input.hpp"
#include "line_command.hpp"
#include "redirect_follower.hpp"
#include "reply_printer.hpp"
#include "session.hpp"
#include "stream_mode.hpp"

namespace uredis::cli {
namespace {

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
  reply_printer printer{*s, out, err, /*per_command=*/false};
  if (starts_stream(o.command)) {
    const stream_end end =
        o.cluster ? redirect_follower{*s, printer, err, /*announce=*/false}.stream(o.command, out)
                  : run_stream(*s, o.command, out, err);
    return end == stream_end::error_reply && printer.status() == run_ok ? run_ok : run_failed;
  }
  if (o.cluster) {
    redirect_follower{*s, printer, err, /*announce=*/false}.issue(o.command, 1);
  } else {
    printer.send(o.command);
  }
  printer.finish();
  return printer.status();
}

int run_lines(const options& o, int in_fd, std::FILE* out, std::FILE* err) {
  const std::unique_ptr<session> s = open_session(o, err, /*reconnect=*/true);
  if (!s) return run_failed;
  reply_printer printer{*s, out, err, /*per_command=*/true};
  // -c: one command at a time, each followed to the node that serves it.
  std::optional<redirect_follower> follower;
  if (o.cluster) follower.emplace(*s, printer, err, /*announce=*/true);
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
            const stream_end end =
                follower ? follower->stream(args, out) : run_stream(*s, args, out, err);
            if (end == stream_end::connection_lost) return run_failed;
          }
          break;
        }
        if (follower) {
          follower->issue(args, c.repeat);
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
