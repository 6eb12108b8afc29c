#pragma once
// callers: who a lock core answers — one acquire, one release and one extend at a time, and
// the listener of losses — and how a machine's outcomes reach them. Shared by the
// single-server core (distributed_lock.cpp) and the Redlock one (redlock.cpp), whose machines
// hand out outcomes the same way (take_acquire_result...).

#include <optional>
#include <system_error>
#include <utility>

#include "uredis/lock/basic_lock.hpp"

namespace uredis::lock::detail {

struct callers {
  acquire_callback acquired;
  done_callback released;
  done_callback extended;
  lost_callback lost;

  /// Why an acquire cannot start now, if it cannot: one is already on its way or done.
  static std::optional<std::error_code> refuse_acquire(lock_state s) noexcept {
    if (s == lock_state::acquiring || s == lock_state::held || s == lock_state::releasing)
      return std::make_error_code(std::errc::operation_in_progress);
    return std::nullopt;
  }

  /// A coroutine that awaited the lock is gone: its operation goes on unheard.
  void forget(bool acquiring) noexcept {
    if (acquiring) {
      acquired = {};
    } else {
      released = {};
      extended = {};
    }
  }
  /// The handle is gone: nobody hears of anything any more.
  void clear() noexcept {
    forget(true);
    forget(false);
    lost = {};
  }

  /// Hands `m`'s acquire, release and extend outcomes to their callers; true when there was
  /// any (a callback may have changed the lock: the caller looks again).
  template <class Machine>
  bool deliver(Machine& m) {
    bool any = false;
    if (auto got = m.take_acquire_result()) {
      any = true;
      if (auto done = std::exchange(acquired, {})) done(std::move(*got));
    }
    if (auto r = m.take_release_result()) {
      any = true;
      if (auto done = std::exchange(released, {})) done(std::move(*r));
    }
    if (auto r = m.take_extend_result()) {
      any = true;
      if (auto done = std::exchange(extended, {})) done(std::move(*r));
    }
    return any;
  }
};

}  // namespace uredis::lock::detail
