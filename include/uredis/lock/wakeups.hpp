#pragma once
// wakeups: how a shard's waiting locks hear that a holder released. One per shard, shared by
// every lock on it: it subscribes once per lock name (the release script publishes on
// lock/scripts.hpp's release_channel) and wakes every waiter of that name on each message.
//
//   uredis::lock::wakeups wake{conn};                          // RESP3: shares the connection
//   uredis::lock::distributed_lock l{conn, "orders", {}, &wake};
//
// The order that makes a release impossible to miss: a waiter is woken once when the server
// confirms the subscription, and the lock tries again then, so a release published between
// its busy answer and the subscription is caught by that try. A waiter that watches a name
// already subscribed is woken at once, for the same reason.
//
// RESP2: subscriptions need a connection of their own; build the wakeups from a reactor and a
// config (it then owns a dedicated subscriber connection: call connect()).
//
// Names stay subscribed while anyone waits on them, and are unsubscribed when the last waiter
// stops; the table entry for a name is kept (one string per distinct lock name on the shard).
// Everything runs on the shard's thread; a wakeups must outlive the locks that use it.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "uredis/client/connection.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::lock {

class wakeups {
 public:
  /// One waiting lock: `woken` runs on each release of its name (and once when subscribed).
  class waiter {
   public:
    explicit waiter(util::inline_function<void(), 16> woken) noexcept : woken_(std::move(woken)) {}
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    bool watching() const noexcept { return hook_.is_linked(); }

   private:
    friend class wakeups;
    util::list_hook hook_;
    util::inline_function<void(), 16> woken_;
    std::string_view name_;  // the entry's key, while watching
  };

  explicit wakeups(connection& shared) : subscriber_(shared) {}
  wakeups(reactor::reactor& r, connection_config config) : subscriber_(r, std::move(config)) {}
  wakeups(const wakeups&) = delete;
  wakeups& operator=(const wakeups&) = delete;

  /// Connects the dedicated connection (the reactor-and-config constructor).
  void connect(connection::connect_callback done = {}) { subscriber_.connect(std::move(done)); }

  /// Starts waking `w` on releases of lock `name` (it stops watching another name first).
  void watch(std::string_view name, waiter& w);
  /// Stops waking `w`; unsubscribes when it was the name's last waiter.
  void unwatch(waiter& w) noexcept;

  pubsub::subscriber& subscriber() noexcept { return subscriber_; }

 private:
  using waiters = util::intrusive_list<waiter, &waiter::hook_>;
  struct entry {
    waiters list;
    bool subscribed = false;  // asked for and not unsubscribed since
    bool confirmed = false;   // the server said so
    bool waking = false;      // wake() is walking the waiters
    std::string_view name;    // the table's key for this entry
  };
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  void wake(entry& e) noexcept;
  void unsubscribe_if_unwatched(entry& e) noexcept;

  std::unordered_map<std::string, entry, name_hash, std::equal_to<>> entries_;
  // Last: destroyed first, so no subscription callback reaches the table once it is going.
  pubsub::subscriber subscriber_;
};

}  // namespace uredis::lock
