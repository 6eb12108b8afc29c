#include "uredis/auth/token_refresh.hpp"

#include <algorithm>
#include <cassert>

namespace uredis::auth {

void token_refresh::start() noexcept {
  assert(state_ == state::idle && "token_refresh::start: already started");
  backoff_.reset();
  begin_fetch(clock_->now());
}

void token_refresh::begin_fetch(time_point now) noexcept {
  state_ = state::fetching;
  actions_.fetch = true;
  next_ = options_->fetch_timeout.count() > 0 ? now + options_->fetch_timeout : time_point::max();
}

void token_refresh::on_token(time_point expires_at) noexcept {
  if (state_ != state::fetching) return;  // an answer nobody waits for any more
  const time_point now = clock_->now();
  failures_ = 0;
  backoff_.reset();
  valid_ = expires_at > now;
  expires_at_ = expires_at;
  state_ = state::waiting;
  if (expires_at == time_point::max()) {
    next_ = time_point::max();  // never expires: nothing to refresh
    return;
  }
  const duration lifetime = expires_at > now ? expires_at - now : duration::zero();
  const auto by_ratio =
      now + std::chrono::duration_cast<duration>(lifetime * std::clamp(options_->ratio, 0.0, 1.0));
  const time_point by_bound = expires_at - std::min<duration>(options_->lower_bound, lifetime);
  next_ = std::max(now, std::min(by_ratio, by_bound));
}

token_refresh::duration token_refresh::on_failure() noexcept {
  if (state_ != state::fetching) return duration::zero();
  ++failures_;
  const duration delay = std::chrono::duration_cast<duration>(backoff_.compute(failures_, rng_));
  state_ = state::backing_off;
  next_ = clock_->now() + delay;
  return delay;
}

void token_refresh::on_timer() noexcept {
  const time_point now = clock_->now();
  if (valid_ && expires_at_ <= now) {
    valid_ = false;
    actions_.expired = true;
  }
  if (next_ > now) return;
  switch (state_) {
    case state::fetching:  // no answer in time: a failure, retried like any other
      actions_.abandon_fetch = true;
      (void)on_failure();
      break;
    case state::waiting:
    case state::backing_off:
      begin_fetch(now);
      break;
    case state::idle:
      break;
  }
}

token_refresh::time_point token_refresh::next_deadline() const noexcept {
  return valid_ ? std::min(next_, expires_at_) : next_;
}

}  // namespace uredis::auth
