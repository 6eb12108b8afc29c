#include "uredis/lock/redlock_machine.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

#include "uredis/error.hpp"

namespace uredis::lock {

using std::chrono::milliseconds;

namespace {

std::uint64_t seed_from(const lock_options& o) noexcept {
  if (o.seed != 0) return o.seed;
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

redlock_machine::redlock_machine(std::size_t instances, const lock_options& options,
                                 milliseconds instance_timeout)
    : options_(options),
      instance_timeout_(std::max(instance_timeout, milliseconds(1))),
      rng_(seed_from(options)),
      slots_(instances) {
  options_.retry_min = std::max(options_.retry_min, milliseconds(1));
  options_.retry_max = std::max(options_.retry_max, options_.retry_min);
}

milliseconds redlock_machine::renew_every() const noexcept {
  if (options_.renew_every.count() > 0) return options_.renew_every;
  return std::max(options_.ttl / 3, milliseconds(1));
}

milliseconds redlock_machine::jitter() noexcept {
  const auto span = static_cast<std::uint64_t>((options_.retry_max - options_.retry_min).count());
  return options_.retry_min + milliseconds(span == 0 ? 0 : rng_.below(span + 1));
}

// ---- what the caller asks ----

void redlock_machine::acquire(time_point now, milliseconds wait) noexcept {
  assert(state_ == lock_state::idle || state_ == lock_state::released ||
         state_ == lock_state::lost);
  acquire_result_.reset();
  lost_.reset();
  if (!valid_instance_count(slots_.size())) {
    acquire_result_.emplace(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  state_ = lock_state::acquiring;
  wait_until_ = wait == wait_forever ? time_point::max() : now + wait;
  manual_pending_ = false;
  attempt_outcome_.reset();
  attempt_started_ = now;
  start_round(now, command::acquire);
  phase_ = phase::acquiring;
}

void redlock_machine::cancel_acquire(time_point now) noexcept {
  if (state_ != lock_state::acquiring) return;
  acquire_result_.emplace(false);
  if (phase_ == phase::retry_wait) {  // between attempts: nothing of ours is anywhere
    state_ = lock_state::idle;
    phase_ = phase::none;
    return;
  }
  // The round in flight may win somewhere (or its cleanup may be under way): release on all.
  start_release(now, false, false);
}

void redlock_machine::release(time_point now) noexcept {
  switch (state_) {
    case lock_state::acquiring:
      if (phase_ == phase::retry_wait) {
        cancel_acquire(now);
        release_result_.emplace();
        return;
      }
      acquire_result_.emplace(false);
      start_release(now, false, true);
      return;
    case lock_state::held:
    case lock_state::lost:
      if (manual_pending_ || round_manual_) {  // never sent, or superseded: never answered
        manual_pending_ = round_manual_ = false;
        extend_result_.emplace(make_error_code(errc::lock_not_owned));
      }
      start_release(now, state_ == lock_state::held, true);
      return;
    case lock_state::releasing:
      release_report_ = true;  // a background release (a cancelled acquire) answers it too
      return;
    case lock_state::idle:
    case lock_state::released:
      release_result_.emplace(make_error_code(errc::lock_not_owned));
      return;
  }
}

void redlock_machine::extend(time_point now, milliseconds ms, bool replace) noexcept {
  if (state_ != lock_state::held || manual_pending_ || round_manual_) {
    extend_result_.emplace(make_error_code(errc::lock_not_owned));
    return;
  }
  extend_ms_ = std::max(ms, milliseconds(1));
  extend_replace_ = replace;
  manual_pending_ = true;
  if (phase_ == phase::held) {  // else after the watchdog's round in flight
    manual_pending_ = false;
    round_manual_ = true;
    round_ms_ = extend_ms_;
    round_replace_ = extend_replace_;
    start_round(now, command::extend);
    phase_ = phase::extending;
  }
}

// ---- what happened ----

void redlock_machine::on_reply(time_point now, std::size_t instance, std::uint64_t seq,
                               const result<std::int64_t>& reply) noexcept {
  if (instance >= slots_.size()) return;
  slot& s = slots_[instance];
  if (!s.waiting || s.seq != seq) return;  // a superseded round's, or past its timeout
  if (reply)
    record(instance, *reply > 0 ? answer::yes : answer::no, *reply, {});
  else
    record(
        instance, answer::failed, 0,
        reply.has_server_error() ? make_error_code(errc::unexpected_server_error) : reply.error());
  if (round_ == command::extend && slots_.size() - count(answer::no) < quorum()) {
    // Too many say "not ours" for the rest to matter: lost now, not at the stragglers' timeout.
    round_open_ = 0;
    for (slot& other : slots_)
      other.to_send = other.waiting = false;
  }
  finish_round(now);
}

void redlock_machine::on_timer(time_point now) noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].waiting && now >= slots_[i].deadline)
      record(i, answer::failed, 0, make_error_code(errc::timeout));
  finish_round(now);
  if ((state_ == lock_state::held) && valid_until_ != time_point::max() && now >= valid_until_) {
    lose(last_extend_error_ ? last_extend_error_ : make_error_code(errc::timeout));
    return;
  }
  if (phase_ == phase::retry_wait && now >= next_at_) {
    attempt_started_ = now;
    start_round(now, command::acquire);
    phase_ = phase::acquiring;
  } else if (phase_ == phase::held && options_.watchdog && options_.ttl.count() > 0 &&
             now >= next_at_) {
    round_manual_ = false;
    round_ms_ = options_.ttl;
    round_replace_ = true;
    start_round(now, command::extend);
    phase_ = phase::extending;
  }
}

// ---- what to do ----

std::optional<redlock_machine::send> redlock_machine::take_command(time_point now) noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = slots_[i];
    if (!s.to_send) continue;
    s.to_send = false;
    s.waiting = true;
    s.seq = next_seq_++;
    s.deadline = now + instance_timeout_;
    send out{i, round_, s.seq, milliseconds(0), true};
    if (round_ == command::acquire) out.ms = options_.ttl;
    if (round_ == command::extend) {
      out.ms = round_ms_;
      out.replace = round_replace_;
    }
    return out;
  }
  return std::nullopt;
}

std::optional<redlock_machine::time_point> redlock_machine::wake_at() const noexcept {
  std::optional<time_point> at;
  const auto earlier = [&at](time_point t) { at = at ? std::min(*at, t) : t; };
  for (const slot& s : slots_)
    if (s.waiting) earlier(s.deadline);
  if (phase_ == phase::retry_wait) earlier(next_at_);
  if (phase_ == phase::held && options_.watchdog && options_.ttl.count() > 0) earlier(next_at_);
  if (state_ == lock_state::held && valid_until_ != time_point::max()) earlier(valid_until_);
  return at;
}

std::optional<result<bool>> redlock_machine::take_acquire_result() noexcept {
  return std::exchange(acquire_result_, std::nullopt);
}
std::optional<result<void>> redlock_machine::take_release_result() noexcept {
  return std::exchange(release_result_, std::nullopt);
}
std::optional<result<void>> redlock_machine::take_extend_result() noexcept {
  return std::exchange(extend_result_, std::nullopt);
}
std::optional<std::error_code> redlock_machine::take_lost() noexcept {
  return std::exchange(lost_, std::nullopt);
}

// ---- rounds ----

void redlock_machine::start_round(time_point now, command c) noexcept {
  round_ = c;
  round_started_ = now;
  round_open_ = slots_.size();
  for (slot& s : slots_) {
    s.to_send = true;
    s.waiting = false;  // a reply to the round before is ignored from now on
    s.got = answer::none;
    s.value = 0;
    s.error.clear();
  }
}

void redlock_machine::record(std::size_t i, answer a, std::int64_t value,
                             std::error_code error) noexcept {
  slot& s = slots_[i];
  s.waiting = false;
  s.got = a;
  s.value = value;
  s.error = error;
  --round_open_;
}

std::size_t redlock_machine::count(answer a) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [a](const slot& s) { return s.got == a; }));
}

std::error_code redlock_machine::first_failure() const noexcept {
  for (const slot& s : slots_)
    if (s.got == answer::failed) return s.error;
  return make_error_code(errc::timeout);
}

void redlock_machine::finish_round(time_point now) noexcept {
  if (round_ == command::none || round_open_ > 0) return;
  const command done = std::exchange(round_, command::none);
  switch (done) {
    case command::acquire:
      finish_acquire_round(now);
      return;
    case command::extend:
      finish_extend_round(now);
      return;
    case command::release:
      if (phase_ == phase::cleanup) {
        after_failed_attempt(now);
        return;
      }
      finish_release_round();
      return;
    case command::none:
      return;
  }
}

void redlock_machine::finish_acquire_round(time_point now) noexcept {
  const std::size_t wins = count(answer::yes);
  const std::size_t busy = count(answer::no);
  const bool in_time =
      options_.ttl.count() <= 0 || now < round_started_ + options_.ttl - clock_drift(options_.ttl);
  if (wins >= quorum() && in_time) {
    std::int64_t fence = 0;
    for (const slot& s : slots_)
      if (s.got == answer::yes) fence = std::max(fence, s.value);
    fence_ = static_cast<std::uint64_t>(fence);
    valid_until_ = options_.ttl.count() <= 0
                       ? time_point::max()
                       : round_started_ + options_.ttl - clock_drift(options_.ttl);
    hold();
    acquire_result_.emplace(true);
    return;
  }
  // Not ours: false when enough instances refused to deny a quorum (someone else holds it),
  // else the error that kept a quorum from answering.
  if (wins + busy >= quorum())
    attempt_outcome_.emplace(false);
  else
    attempt_outcome_.emplace(first_failure());
  if (busy == slots_.size()) {  // refused everywhere: nothing of ours to release
    after_failed_attempt(now);
    return;
  }
  start_round(now, command::release);
  phase_ = phase::cleanup;
}

void redlock_machine::after_failed_attempt(time_point now) noexcept {
  if (attempt_started_ >= wait_until_) {  // that was the last try
    state_ = lock_state::idle;
    phase_ = phase::none;
    acquire_result_.emplace(std::move(*attempt_outcome_));
    attempt_outcome_.reset();
    return;
  }
  phase_ = phase::retry_wait;
  next_at_ = std::min(now + jitter(), wait_until_);
}

void redlock_machine::hold() noexcept {
  state_ = lock_state::held;
  phase_ = phase::held;
  last_extend_error_.clear();
  next_at_ = round_started_ + renew_every();
}

void redlock_machine::finish_extend_round(time_point now) noexcept {
  const bool manual = std::exchange(round_manual_, false);
  phase_ = phase::held;
  std::vector<std::int64_t> ttls;  // at most N: a handful
  ttls.reserve(slots_.size());
  for (const slot& s : slots_)
    if (s.got == answer::yes) ttls.push_back(s.value);
  std::sort(ttls.begin(), ttls.end(), std::greater<>());
  const milliseconds drift = clock_drift(options_.ttl);
  if (ttls.size() >= quorum()) {
    // A quorum holds the key at least until the quorum-th longest of their new ttls.
    valid_until_ = round_started_ + milliseconds(ttls[quorum() - 1]) - drift;
    last_extend_error_.clear();
    if (manual) extend_result_.emplace();
    next_at_ = round_started_ + renew_every();
    if (now >= valid_until_) {
      lose(make_error_code(errc::timeout));
      return;
    }
  } else if (slots_.size() - count(answer::no) < quorum()) {
    // Too many instances say the key is not ours: no quorum can hold it any more.
    if (manual) extend_result_.emplace(make_error_code(errc::lock_not_owned));
    lose(make_error_code(errc::lock_not_owned));
    return;
  } else {
    // Some could not answer: what the round did change may only shorten the lock.
    if (!ttls.empty())
      valid_until_ = std::min(valid_until_, round_started_ + milliseconds(ttls.back()) - drift);
    last_extend_error_ = first_failure();
    if (manual) extend_result_.emplace(last_extend_error_);
    if (now >= valid_until_) {
      lose(last_extend_error_);
      return;
    }
    next_at_ = std::min(now + options_.retry_max, valid_until_);  // the watchdog tries again
  }
  if (manual_pending_) {  // asked for during the watchdog's round
    manual_pending_ = false;
    round_manual_ = true;
    round_ms_ = extend_ms_;
    round_replace_ = extend_replace_;
    start_round(now, command::extend);
    phase_ = phase::extending;
  }
}

void redlock_machine::start_release(time_point now, bool was_held, bool report) noexcept {
  state_ = lock_state::releasing;
  phase_ = phase::none;
  release_was_held_ = was_held;
  release_report_ = report;
  attempt_outcome_.reset();
  start_round(now, command::release);
}

void redlock_machine::finish_release_round() noexcept {
  const bool deleted = count(answer::yes) > 0;
  if (release_report_) {
    state_ = lock_state::released;
    if (release_was_held_ || deleted)
      release_result_.emplace();
    else
      release_result_.emplace(make_error_code(errc::lock_not_owned));
  } else {
    state_ = lock_state::idle;
  }
  release_report_ = false;
}

void redlock_machine::lose(std::error_code why) noexcept {
  state_ = lock_state::lost;
  phase_ = phase::none;
  if (round_ == command::extend) {  // its replies are ignored from now on
    round_ = command::none;
    for (slot& s : slots_)
      s.to_send = s.waiting = false;
  }
  if (round_manual_ || manual_pending_) {
    round_manual_ = manual_pending_ = false;
    extend_result_.emplace(why);
  }
  lost_ = why;
}

}  // namespace uredis::lock
