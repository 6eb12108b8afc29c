#pragma once
// token_refresh: when a token manager asks its source for a new token, as a sans-I/O state
// machine driven by a clock (a manual_clock in tests). It never calls the source itself: it
// says what is due (take_actions()) and is told what came of it (on_token(), on_failure()).
//
// The refresh time of a token received at R, expiring at E (redis-py's token manager):
//
//   refresh_at = max(now, min(R + ratio * (E - R), E - lower_bound))
//
//   R ──────────── ratio·(E−R) ──────────►│ refresh            │
//   R ──────────────────────────── E − lower_bound ──►│        E
//                                   (the earlier of the two wins)
//
// A token with no expiry is never refreshed. A fetch that fails, or that is not answered within
// fetch_timeout (a stalled source: its late answer is not waited for), is retried after the
// backoff's delay for that many failures in a row, for ever (redis-py gives up after a few
// tries; a manager that gives up leaves every connection to fail at the expiry). The old token
// stays in use meanwhile. When the current token's expiry passes with no replacement, the
// `expired` action says so once: connects must then fail (errc::credentials_expired) until a
// fetch succeeds.
//
//   idle --start()--> fetching --on_token--> waiting (refresh_at) --due--> fetching ...
//                        |  ^                                                 |
//                on_failure / timeout                                         |
//                        v  |                                                 |
//                     backing off (retry_at) <--------------------------------+ on_failure
//
// Owner: the token manager, on one shard. Nothing here allocates.

#include <chrono>
#include <cstdint>

#include "uredis/retry/backoff.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/random.hpp"

namespace uredis::auth {

struct token_refresh_options {
  /// Refresh once this fraction of a token's lifetime has passed (redis-py's default, 0.8).
  double ratio = 0.8;
  /// ...and no later than this long before it expires.
  std::chrono::milliseconds lower_bound{0};
  /// The wait before retry number f after f failures in a row (f = 1 for the first retry).
  retry::backoff backoff =
      retry::backoff::exponential(std::chrono::milliseconds(100), std::chrono::seconds(10));
  /// A fetch not answered within this counts as failed (errc::timeout) and is retried.
  std::chrono::milliseconds fetch_timeout{std::chrono::seconds(10)};
};

class token_refresh {
 public:
  using time_point = util::clock::time_point;
  using duration = util::clock::duration;

  /// What the shell must do now, in this order.
  struct actions {
    bool abandon_fetch = false;  // the fetch under way timed out: ignore its answer
    bool fetch = false;          // ask the source for a new token
    bool expired = false;        // the current token expired with no replacement
  };

  /// `options` and `clock` must outlive it; `seed` feeds the backoff's jitter.
  token_refresh(const token_refresh_options& options, const util::clock& clock,
                std::uint64_t seed = 1) noexcept
      : options_(&options), clock_(&clock), backoff_(options.backoff), rng_(seed) {}

  /// Asks for the first token now. Precondition: not started.
  void start() noexcept;
  /// A token arrived (now), valid until `expires_at`: the next refresh is scheduled.
  void on_token(time_point expires_at) noexcept;
  /// The fetch failed: returns the delay before the next one.
  duration on_failure() noexcept;
  /// Handles whatever is due at the clock's now().
  void on_timer() noexcept;

  /// When on_timer() must next be called (time_point::max(): never).
  time_point next_deadline() const noexcept;
  actions take_actions() noexcept {
    const actions a = actions_;
    actions_ = {};
    return a;
  }

  bool fetching() const noexcept { return state_ == state::fetching; }
  /// A token is held and has not expired.
  bool valid() const noexcept { return valid_; }
  /// When the current token is due to be refreshed (time_point::max(): not scheduled).
  time_point refresh_at() const noexcept {
    return state_ == state::waiting ? next_ : time_point::max();
  }
  /// When the next fetch starts after a failure (time_point::max(): not backing off).
  time_point retry_at() const noexcept {
    return state_ == state::backing_off ? next_ : time_point::max();
  }
  /// Fetches failed in a row since the last token.
  std::uint32_t failures() const noexcept { return failures_; }

 private:
  enum class state : std::uint8_t { idle, fetching, waiting, backing_off };

  void begin_fetch(time_point now) noexcept;

  const token_refresh_options* options_;
  const util::clock* clock_;
  retry::backoff backoff_;
  util::rng rng_;
  state state_ = state::idle;
  bool valid_ = false;
  std::uint32_t failures_ = 0;
  // fetching: the fetch's deadline; waiting: the refresh time; backing off: the retry time.
  time_point next_ = time_point::max();
  time_point expires_at_ = time_point::max();
  actions actions_;
};

}  // namespace uredis::auth
