#include "uredis/auth/token_manager.hpp"

#include <cassert>
#include <chrono>
#include <cstdint>

#include "uredis/error.hpp"
#include "uredis/event/events.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/runtime.hpp"

namespace uredis::auth {
namespace {

// A broadcast a full mailbox refused is posted again this much later.
constexpr std::chrono::milliseconds redelivery_delay{1};

// On the shard that owns `p`: the new credentials, or their expiry (null).
void apply(streaming_credentials& p, const std::shared_ptr<const credentials>& c,
           std::error_code expired_because) {
  if (c)
    p.update(*c);
  else
    p.expire(expired_because);
}

std::uint64_t seed_for(const void* self) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(self)) ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

void token_request::answer(const token& t) {
  if (!pending_) return;
  pending_ = false;
  owner_->on_answer(t);
}

void token_request::fail(std::error_code why) {
  if (!pending_) return;
  pending_ = false;
  owner_->on_failed(why);
}

token_manager::token_manager(runtime& rt, token_source source, token_refresh_options options)
    : runtime_(&rt),
      home_(reactor::reactor::current()),
      home_shard_(runtime::current_shard()),
      source_(std::move(source)),
      options_(options),
      schedule_(options_, home_->timers().source(), seed_for(this)),
      request_(*this),
      timer_([this] { on_timer(); }),
      undelivered_(rt.shard_count(), false) {
  assert(rt.on_shard() && "token_manager: create it on a shard of its runtime");
  for (unsigned s = 0; s < rt.shard_count(); ++s)
    providers_.push_back(std::make_shared<streaming_credentials>());
}

token_manager::token_manager(reactor::reactor& r, token_source source,
                             token_refresh_options options)
    : runtime_(nullptr),
      home_(&r),
      source_(std::move(source)),
      options_(options),
      schedule_(options_, r.timers().source(), seed_for(this)),
      request_(*this),
      timer_([this] { on_timer(); }),
      undelivered_(1, false) {
  providers_.push_back(std::make_shared<streaming_credentials>());
}

token_manager::~token_manager() {
  request_.pending_ = false;  // the source must not answer a manager that is gone
}

void token_manager::start() {
  schedule_.start();
  sync();
}

void token_manager::stop() noexcept {
  stopped_ = true;
  request_.pending_ = false;
  timer_.cancel();
}

void token_manager::on_answer(const token& t) {
  ++tokens_;
  latest_ = std::make_shared<const credentials>(credentials{t.username, t.value});
  schedule_.on_token(t.expires_at);
  broadcast();
  sync();
}

void token_manager::on_failed(std::error_code why) {
  (void)schedule_.on_failure();
  report_failure(why ? why : make_error_code(errc::credentials_expired));
  sync();
}

void token_manager::report_failure(std::error_code why) {
  const auto retry_in = schedule_.retry_at() == token_refresh::time_point::max()
                            ? std::chrono::nanoseconds{0}
                            : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  schedule_.retry_at() - home_->timers().now());
  home_->events().emit(event::token_refresh_failed{0, schedule_.failures(), retry_in, why});
}

void token_manager::on_timer() {
  schedule_.on_timer();
  bool redeliver = false;
  for (const bool u : undelivered_)
    redeliver = redeliver || u;
  if (redeliver) broadcast();
  sync();
}

// Carries out what the schedule asks for, then arms the timer for its next deadline. The
// source may answer inside the call (on_answer, which syncs again): each pass takes fresh
// actions, so nothing is done twice.
void token_manager::sync() {
  if (stopped_) return;
  for (;;) {
    const token_refresh::actions a = schedule_.take_actions();
    if (!a.abandon_fetch && !a.expired && !a.fetch) break;
    if (a.abandon_fetch) {
      request_.pending_ = false;  // a late answer is ignored
      report_failure(make_error_code(errc::timeout));
    }
    if (a.expired) {
      latest_.reset();
      expired_because_ = make_error_code(errc::credentials_expired);
      broadcast();
    }
    if (a.fetch) {
      request_.pending_ = true;
      source_(request_);
    }
  }
  token_refresh::time_point next = schedule_.next_deadline();
  for (const bool u : undelivered_)
    if (u) next = std::min(next, home_->timers().now() + redelivery_delay);
  if (next == token_refresh::time_point::max())
    timer_.cancel();
  else
    home_->timers().rearm(timer_, next);
}

void token_manager::broadcast() {
  for (unsigned s = 0; s < providers_.size(); ++s) {
    undelivered_[s] = false;
    if (runtime_ == nullptr || s == home_shard_) {
      apply(*providers_[s], latest_, expired_because_);
      continue;
    }
    auto task = [p = providers_[s], c = latest_, why = expired_because_] { apply(*p, c, why); };
    static_assert(reactor::mailbox::task::can_store<decltype(task)>,
                  "token_manager: a broadcast must fit a mailbox task");
    if (!runtime_->submit_to(s, reactor::mailbox::task(std::move(task)))) undelivered_[s] = true;
  }
}

}  // namespace uredis::auth
