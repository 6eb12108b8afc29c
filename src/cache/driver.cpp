#include "uredis/cache/driver.hpp"

#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"

namespace uredis::cache {
namespace {

store_options options_for(const cache_config& config, proto::resp_version) {
  store_options o;
  o.max_bytes = config.max_bytes;
  o.max_value_bytes = config.max_value_bytes;
  o.max_ttl = config.max_ttl;
  o.delivery = delivery::in_band;
  return o;
}

}  // namespace

driver::driver(proto::session& session, const cache_config& config, const util::clock& clock)
    : session_(&session),
      clock_(&clock),
      store_(options_for(config, session.config().protocol)),
      tracking_(config) {
  session.add_handshake_step(*this);
  session.pushes().set_invalidation_hook(this);
}

driver::~driver() {
  // The connection closed its session first: no read is in flight, no waiter is left.
  session_->pushes().set_invalidation_hook(nullptr);
}

void driver::flush() noexcept {
  const std::uint64_t entries = store_.stats().entries;
  store_.flush();
  session_->events().emit(
      event::cache_flushed{session_->id(), event::cache_flush_reason::user, entries});
}

std::size_t driver::write(resp::encoder& out, const proto::handshake_params& params,
                          proto::resp_version protocol) {
  // Whatever the last socket cached may have changed unseen since it was lost.
  if (const std::uint64_t entries = store_.stats().entries; entries > 0) {
    store_.flush();
    session_->events().emit(
        event::cache_flushed{session_->id(), event::cache_flush_reason::connection_lost, entries});
  }
  return tracking_.write(out, params, protocol);
}

result<void> driver::on_node(const resp::node& n, std::size_t reply) {
  return tracking_.on_node(n, reply);
}

void driver::on_invalidate(std::string_view key) {
  const std::size_t entries = store_.invalidate(key);
  session_->events().emit(event::cache_invalidated{session_->id(), key, entries});
}

void driver::on_invalidate_all() {
  const std::uint64_t entries = store_.stats().entries;
  store_.flush();
  session_->events().emit(
      event::cache_flushed{session_->id(), event::cache_flush_reason::server, entries});
}

void driver::written_keys() {
  for (const std::string_view key : keys_)
    store_.written(key);
}

void driver::note_evictions(std::uint64_t before) noexcept {
  if (const std::uint64_t evicted = store_.stats().evictions - before; evicted > 0)
    session_->events().emit(event::cache_evicted{session_->id(), evicted});
}

read_end driver::settle(store::entry* e, const wrapped_reply* reply, std::error_code error) {
  // The waiters came newest first: answer them in the order they asked.
  detail::waiter* waiting = nullptr;
  for (auto* w = static_cast<detail::waiter*>(std::exchange(store::waiters(e), nullptr));
       w != nullptr;) {
    detail::waiter* next = w->next;
    w->next = waiting;
    waiting = w;
    w = next;
  }

  read_end end;
  end.error = error;
  if (error) {
    store_.cancel(e);
  } else {
    end.reply = reply_.data();
    if (reply->failed()) {
      store_.cancel(e);  // an error reply is not cached
    } else {
      const std::uint64_t before = store_.stats().evictions;
      store_.fill(e, end.reply, reply->pttl(), store::sent(e));
      note_evictions(before);
    }
  }
  while (waiting != nullptr) {
    detail::waiter* w = std::exchange(waiting, waiting->next);
    w->deliver(end);
  }
  return end;
}

}  // namespace uredis::cache
