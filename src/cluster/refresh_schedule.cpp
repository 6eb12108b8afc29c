#include "uredis/cluster/refresh_schedule.hpp"

#include <algorithm>

namespace uredis::cluster {

std::chrono::nanoseconds refresh_schedule::draw_jitter() noexcept {
  if (options_.jitter <= std::chrono::nanoseconds::zero()) return {};
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(rng_->uniform() * static_cast<double>(options_.jitter.count())));
}

void refresh_schedule::schedule(time_point at) noexcept {
  if (last_start_) at = std::max(at, *last_start_ + options_.min_interval);
  at_ = at;
  state_ = state::scheduled;
  polling_ = false;
}

void refresh_schedule::request(time_point now) noexcept {
  switch (state_) {
    case state::idle:
      schedule(now + draw_jitter());
      break;
    case state::scheduled:
      // The one already scheduled answers this request too; a poll, at the usual pace.
      if (polling_) schedule(std::min(at_, now + draw_jitter()));
      break;
    case state::in_flight:
      again_ = true;
      break;
  }
}

bool refresh_schedule::start(time_point now) noexcept {
  if (state_ != state::scheduled || now < at_) return false;
  state_ = state::in_flight;
  last_start_ = now;
  return true;
}

void refresh_schedule::succeeded(time_point now) noexcept {
  if (state_ != state::in_flight) return;
  failures_ = 0;
  state_ = state::idle;
  if (again_) {
    again_ = false;
    schedule(now + draw_jitter());
  }
}

void refresh_schedule::failed(time_point now) noexcept {
  if (state_ != state::in_flight) return;
  ++failures_;
  again_ = false;  // the retry below answers the requests made meanwhile
  schedule(now + options_.failure_backoff.compute(failures_, *rng_));
}

void refresh_schedule::remind(time_point now) noexcept {
  if (state_ == state::scheduled && polling_) return;
  request(now);
}

void refresh_schedule::poll_while_down(time_point now) noexcept {
  if (state_ != state::idle) return;
  ++polls_;
  schedule(now + options_.poll_backoff.compute(polls_, *rng_));
  polling_ = true;
}

}  // namespace uredis::cluster
