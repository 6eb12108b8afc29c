#include "uredis/lock/redlock.hpp"

#include <utility>

#include "lock/core_state.hpp"
#include "uredis/client/script.hpp"
#include "uredis/event/events.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/lock/token.hpp"
#include "uredis/reactor/timer.hpp"

namespace uredis::lock {
namespace detail {

// redlock's core: the lock's state and its work in flight, as for distributed_lock: owned by the
// handle until it is destroyed, then alive until its last command has answered and nothing is
// left to release. Every command carries the per-instance timeout, so that is soon.
class redlock_core final : public core_state<redlock_machine> {
 public:
  redlock_core(std::vector<std::reference_wrapper<connection>> masters, std::string name,
               const lock_options& options, std::chrono::milliseconds instance_timeout)
      : core_state(std::move(name), masters.size(), options, instance_timeout),
        timer_([this] { on_timer(); }) {
    conns_.reserve(masters.size());
    for (connection& c : masters)
      conns_.push_back(&c);
  }

  redlock_core(const redlock_core&) = delete;
  redlock_core& operator=(const redlock_core&) = delete;

  void acquire(std::chrono::milliseconds wait, acquire_callback done) override {
    if (const auto busy = callers::refuse_acquire(machine_.state())) {
      done(result<bool>(*busy));
      return;
    }
    if (fence_key_.empty() || conns_.empty()) {
      done(result<bool>(std::make_error_code(std::errc::invalid_argument)));
      return;
    }
    token_for_acquire();
    callers_.acquired = std::move(done);
    machine_.acquire(now(), wait);
    pump();
  }

  void cancel_acquire() override {
    machine_.cancel_acquire(now());
    pump();
  }

  void release(done_callback done) override {
    if (machine_.state() == lock_state::releasing && callers_.released) {
      if (done) done(result<void>(std::make_error_code(std::errc::operation_in_progress)));
      return;
    }
    callers_.released = std::move(done);
    if (conns_.empty()) {
      machine_.take_release_result();
      if (auto d = std::exchange(callers_.released, {}))
        d(result<void>(make_error_code(errc::lock_not_owned)));
      return;
    }
    machine_.release(now());
    pump();
  }

  void extend(std::chrono::milliseconds ms, bool replace, done_callback done) override {
    if (callers_.extended) {
      done(result<void>(std::make_error_code(std::errc::operation_in_progress)));
      return;
    }
    if (machine_.options().ttl.count() <= 0) {
      done(result<void>(std::make_error_code(std::errc::invalid_argument)));
      return;
    }
    callers_.extended = std::move(done);
    if (conns_.empty()) {
      if (auto d = std::exchange(callers_.extended, {}))
        d(result<void>(make_error_code(errc::lock_not_owned)));
      return;
    }
    machine_.extend(now(), ms, replace);
    pump();
  }

  void on_lost(lost_callback f) override { callers_.lost = std::move(f); }

  void forget(bool acquiring) noexcept override {
    callers_.forget(acquiring);
    if (acquiring && !conns_.empty()) machine_.cancel_acquire(now());
    pump();
  }

  void detach() noexcept override {
    handle_gone_ = true;
    callers_.clear();
    const lock_state s = machine_.state();
    if (!conns_.empty() &&
        (s == lock_state::acquiring || s == lock_state::held || s == lock_state::lost))
      machine_.release(now());
    pump();
  }

  util::clock::time_point now() const noexcept override {
    return conns_.front()->loop().timers().now();
  }

 private:
  // As lock_core::pump: commands out, outcomes to callers, until nothing changes; re-entered
  // calls (a callback acquiring again, a reply completing synchronously) ask for another round.
  void pump() noexcept {
    if (pumping_) {
      again_ = true;
      return;
    }
    pumping_ = true;
    do {
      again_ = false;
      if (!conns_.empty()) {
        const util::clock::time_point t = now();
        while (const auto out = machine_.take_command(t))
          send(*out);
      }
      deliver();
    } while (again_);
    pumping_ = false;
    const lock_state s = machine_.state();
    const bool busy = s == lock_state::releasing || s == lock_state::acquiring;
    if (handle_gone_ && in_flight_ == 0 && !busy) {
      delete this;
      return;
    }
    if (conns_.empty()) return;
    if (const auto at = machine_.wake_at())
      conns_.front()->loop().timers().rearm(timer_, *at);
    else
      timer_.cancel();
  }

  void send(const redlock_machine::send& out) {
    connection& conn = *conns_[out.instance];
    ++in_flight_;
    auto reply = [this, i = out.instance, seq = out.seq](result<std::int64_t> r) {
      on_reply(i, seq, std::move(r));
    };
    const std::string_view tok = token_.view();
    const std::chrono::milliseconds deadline = machine_.instance_timeout();
    switch (out.what) {
      case machine::command::acquire:
        conn.run<std::int64_t>(acquire_script(), {name_, fence_key_}, {tok, out.ms.count()},
                               std::move(reply), {.timeout = deadline, .idempotent = true});
        return;
      case machine::command::extend:
        conn.run<std::int64_t>(extend_script(), {name_},
                               {tok, out.ms.count(), out.replace ? "1" : "0"}, std::move(reply),
                               {.timeout = deadline, .idempotent = out.replace});
        return;
      case machine::command::release:
        // Compare-and-delete: harmless to repeat after a lost reply.
        conn.run<std::int64_t>(release_script(), {name_}, {tok, channel_}, std::move(reply),
                               {.timeout = deadline, .idempotent = true});
        return;
      case machine::command::none:
        --in_flight_;
        return;
    }
  }

  void on_reply(std::size_t instance, std::uint64_t seq, result<std::int64_t> r) noexcept {
    --in_flight_;
    machine_.on_reply(now(), instance, seq, r);
    pump();
  }

  void on_timer() noexcept {
    machine_.on_timer(now());
    pump();
  }

  void deliver() {
    if (auto lost = machine_.take_lost()) {
      connection& first = *conns_.front();
      first.events().emit(event::lock_lost{first.id(), machine_.fencing_token(), *lost});
      if (callers_.lost) callers_.lost(*lost);
      again_ = true;
    }
    if (callers_.deliver(machine_)) again_ = true;
  }

  std::vector<connection*> conns_;
  reactor::timer timer_;
  std::uint32_t in_flight_ = 0;
  bool pumping_ = false;
  bool again_ = false;
  bool handle_gone_ = false;
};

}  // namespace detail

redlock::redlock(std::vector<std::reference_wrapper<connection>> masters, std::string name,
                 lock_options options, std::chrono::milliseconds instance_timeout)
    : basic_lock(new detail::redlock_core(masters, std::move(name), options, instance_timeout)),
      masters_(masters.size()) {}

}  // namespace uredis::lock
