#pragma once
// core_state: what both lock cores hold and report alike — the lock's name and the names it
// derives (fence key, release channel), the token of the current acquisition, the protocol
// machine (lock::machine or lock::redlock_machine), the callers to answer, and the lock_core
// getters read from them. The cores (distributed_lock.cpp, redlock.cpp) add their connections
// and how they send.

#include <string>
#include <string_view>
#include <utility>

#include "lock/callers.hpp"
#include "uredis/lock/basic_lock.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/lock/token.hpp"

namespace uredis::lock::detail {

template <class Machine>
class core_state : public lock_core {
 public:
  lock_state state() const noexcept override { return machine_.state(); }
  std::uint64_t fencing_token() const noexcept override { return machine_.fencing_token(); }
  std::string_view token() const noexcept override { return token_.view(); }
  util::clock::time_point valid_until() const noexcept override { return machine_.valid_until(); }
  const std::string& name() const noexcept override { return name_; }
  const lock_options& options() const noexcept override { return machine_.options(); }

 protected:
  template <class... MachineArgs>
  explicit core_state(std::string name, MachineArgs&&... machine_args)
      : name_(std::move(name)),
        fence_key_(fence_key(name_)),
        channel_(release_channel(name_)),
        machine_(std::forward<MachineArgs>(machine_args)...) {}
  ~core_state() = default;

  // The token an acquire starts with: a new one, except after a loss. The key may still carry
  // the old token then (an extend that reached the server but answered after valid_until, or
  // extends cut off on the connection while the server kept the key); the acquire script takes
  // its own token back at once instead of finding the lock busy until a ttl nobody releases.
  void token_for_acquire() noexcept {
    if (machine_.state() != lock_state::lost) token_ = lock::token::random();
  }

  std::string name_;
  std::string fence_key_;  // empty: the name cannot be fenced (acquire refuses it)
  std::string channel_;
  lock::token token_;
  Machine machine_;
  callers callers_;
};

}  // namespace uredis::lock::detail
