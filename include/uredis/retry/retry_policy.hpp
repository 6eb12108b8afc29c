#pragma once
// retry_policy: the sans-I/O decision "after this failure, resend after a delay, or give up
// with which error". The client layer reports each failure of an operation (connect, the
// health-check PING, a command) and does what the decision says; the policy does no I/O, owns
// no timer and keeps no per-operation state beyond a retry_state the caller holds.
//
// The rules, in order, for a failure with error `e` (redis-py's Retry.call_with_retry, plus
// the idempotency rule it lacks):
//
//   1. not retryable(e)                      -> give up with e at once
//   2. written && !idempotent                -> give up with errc::outcome_unknown (cause e):
//                                               the bytes may have reached the server, so a
//                                               resend could execute the command twice
//   3. retries >= 0 && failures > retries    -> give up with e (the budget is spent)
//   4. otherwise                             -> retry after backoff.compute(failures)
//
// "written" means some byte of the command may have left the process (a partial write counts).
// An unwritten command never reached the server, so resending it is always safe. "idempotent"
// is the caller's word: is_read_only(name) for reads, or a command the caller marked.
// attempts = retries + 1; retries < 0 retries forever.
//
// The fail hook runs on every failure decide() sees, the last and the non-retryable ones too
// (redis-py calls it only for retryable errors; a hook that wants that checks the decision it
// is given). It is a plain function pointer plus a context pointer, so a policy is a copyable
// value that never allocates.

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "uredis/retry/backoff.hpp"
#include "uredis/util/random.hpp"

namespace uredis::retry {

/// What to do after a failure: resend after `delay`, or complete with `error`.
struct decision {
  enum class action : std::uint8_t { retry, give_up };

  action what = action::give_up;
  std::chrono::nanoseconds delay{0};  // retry: the wait before resending
  std::error_code error;              // give_up: the error the operation completes with
  std::error_code cause;  // the failure that led here (== error except for outcome_unknown)

  static decision retry_after(std::chrono::nanoseconds delay, std::error_code cause) noexcept {
    return {action::retry, delay, {}, cause};
  }
  static decision give_up(std::error_code error, std::error_code cause) noexcept {
    return {action::give_up, std::chrono::nanoseconds(0), error, cause};
  }

  bool retrying() const noexcept { return what == action::retry; }

  friend bool operator==(const decision&, const decision&) = default;
};

/// The failure handed to the fail hook, with the verdict on it.
struct failure {
  std::error_code error;   // as reported by the caller
  std::uint32_t failures;  // failures of this operation so far, this one included (>= 1)
  bool written;
  bool idempotent;
  decision verdict;
};

/// The default retryable set: connection errors and timeouts. True for uredis'
/// connection_refused, connection_reset, connection_closed, not_connected, timeout,
/// server_loading (redis-py's BusyLoadingError is a ConnectionError) and the Sentinel codes
/// sentinel_unreachable, role_mismatch and primary_switched (a failover under way), and for
/// the std::errc conditions connection_refused, connection_reset, connection_aborted,
/// not_connected, broken_pipe, timed_out, host_unreachable, network_unreachable, network_down
/// and network_reset (the codes exceptions.hpp raises as connection_error or timeout_error).
bool is_transient(const std::error_code& ec) noexcept;

/// True when `command_name` (the first word of a command, any case) only reads: GET, MGET,
/// EXISTS, TTL, HGETALL, LRANGE, SMEMBERS, ZRANGE, SCAN, PING, ECHO and the like (the table is
/// in retry_policy.cpp). Such a command is safe to resend after its reply was lost. False for
/// anything unknown, writes and multi-word container commands. No allocation.
bool is_read_only(std::string_view command_name) noexcept;

class retry_policy {
 public:
  using retryable_fn = bool (*)(const std::error_code&) noexcept;
  using fail_hook_fn = void (*)(void* context, const failure&) noexcept;

  /// redis-py's client default: 10 retries, exponential with jitter, base 10 ms, cap 1 s.
  static constexpr std::int32_t default_retries = 10;
  static constexpr auto default_base = std::chrono::milliseconds(10);
  static constexpr auto default_cap = std::chrono::seconds(1);

  /// The client default (see above), retrying is_transient() errors, no hook.
  retry_policy() noexcept = default;
  /// `retries` retries (negative: forever) paced by `strategy`, retrying is_transient() errors.
  retry_policy(backoff strategy, std::int32_t retries) noexcept
      : backoff_(strategy), retries_(retries) {}

  /// A policy that never retries (0 retries, no backoff).
  static retry_policy never() noexcept { return {backoff::none(), 0}; }

  const backoff& strategy() const noexcept { return backoff_; }
  std::int32_t retries() const noexcept { return retries_; }
  bool forever() const noexcept { return retries_ < 0; }

  /// Replaces the predicate choosing which errors are retried. Precondition: non-null.
  retry_policy& retry_on(retryable_fn predicate) noexcept;
  /// Installs a hook called with every failure; `context` is passed back untouched. Null
  /// removes it.
  retry_policy& on_failure(fail_hook_fn hook, void* context = nullptr) noexcept;

  bool retryable(const std::error_code& ec) const noexcept { return retryable_(ec); }

  friend bool operator==(const retry_policy&, const retry_policy&) = default;

  /// The verdict on failure number `failures` (>= 1) of one operation, by the rules above.
  /// `strategy` is the operation's own copy of strategy() (reset when the operation began);
  /// it and `rng` are used only when the verdict is to retry. Calls the fail hook.
  decision decide(const std::error_code& error, std::uint32_t failures, bool written,
                  bool idempotent, backoff& strategy, util::rng& rng) const noexcept;

 private:
  backoff backoff_ = backoff::exponential_with_jitter(default_base, default_cap);
  std::int32_t retries_ = default_retries;
  retryable_fn retryable_ = &is_transient;
  fail_hook_fn hook_ = nullptr;
  void* hook_context_ = nullptr;
};

/// The retry bookkeeping of one operation: its failure count and its own copy of the
/// policy's backoff (so decorrelated jitter starts afresh for each operation, and operations
/// never share state). Holds a pointer to the policy, which must outlive it.
class retry_state {
 public:
  explicit retry_state(const retry_policy& policy) noexcept
      : policy_(&policy), backoff_(policy.strategy()) {
    backoff_.reset();
  }

  /// Counts one more failure and returns the policy's verdict on it.
  decision on_failure(const std::error_code& error, bool written, bool idempotent,
                      util::rng& rng) noexcept {
    if (failures_ != UINT32_MAX) ++failures_;  // forever must not wrap back to "first"
    return policy_->decide(error, failures_, written, idempotent, backoff_, rng);
  }

  /// Starts over, as for a new operation.
  void reset() noexcept {
    failures_ = 0;
    backoff_.reset();
  }

  std::uint32_t failures() const noexcept { return failures_; }

 private:
  const retry_policy* policy_;
  backoff backoff_;
  std::uint32_t failures_ = 0;
};

}  // namespace uredis::retry
