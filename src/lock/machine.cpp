#include "uredis/lock/machine.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "uredis/error.hpp"

namespace uredis::lock {

using std::chrono::milliseconds;

const char* to_string(lock_state s) noexcept {
  switch (s) {
    case lock_state::idle:
      return "idle";
    case lock_state::acquiring:
      return "acquiring";
    case lock_state::held:
      return "held";
    case lock_state::releasing:
      return "releasing";
    case lock_state::released:
      return "released";
    case lock_state::lost:
      return "lost";
  }
  return "unknown";
}

namespace {

std::uint64_t seed_from(const lock_options& o) noexcept {
  if (o.seed != 0) return o.seed;
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

machine::machine(const lock_options& options) : options_(options), rng_(seed_from(options)) {
  options_.retry_min = std::max(options_.retry_min, milliseconds(1));
  options_.retry_max = std::max(options_.retry_max, options_.retry_min);
}

milliseconds machine::renew_every() const noexcept {
  if (options_.renew_every.count() > 0) return options_.renew_every;
  return std::max(options_.ttl / 3, milliseconds(1));
}

machine::time_point machine::renewal_after(time_point sent) const noexcept {
  const milliseconds every = renew_every();
  const auto window =
      std::chrono::duration_cast<time_point::duration>(std::min(renew_batch, every / 4));
  const time_point due = sent + every;
  if (window.count() <= 0) return due;
  return time_point(due.time_since_epoch() - due.time_since_epoch() % window);
}

milliseconds machine::jitter() noexcept {
  const auto span = static_cast<std::uint64_t>((options_.retry_max - options_.retry_min).count());
  return options_.retry_min + milliseconds(span == 0 ? 0 : rng_.below(span + 1));
}

// ---- what the caller asks ----

void machine::acquire(time_point now, milliseconds wait) noexcept {
  assert(state_ == lock_state::idle || state_ == lock_state::released ||
         state_ == lock_state::lost);
  state_ = lock_state::acquiring;
  wait_until_ = wait == wait_forever ? time_point::max() : now + wait;
  release_wanted_ = false;
  retry_now_ = false;
  acquire_result_.reset();
  lost_.reset();
  command_ = command::acquire;
  next_at_ = now;
}

void machine::cancel_acquire() noexcept {
  if (state_ != lock_state::acquiring) return;
  if (in_flight_ == command::acquire) {
    wait_until_ = time_point::min();  // a busy answer ends it; a win is released
    release_wanted_ = true;
    finish_acquire(false);
    return;
  }
  command_ = command::none;
  state_ = lock_state::idle;
  finish_acquire(false);
}

void machine::release() noexcept {
  switch (state_) {
    case lock_state::acquiring:
      // Nothing is held yet; an acquire in flight that wins is given back on its own.
      cancel_acquire();
      release_result_.emplace();
      return;
    case lock_state::held:
    case lock_state::lost:
      // A lost lock may still carry our token (the extends failed on the connection, not on
      // the server): releasing it is compare-and-delete, harmless either way.
      state_ = lock_state::releasing;
      release_sends_ = 0;
      if (manual_extend_) {  // asked for and not sent: it never will be
        manual_extend_ = false;
        extend_result_.emplace(make_error_code(errc::lock_not_owned));
      }
      if (in_flight_ != command::none) {
        release_wanted_ = true;  // sent after the reply in flight
        command_ = command::none;
      } else {
        command_ = command::release;
        next_at_ = time_point::min();
      }
      return;
    case lock_state::idle:
    case lock_state::released:
      release_result_.emplace(make_error_code(errc::lock_not_owned));
      return;
    case lock_state::releasing:
      return;  // already on its way: the one outcome answers both
  }
}

void machine::extend(milliseconds ms, bool replace) noexcept {
  if (state_ != lock_state::held || manual_extend_) {
    extend_result_.emplace(make_error_code(errc::lock_not_owned));
    return;
  }
  manual_extend_ = true;
  extend_ms_ = std::max(ms, milliseconds(1));
  extend_replace_ = replace;
  command_ = command::extend;  // after the reply in flight, if any
  next_at_ = time_point::min();
}

// ---- what happened ----

void machine::on_released() noexcept {
  if (state_ != lock_state::acquiring) return;
  if (in_flight_ == command::acquire) {
    retry_now_ = true;
    return;
  }
  command_ = command::acquire;
  next_at_ = time_point::min();
}

void machine::on_reply(time_point now, const result<std::int64_t>& reply) noexcept {
  const command answered = in_flight_;
  in_flight_ = command::none;
  switch (answered) {
    case command::acquire:
      on_acquire_reply(now, reply);
      break;
    case command::extend:
      on_extend_reply(now, reply);
      break;
    case command::release:
      on_release_reply(now, reply);
      break;
    case command::none:
      assert(false && "a reply with nothing in flight");
      return;
  }
  if (release_wanted_ && in_flight_ == command::none && command_ == command::none) {
    release_wanted_ = false;
    if (state_ == lock_state::releasing) {
      command_ = command::release;
      next_at_ = time_point::min();
    }
  }
}

void machine::on_acquire_reply(time_point now, const result<std::int64_t>& reply) noexcept {
  if (state_ != lock_state::acquiring && !release_wanted_) return;
  if (reply && *reply > 0) {
    fence_ = static_cast<std::uint64_t>(*reply);
    if (release_wanted_) {  // the caller gave up meanwhile: give back what we just won
      state_ = lock_state::releasing;
      release_sends_ = 0;
      return;
    }
    hold(sent_at_, options_.ttl);
    if (now >= valid_until_) {  // won, but answered too late to trust: give the key back
      give_back();
      finish_acquire(make_error_code(errc::timeout));
      return;
    }
    finish_acquire(true);
    return;
  }
  if (reply.has_error()) {
    // No answer: the script may have run and set our token, so give it back (compare-and-
    // delete: harmless if it did not run), resent until the key would have expired anyway.
    valid_until_ = options_.ttl.count() > 0 ? sent_at_ + options_.ttl : time_point::max();
    if (release_wanted_) {  // the caller gave up meanwhile: on_reply sends the release
      state_ = lock_state::releasing;
      release_sends_ = 0;
      return;
    }
    give_back();
    finish_acquire(failure_of<bool>(reply));
    return;
  }
  if (release_wanted_) {  // gave up, and did not win: nothing to give back
    release_wanted_ = false;
    state_ = lock_state::idle;
    return;
  }
  if (!reply) {  // refused (WRONGTYPE, NOPERM...): the script did not run
    state_ = lock_state::idle;
    finish_acquire(failure_of<bool>(reply));
    return;
  }
  // Busy. The try made at the deadline (or after it) was the last.
  if (sent_at_ >= wait_until_) {
    state_ = lock_state::idle;
    finish_acquire(false);
    return;
  }
  command_ = command::acquire;
  next_at_ = retry_now_ ? time_point::min() : std::min(now + jitter(), wait_until_);
  retry_now_ = false;
}

void machine::on_extend_reply(time_point now, const result<std::int64_t>& reply) noexcept {
  const bool manual = std::exchange(in_flight_manual_, false);
  if (state_ == lock_state::acquiring) {  // an extend of the lost lock, and a new acquire since:
    return;                               // about an old token, it says nothing of the new one
  }
  if (state_ == lock_state::releasing) {
    if (manual) extend_result_.emplace(make_error_code(errc::lock_not_owned));
    return;
  }
  if (reply && *reply > 0) {
    if (state_ == lock_state::lost) {  // it came back too late to trust: give it up
      give_back();
      if (manual) extend_result_.emplace(make_error_code(errc::lock_not_owned));
      return;
    }
    hold(sent_at_, milliseconds(*reply));
    if (manual) extend_result_.emplace();
    if (manual_extend_) next_at_ = time_point::min();  // asked for during this one
    return;
  }
  if (reply) {  // 0: the key is gone or someone else's
    if (manual) extend_result_.emplace(make_error_code(errc::lock_not_owned));
    if (state_ == lock_state::held) lose(make_error_code(errc::lock_not_owned));
    return;
  }
  // No answer from the server, or a refusal that may pass (a failover's READONLY, OOM): try
  // again until valid_until (on_timer declares it lost).
  last_extend_error_ =
      reply.has_server_error() ? make_error_code(errc::unexpected_server_error) : reply.error();
  if (manual) extend_result_.emplace(failure_of<void>(reply));
  if (state_ != lock_state::held) return;
  command_ = command::extend;
  next_at_ = std::min(now + options_.retry_max, valid_until_);
}

void machine::on_release_reply(time_point now, const result<std::int64_t>& reply) noexcept {
  if (state_ != lock_state::releasing) return;
  if (reply) {
    state_ = lock_state::released;
    // 0 after a resend: the first send may have deleted it; either way it is not ours now.
    if (*reply > 0 || release_sends_ > 1)
      release_result_.emplace();
    else
      release_result_.emplace(make_error_code(errc::lock_not_owned));
    return;
  }
  if (reply.has_server_error()) {  // refused (NOPERM...): the key may still be ours
    state_ = lock_state::lost;
    release_result_.emplace(failure_of<void>(reply));
    return;
  }
  // The release may not have reached the server: send it again (compare-and-delete is safe to
  // repeat), until the key would have expired on its own.
  if (valid_until_ != time_point::max() && now >= valid_until_ + clock_drift(options_.ttl)) {
    state_ = lock_state::released;
    release_result_.emplace();  // expired by now: released either way
    return;
  }
  command_ = command::release;
  next_at_ = now + options_.retry_max;
}

void machine::on_timer(time_point now) noexcept {
  if (state_ == lock_state::held && now >= valid_until_) {
    lose(last_extend_error_ ? last_extend_error_ : make_error_code(errc::timeout));
    return;
  }
}

// ---- what to do ----

machine::command machine::take_command(time_point now) noexcept {
  if (in_flight_ != command::none || command_ == command::none || now < next_at_)
    return command::none;
  const command c = command_;
  command_ = command::none;
  in_flight_ = c;
  sent_at_ = now;
  switch (c) {
    case command::acquire:
      command_ms_ = options_.ttl;
      command_replace_ = true;
      break;
    case command::extend:
      in_flight_manual_ = std::exchange(manual_extend_, false);
      command_ms_ = in_flight_manual_ ? extend_ms_ : options_.ttl;
      command_replace_ = in_flight_manual_ ? extend_replace_ : true;
      break;
    case command::release:
      ++release_sends_;
      break;
    case command::none:
      break;
  }
  return c;
}

std::optional<machine::time_point> machine::wake_at() const noexcept {
  std::optional<time_point> at;
  if (command_ != command::none && in_flight_ == command::none && next_at_ != time_point::min())
    at = next_at_;
  if (state_ == lock_state::held && valid_until_ != time_point::max())
    at = at ? std::min(*at, valid_until_) : valid_until_;
  return at;
}

std::optional<result<bool>> machine::take_acquire_result() noexcept {
  return std::exchange(acquire_result_, std::nullopt);
}
std::optional<result<void>> machine::take_release_result() noexcept {
  return std::exchange(release_result_, std::nullopt);
}
std::optional<result<void>> machine::take_extend_result() noexcept {
  return std::exchange(extend_result_, std::nullopt);
}
std::optional<std::error_code> machine::take_lost() noexcept {
  return std::exchange(lost_, std::nullopt);
}

// ---- helpers ----

void machine::hold(time_point sent, milliseconds pttl) noexcept {
  state_ = lock_state::held;
  last_extend_error_.clear();
  if (options_.ttl.count() <= 0) {
    valid_until_ = time_point::max();
    return;
  }
  valid_until_ = sent + pttl - clock_drift(options_.ttl);
  if (options_.watchdog) {
    command_ = command::extend;
    next_at_ = std::min(renewal_after(sent), valid_until_);
  }
}

void machine::lose(std::error_code why) noexcept {
  state_ = lock_state::lost;
  if (command_ == command::extend) command_ = command::none;
  if (manual_extend_) {  // asked for and never sent: there is nothing left to extend
    manual_extend_ = false;
    extend_result_.emplace(make_error_code(errc::lock_not_owned));
  }
  lost_ = why;
}

// Releases at once what may be ours on the server (compare-and-delete: harmless if it is not).
void machine::give_back() noexcept {
  state_ = lock_state::releasing;
  release_sends_ = 0;
  command_ = command::release;
  next_at_ = time_point::min();
}

void machine::finish_acquire(result<bool> outcome) noexcept {
  acquire_result_.emplace(std::move(outcome));
}

}  // namespace uredis::lock
