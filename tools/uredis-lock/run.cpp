#include "run.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "child.hpp"
#include "signal_relay.hpp"
#include "tool_lock.hpp"
#include "uredis/error.hpp"
#include "uredis/reactor/timer.hpp"

namespace uredis::lock_tool {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds poll_every{10};
// A command still running this long after the SIGTERM sent for a lost lock gets SIGKILL: it
// runs unprotected by then.
constexpr milliseconds kill_after{5000};

template <class T>
std::string failure_text(const result<T>& r) {
  if (r.has_error()) return r.error().message();
  if (r.has_server_error()) return r.server_error().message;
  return "unknown error";
}

class runner {
 public:
  runner(reactor::reactor& r, const options& o, tool_lock& lock, std::FILE* out, std::FILE* err)
      : reactor_(r), o_(o), lock_(lock), out_(out), err_(err), tick_([this] { on_tick(); }) {}

  int run() {
    std::optional<result<void>> connected;
    lock_.connect([&connected](result<void> r) { connected.emplace(std::move(r)); });
    reactor_.run_until([&] { return connected.has_value(); });
    if (!*connected) {
      std::fprintf(err_, "uredis-lock: cannot connect to Redis at %s: %s\n", lock_.where().c_str(),
                   failure_text(*connected).c_str());
      return exit_failure;
    }
    if (o_.mode == mode::status) return status();
    // From here a signal must not end the tool before the lock is given back.
    install_signal_relay();
    reactor_.timers().arm_in(tick_, poll_every);
    const int status = hold_and_run();
    tick_.cancel();
    return status;
  }

 private:
  int status() {
    std::optional<result<std::int64_t>> ttl;
    lock_.remaining([&ttl](result<std::int64_t> r) { ttl.emplace(std::move(r)); });
    reactor_.run_until([&] { return ttl.has_value(); });
    if (!*ttl) {
      std::fprintf(err_, "uredis-lock: cannot read lock '%s': %s\n", o_.name.c_str(),
                   failure_text(*ttl).c_str());
      return exit_failure;
    }
    if (**ttl == -2)
      std::fprintf(out_, "free\n");
    else if (**ttl == -1)
      std::fprintf(out_, "held, no ttl\n");
    else
      std::fprintf(out_, "held, ttl %lld ms\n", static_cast<long long>(**ttl));
    return 0;
  }

  int hold_and_run() {
    std::optional<result<bool>> got;
    lock_.acquire(o_.wait, [&got](result<bool> r) { got.emplace(std::move(r)); });
    reactor_.run_until([&] { return got.has_value(); });
    if (!*got) {
      std::fprintf(err_, "uredis-lock: cannot acquire lock '%s': %s\n", o_.name.c_str(),
                   failure_text(*got).c_str());
      return exit_failure;
    }
    if (!**got) {
      if (interrupted_ != 0) return 128 + interrupted_;
      if (o_.wait == lock::no_wait)
        std::fprintf(err_, "uredis-lock: lock '%s' is held by another owner\n", o_.name.c_str());
      else
        std::fprintf(err_, "uredis-lock: lock '%s' is still held by another owner after %lld ms\n",
                     o_.name.c_str(), static_cast<long long>(o_.wait.count()));
      return exit_tempfail;
    }

    lock_.on_lost([this](std::error_code why) { on_lost(why); });
    const std::string token = "UREDIS_LOCK_TOKEN=" + std::to_string(lock_.fencing_token());
    int status = 0;
    if (interrupted_ != 0) {
      status = 128 + interrupted_;  // won just as a signal came: run nothing
    } else if (const int error = child_.start(o_.command, token); error != 0) {
      std::fprintf(err_, "uredis-lock: cannot run '%s': %s\n", o_.command[0].c_str(),
                   std::strerror(error));
      status = error == ENOENT ? exit_not_found : exit_cannot_run;
    } else {
      reactor_.run_until([&] { return !child_.running(); });
      status = *child_.poll();
    }
    return release(status);
  }

  int release(int status) {
    std::optional<result<void>> released;
    lock_.release([&released](result<void> r) { released.emplace(std::move(r)); });
    reactor_.run_until([&] { return released.has_value(); });
    if (lost_) return exit_tempfail;  // said so when it happened
    if (*released) return status;
    if (released->has_error() && released->error() == errc::lock_not_owned) {
      std::fprintf(err_,
                   "uredis-lock: lock '%s' was no longer held when the command ended (it expired "
                   "or was taken): the command may not have run alone\n",
                   o_.name.c_str());
      return exit_tempfail;
    }
    // Still ours as far as anyone knows: it expires on its own within the ttl.
    std::fprintf(err_, "uredis-lock: cannot release lock '%s' (%s): it expires within %lld ms\n",
                 o_.name.c_str(), failure_text(*released).c_str(),
                 static_cast<long long>(o_.ttl.count()));
    return status;
  }

  void on_lost(std::error_code why) {
    if (lost_ || !child_.running()) return;  // after the command: release() tells
    lost_ = true;
    std::fprintf(err_,
                 "uredis-lock: lock '%s' lost while the command ran (%s): sending it SIGTERM\n",
                 o_.name.c_str(),
                 why == errc::lock_not_owned ? "it expired or was taken by another owner"
                                             : why.message().c_str());
    child_.signal(SIGTERM);
    kill_at_ = reactor_.timers().now() + kill_after;
  }

  // Every poll_every: signals caught, the command's exit, the grace period after a loss.
  void on_tick() {
    while (const auto sig = take_signal()) {
      if (child_.running()) {
        if (!sig->from_terminal) child_.signal(sig->number);  // the terminal's reached it already
      } else if (interrupted_ == 0) {
        interrupted_ = sig->number;  // still waiting: stop, and exit as that signal would
        lock_.cancel_acquire();
      }
    }
    child_.poll();
    if (kill_at_ && child_.running() && reactor_.timers().now() >= *kill_at_) {
      child_.signal(SIGKILL);
      kill_at_.reset();
    }
    reactor_.timers().arm_in(tick_, poll_every);
  }

  reactor::reactor& reactor_;
  const options& o_;
  tool_lock& lock_;
  std::FILE* out_;
  std::FILE* err_;
  child child_;
  reactor::timer tick_;
  int interrupted_ = 0;  // the signal that ended the wait
  bool lost_ = false;
  std::optional<util::clock::time_point> kill_at_;
};

}  // namespace

int run(const options& o, std::FILE* out, std::FILE* err) {
  auto r = reactor::reactor::create();
  if (!r) {
    std::fprintf(err, "uredis-lock: cannot start the event loop: %s\n",
                 r.error().message().c_str());
    return exit_failure;
  }
  std::string error;
  std::unique_ptr<tool_lock> lock = make_tool_lock(**r, o, error);
  if (!lock) {
    std::fprintf(err, "uredis-lock: %s\n", error.c_str());
    return exit_usage;
  }
  return runner(**r, o, *lock, out, err).run();
}

}  // namespace uredis::lock_tool
