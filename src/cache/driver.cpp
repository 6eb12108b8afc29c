#include "uredis/cache/driver.hpp"

#include <array>
#include <cstring>
#include <utility>

#include "cache/invalidation_channel.hpp"

#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"

namespace uredis::cache {
namespace {

store_options options_for(const connection_config& config) {
  store_options o;
  o.max_bytes = config.cache.max_bytes;
  o.max_value_bytes = config.cache.max_value_bytes;
  o.max_ttl = config.cache.max_ttl;
  o.delivery =
      config.protocol == proto::resp_version::resp2 ? delivery::redirected : delivery::in_band;
  return o;
}

// CLIENT TRACKING OFF and ON ... REDIRECT, as one command of two replies.
struct tracking_switch {
  std::string_view bytes;
  std::uint32_t replies() const noexcept { return 2; }
  void encode(resp::encoder& e) const { e.buffer().append(bytes); }
};

}  // namespace

// The reply to tracking_switch: the second (ON's) turns tracking on. A failure leaves it off
// until the next handshake or the channel's next up().
struct driver::tracking_reply {
  driver* owner;

  void on_complete(const proto::reply_outcome&) noexcept {}

  struct active {
    driver* owner;
    std::size_t replies = 0;

    explicit active(tracking_reply&& q) noexcept : owner(q.owner) {}
    void on_node(const resp::node& n) {
      if (n.depth == 0) ++replies;
      if (replies == 2) (void)owner->tracking_.on_node(n, 0);
    }
    void on_complete(const proto::reply_outcome&) noexcept {}
  };
};

driver::driver(proto::session& session, const connection_config& config, reactor::reactor& r,
               kick_function kick)
    : session_(&session),
      clock_(&r.timers().source()),
      kick_(std::move(kick)),
      store_(options_for(config)),
      tracking_(config.cache) {
  session.add_handshake_step(*this);
  session.pushes().set_invalidation_hook(this);
  if (config.protocol != proto::resp_version::resp2) return;
  proto::invalidation_hook& hook = *this;
  channel_ = std::make_unique<invalidation_channel>(
      r, config, hook, [this](std::int64_t id) { channel_up(id); }, [this] { channel_down(); });
  // A connection that became ready while the channel was not up yet tracks nothing: switch its
  // tracking on when both are.
  const auto both_up = [this] {
    if (channel_up_ && !tracking_.active()) send_tracking();
  };
  connected_.emplace(session.events(), [this, both_up](const event::connected& e) {
    if (e.connection_id == session_->id()) both_up();
  });
  reconnected_.emplace(session.events(), [this, both_up](const event::reconnected& e) {
    if (e.connection_id == session_->id()) both_up();
  });
}

driver::~driver() {
  // The connection closed its session first: no read is in flight, no waiter is left.
  session_->pushes().set_invalidation_hook(nullptr);
  channel_.reset();
}

void driver::flush() noexcept {
  flush_for(event::cache_flush_reason::user);
}

void driver::flush_for(event::cache_flush_reason reason) noexcept {
  const std::uint64_t entries = store_.stats().entries;
  store_.flush();
  session_->events().emit(event::cache_flushed{session_->id(), reason, entries});
}

std::size_t driver::write(resp::encoder& out, const proto::handshake_params& params,
                          proto::resp_version protocol) {
  // Whatever the last socket cached may have changed unseen since it was lost.
  if (store_.stats().entries > 0) flush_for(event::cache_flush_reason::connection_lost);
  if (channel_ != nullptr) channel_->connect();  // once; it heals itself after that
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
  flush_for(event::cache_flush_reason::server);
}

void driver::channel_up(std::int64_t id) {
  channel_up_ = true;
  tracking_.set_redirect(id);
  if (session_->ready()) send_tracking();  // else the next handshake turns it on
}

void driver::channel_down() {
  // The invalidations sent to the old channel are lost: nothing cached may be trusted, and
  // nothing is served until tracking points at the channel's next client id.
  channel_up_ = false;
  tracking_.set_redirect(std::nullopt);
  tracking_.reset();
  flush_for(event::cache_flush_reason::connection_lost);
}

void driver::send_tracking() {
  tracking_request_.clear();
  resp::encoder e{tracking_request_};
  e.command("CLIENT", "TRACKING", "OFF");
  if (tracking_.write(e, {}, proto::resp_version::resp2) == 0) return;  // no redirect target
  const auto what =
      session_->enqueue(tracking_switch{tracking_request_.data()}, tracking_reply{this}, {});
  if (what != enqueued::refused) kick_();
}

void driver::written_keys() {
  for (const std::string_view key : keys_)
    store_.written(key);
}

void driver::written_arguments() {
  resp::parser parser;
  resp::node n;
  std::string_view rest = request_.data();
  for (bool name = true; !rest.empty();) {
    const resp::step s = parser.next(rest, n);
    if (s.status != resp::outcome::node) return;
    rest.remove_prefix(s.consumed);
    if (n.depth != 1) continue;
    if (!std::exchange(name, false)) store_.written(n.value);
  }
}

bool driver::changes_every_key_request() const {
  const std::string_view request = request_.data();
  const std::string_view first = command_name(request);
  if (changes_every_key(first)) return true;
  if (first.size() != 5 || (first[0] != 'M' && first[0] != 'm')) return false;  // not MULTI
  // A transaction: the name of each command in it.
  resp::parser parser;
  resp::node n;
  std::string_view rest = request;
  bool name = false;
  while (!rest.empty()) {
    const resp::step s = parser.next(rest, n);
    if (s.status != resp::outcome::node) return false;
    rest.remove_prefix(s.consumed);
    if (n.depth == 0) {
      name = true;
    } else if (n.depth == 1 && std::exchange(name, false) && changes_every_key(n.value)) {
      return true;
    }
  }
  return false;
}

void driver::written_everything() noexcept {
  const std::uint64_t entries = store_.stats().entries;
  store_.written_everything();
  session_->events().emit(
      event::cache_flushed{session_->id(), event::cache_flush_reason::own_command, entries});
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
    if (reply->failed() || reply->untracked()) {
      store_.cancel(e);  // an error reply is not cached, nor one nothing would invalidate
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

bool driver::allowed_new_head() noexcept {
  const std::string_view request = request_.data();
  const std::string_view name = command_name(request);
  const bool verdict = allowed(name);
  if (name.empty()) return verdict;
  const std::size_t head = static_cast<std::size_t>(name.data() - request.data()) + name.size() + 2;
  if (head > sizeof head_ || request.size() < sizeof head_) return verdict;
  std::array<unsigned char, sizeof head_mask_> mask{};
  std::memset(mask.data(), 0xff, head);
  std::memcpy(head_.data(), request.data(), sizeof head_);
  std::memcpy(head_mask_.data(), mask.data(), sizeof head_mask_);
  head_allowed_ = verdict;
  return verdict;
}

}  // namespace uredis::cache
