#include "uredis/auth/streaming_credentials.hpp"

#include "uredis/error.hpp"

namespace uredis::auth {

streaming_credentials::~streaming_credentials() {
  // A connect still waiting learns there will be no answer rather than waiting for its
  // deadline (the provider's owners let it go while connections still ask: a shutdown).
  while (!waiting_.empty()) {
    credentials_request& r = waiting_.front();
    waiting_.pop_front();
    r.fail(make_error_code(errc::credentials_expired));
  }
}

void streaming_credentials::fetch(credentials_request& request) {
  switch (state_) {
    case state::valid:
      request.answer(current_);
      return;
    case state::expired:
      request.fail(expired_because_);
      return;
    case state::empty:
      waiting_.push_back(request);
      return;
  }
}

void streaming_credentials::update(const credentials& c) {
  current_.username = c.username;
  replace_secret(current_.password, c.password);
  state_ = state::valid;
  ++updates_;
  // Answers and listeners may fetch, watch or leave: each list is taken whole first, and an
  // element goes back (listeners) or away (requests) before it is called.
  util::intrusive_list<credentials_request, &credentials_request::hook> answering =
      std::move(waiting_);
  while (!answering.empty()) {
    credentials_request& r = answering.front();
    answering.pop_front();
    r.answer(current_);
  }
  util::intrusive_list<credentials_listener, &credentials_listener::hook> telling =
      std::move(listeners_);
  while (!telling.empty()) {
    credentials_listener& l = telling.front();
    telling.pop_front();
    listeners_.push_back(l);
    l.notify(current_);
  }
}

void streaming_credentials::expire(std::error_code why) {
  state_ = state::expired;
  expired_because_ = why ? why : make_error_code(errc::credentials_expired);
  wipe(current_.password);
  while (!waiting_.empty()) {
    credentials_request& r = waiting_.front();
    waiting_.pop_front();
    r.fail(expired_because_);
  }
}

}  // namespace uredis::auth
