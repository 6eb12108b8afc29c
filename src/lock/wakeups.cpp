#include "uredis/lock/wakeups.hpp"

#include "uredis/lock/scripts.hpp"

namespace uredis::lock {

void wakeups::watch(std::string_view name, waiter& w) {
  unwatch(w);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(name), entry{}).first;
    it->second.name = it->first;
  }
  entry& e = it->second;
  e.list.push_back(w);
  w.name_ = it->first;
  if (e.subscribed) {
    if (e.confirmed) w.woken_();  // a release may have come before this waiter arrived
    return;
  }
  e.subscribed = true;
  e.confirmed = false;
  entry* target = &e;  // entries are never erased: the pointer stays good
  subscriber_.subscribe(
      release_channel(name), [this, target](const pubsub::message&) { wake(*target); },
      [this, target](const result<void>& r) {
        if (!target->subscribed) return;
        if (!r) {
          // Refused (NOPERM) or never sent: the subscriber has forgotten the name, so the next
          // waiter must ask again; until then the waiters have their retry timers. After a
          // timeout or a lost connection the name stays, and the next handshake subscribes.
          if (!subscriber_.subscriptions().contains(proto::subscription_family::channel,
                                                    release_channel(target->name)))
            target->subscribed = false;
          return;
        }
        target->confirmed = true;
        wake(*target);  // every waiter tries again: a release may have slipped in before
      });
}

void wakeups::unwatch(waiter& w) noexcept {
  if (!w.hook_.is_linked()) return;
  w.hook_.unlink();
  const auto it = entries_.find(w.name_);
  w.name_ = {};
  if (it != entries_.end()) unsubscribe_if_unwatched(it->second);
}

void wakeups::unsubscribe_if_unwatched(entry& e) noexcept {
  if (e.waking || !e.list.empty() || !e.subscribed) return;
  e.subscribed = false;
  e.confirmed = false;
  subscriber_.unsubscribe(release_channel(e.name));
}

void wakeups::wake(entry& e) noexcept {
  // A woken waiter may stop watching, or make another stop: walk a detached copy of the list,
  // putting each waiter back before it runs, and unsubscribe only once the walk is over.
  if (e.waking) return;  // a wake inside a wake: the walk in progress covers everyone
  e.waking = true;
  waiters pending = std::move(e.list);
  while (!pending.empty()) {
    waiter& w = pending.front();
    pending.pop_front();
    e.list.push_back(w);
    w.woken_();
  }
  e.waking = false;
  unsubscribe_if_unwatched(e);
}

}  // namespace uredis::lock
