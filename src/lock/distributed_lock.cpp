#include "uredis/lock/distributed_lock.hpp"

#include <utility>

#include "lock/core_state.hpp"
#include "uredis/client/script.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/event/events.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/lock/token.hpp"
#include "uredis/lock/wakeups.hpp"
#include "uredis/reactor/timer.hpp"

namespace uredis::lock {
namespace detail {

// distributed_lock's core: the lock's state and its work in flight. The handle (distributed_lock)
// owns it until it is destroyed; from then on the core lives on until its last command has answered
// and nothing is left to release, then frees itself.
class single_lock_core final : public core_state<machine> {
 public:
  single_lock_core(connection& conn, std::string name, const lock_options& options, wakeups* wake)
      : core_state(std::move(name), options),
        conn_(&conn),
        wake_(wake),
        timer_([this] { on_timer(); }),
        waiter_([this] { on_woken(); }) {}

  single_lock_core(const single_lock_core&) = delete;
  single_lock_core& operator=(const single_lock_core&) = delete;

  void acquire(std::chrono::milliseconds wait, acquire_callback done) override {
    if (const auto busy = callers::refuse_acquire(machine_.state())) {
      done(result<bool>(*busy));
      return;
    }
    if (fence_key_.empty()) {
      done(result<bool>(std::make_error_code(std::errc::invalid_argument)));
      return;
    }
    token_for_acquire();
    callers_.acquired = std::move(done);
    machine_.acquire(now(), wait);
    pump();
  }

  void cancel_acquire() override {
    machine_.cancel_acquire();
    pump();
  }

  void release(done_callback done) override {
    if (machine_.state() == lock_state::releasing && callers_.released) {
      if (done) done(result<void>(std::make_error_code(std::errc::operation_in_progress)));
      return;
    }
    callers_.released = std::move(done);
    machine_.release();
    pump();
  }

  void extend(std::chrono::milliseconds ms, bool replace, done_callback done) override {
    if (callers_.extended) {
      done(result<void>(std::make_error_code(std::errc::operation_in_progress)));
      return;
    }
    if (machine_.options().ttl.count() <= 0) {  // redis-py: "a lock with no timeout"
      done(result<void>(std::make_error_code(std::errc::invalid_argument)));
      return;
    }
    callers_.extended = std::move(done);
    machine_.extend(ms, replace);
    pump();
  }

  void on_lost(lost_callback f) override { callers_.lost = std::move(f); }

  void forget(bool acquiring) noexcept override {
    callers_.forget(acquiring);
    if (acquiring) machine_.cancel_acquire();
    pump();
  }

  // The handle is gone: nobody hears of anything any more, and nothing stays held.
  void detach() noexcept override {
    handle_gone_ = true;
    callers_.clear();
    if (wake_ != nullptr) wake_->unwatch(waiter_);
    wake_ = nullptr;  // it may go before this core's work in flight ends
    const lock_state s = machine_.state();
    if (s == lock_state::acquiring || s == lock_state::held || s == lock_state::lost)
      machine_.release();
    pump();
  }

  util::clock::time_point now() const noexcept override { return conn_->loop().timers().now(); }

 private:
  // Feeds the machine's wishes to the connection, its timer to the wheel, and its outcomes to
  // the callers, until nothing changes; re-entered calls (a callback acquiring again, a reply
  // completing synchronously) just ask for another round.
  void pump() noexcept {
    if (pumping_) {
      again_ = true;
      return;
    }
    pumping_ = true;
    do {
      again_ = false;
      const util::clock::time_point t = now();
      for (machine::command c = machine_.take_command(t); c != machine::command::none;
           c = machine_.take_command(t))
        send(c);
      deliver();
    } while (again_);
    pumping_ = false;
    const bool busy =
        machine_.state() == lock_state::releasing || machine_.state() == lock_state::acquiring;
    if (handle_gone_ && in_flight_ == 0 && (!busy || abandoned_)) {
      delete this;
      return;
    }
    if (const auto at = machine_.wake_at())
      conn_->loop().timers().rearm(timer_, *at);
    else
      timer_.cancel();
  }

  void send(machine::command c) {
    ++in_flight_;
    auto reply = [this](result<std::int64_t> r) { on_reply(std::move(r)); };
    const std::string_view tok = token_.view();
    switch (c) {
      case machine::command::acquire:
        // Idempotent: a resend that finds our token takes it again, with a new fence.
        conn_->run<std::int64_t>(acquire_script(), {name_, fence_key_},
                                 {tok, machine_.command_ms().count()}, std::move(reply),
                                 {.idempotent = true});
        return;
      case machine::command::extend:
        // Setting the ttl again is harmless; adding to it twice is not.
        conn_->run<std::int64_t>(
            extend_script(), {name_},
            {tok, machine_.command_ms().count(), machine_.command_replaces() ? "1" : "0"},
            std::move(reply), {.idempotent = machine_.command_replaces()});
        return;
      case machine::command::release:
        // Not marked idempotent: the machine resends it itself, counting, so it can read a 0
        // after a resend as "already released" (machine.hpp).
        conn_->run<std::int64_t>(release_script(), {name_}, {tok, channel_}, std::move(reply));
        return;
      case machine::command::none:
        --in_flight_;
        return;
    }
  }

  void on_reply(result<std::int64_t> r) noexcept {
    --in_flight_;
    // A closed connection ends the work of a lock nobody holds a handle to any more: nothing
    // can reach the server now, and the key expires on its own.
    if (handle_gone_ && r.has_error() &&
        (r.error() == errc::connection_closed || r.error() == errc::not_connected))
      abandoned_ = true;
    machine_.on_reply(now(), r);
    pump();
  }

  void on_timer() noexcept {
    machine_.on_timer(now());
    pump();
  }

  void on_woken() noexcept {
    machine_.on_released();
    pump();
  }

  void deliver() {
    const lock_state s = machine_.state();
    if (wake_ != nullptr) {
      if (s == lock_state::acquiring && machine_.in_flight() == machine::command::none &&
          !waiter_.watching())
        wake_->watch(name_, waiter_);  // after a busy answer: before the next try
      else if (s != lock_state::acquiring && waiter_.watching())
        wake_->unwatch(waiter_);
    }
    if (auto lost = machine_.take_lost()) {
      conn_->events().emit(event::lock_lost{conn_->id(), machine_.fencing_token(), *lost});
      if (callers_.lost) callers_.lost(*lost);
      again_ = true;
    }
    if (callers_.deliver(machine_)) again_ = true;
  }

  connection* conn_;
  wakeups* wake_;
  reactor::timer timer_;
  wakeups::waiter waiter_;
  std::uint32_t in_flight_ = 0;
  bool pumping_ = false;
  bool again_ = false;
  bool handle_gone_ = false;
  bool abandoned_ = false;
};

}  // namespace detail

distributed_lock::distributed_lock(connection& conn, std::string name, lock_options options,
                                   wakeups* wake)
    : basic_lock(new detail::single_lock_core(conn, std::move(name), options, wake)),
      conn_(&conn) {}

void distributed_lock::locked(util::inline_function<void(result<bool>), 32> done) {
  conn_->exec(cmd::exists{{std::string_view(name())}},
              [done = std::move(done)](result<std::int64_t> n) mutable {
                if (!n) return done(failure_of<bool>(n));
                done(*n > 0);
              });
}

void distributed_lock::remaining_ttl(remaining_callback done) {
  conn_->exec(cmd::pttl{name()}, [done = std::move(done)](result<std::int64_t> ms) mutable {
    using left = std::optional<std::chrono::milliseconds>;
    if (!ms) return done(failure_of<left>(ms));
    if (*ms == -2) return done(left{});  // no key
    if (*ms == -1) return done(left{std::chrono::milliseconds::max()});
    done(left{std::chrono::milliseconds(*ms)});
  });
}

}  // namespace uredis::lock
