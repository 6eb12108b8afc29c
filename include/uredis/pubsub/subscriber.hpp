#pragma once
// subscriber: Redis Pub/Sub on one shard — subscribe to channels, patterns and shard channels,
// each with a handler that runs on the shard's thread for every message.
//
//   uredis::pubsub::subscriber sub{conn};                      // RESP3: shares `conn`
//   sub.subscribe("prices", [](const uredis::pubsub::message& m) {
//     use(m.channel, m.payload);                               // views, valid during the call
//   }, [](const uredis::result<void>& r) { /* confirmed by the server, or why not */ });
//   sub.psubscribe("prices.*", [](const uredis::pubsub::message& m) { use(m.pattern, ...); });
//   sub.unsubscribe("prices");
//
// Connections:
//   - RESP3 (the default): messages are pushes, so a subscriber shares an ordinary connection:
//     commands and their replies keep flowing beside the messages, in order.
//   - RESP2: a connection with subscriptions takes nothing but the pub/sub commands, PING and
//     QUIT. Build the subscriber from a reactor and a config: it owns a dedicated
//     connection (one per shard is enough: it holds any number of subscriptions). A subscriber
//     given a shared RESP2 connection turns it into a subscriber-only one: any other command
//     sent on it completes at once with errc::subscriber_only, unsent (commands already sent
//     get their replies, even an LRANGE whose array looks like a message).
//
// What happens when:
//   - subscribe(): the handler is registered at once and receives every message from the
//     server's confirmation on; `done` runs when the server confirms, or with the error that
//     stopped it. When the server refused it (NOPERM from an ACL) or it was never sent
//     (errc::not_connected while the connection is idle or closed, errc::queue_full), the name
//     is unregistered; after a timeout or a lost connection it stays registered (the server
//     may have taken it, and the next handshake subscribes to it anyway). Subscribing to a
//     name again replaces its handler.
//   - unsubscribe(): no message reaches the handler after the call, even one already on its
//     way; `done` runs when the server confirms (at once, sending nothing, for a name that was
//     not subscribed).
//   - The connection breaks: it reconnects by its policy, and its handshake subscribes again to
//     every registered name before the connection is ready; an event::subscriptions_restored
//     says how many the server confirmed. Messages published meanwhile are lost (Redis Pub/Sub
//     delivers at most once). (Un)subscribes in flight are resent: they are idempotent.
//   - Handlers may subscribe and unsubscribe, themselves included, while they run, and may
//     destroy the subscriber (a "wait for one message" helper); so may the done callbacks.
//
// Sharded Pub/Sub (SSUBSCRIBE): on a standalone server, or on one cluster node, as here; a
// shard channel the server drops by itself (its slot moved away) is unregistered and reported
// to on_shard_channel_dropped(). cluster::sharded_subscriber routes shard channels by slot
// across a cluster and follows them when their slots move.
//
// Cost: a message is found by its channel (or pattern) in a hash table, with the message's own
// views, and handed to the handler: no allocation per message. Subscribing allocates (the name).
//
// Ownership: one subscriber per connection. A shared connection must outlive the subscriber.
// Everything runs on the connection's shard's thread; the subscriber must not move.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/proto/subscriptions.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::pubsub {

/// A message: its channel and payload, and for a pattern subscription the pattern it matched.
/// Views, valid during the handler's call.
using message = proto::pubsub_message;
using message_handler = proto::subscriptions::message_handler;
using done_callback = util::inline_function<void(const result<void>&), 32>;

namespace detail {
struct link;
}

class subscriber {
 public:
  /// Subscribes on `shared`, which must outlive this subscriber.
  explicit subscriber(connection& shared);
  /// Owns a dedicated connection made from `config` on `r`: call connect().
  subscriber(reactor::reactor& r, connection_config config);
  /// Unsubscribes from everything (if the connection is up) and detaches from the connection.
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  /// Connects the connection (see connection::connect).
  void connect(connection::connect_callback done = {}) { conn_->connect(std::move(done)); }

  void subscribe(std::string_view channel, message_handler handler, done_callback done = {}) {
    request(proto::subscription_family::channel, channel, &handler, std::move(done));
  }
  void psubscribe(std::string_view pattern, message_handler handler, done_callback done = {}) {
    request(proto::subscription_family::pattern, pattern, &handler, std::move(done));
  }
  void ssubscribe(std::string_view channel, message_handler handler, done_callback done = {}) {
    request(proto::subscription_family::shard, channel, &handler, std::move(done));
  }
  void unsubscribe(std::string_view channel, done_callback done = {}) {
    request(proto::subscription_family::channel, channel, nullptr, std::move(done));
  }
  void punsubscribe(std::string_view pattern, done_callback done = {}) {
    request(proto::subscription_family::pattern, pattern, nullptr, std::move(done));
  }
  void sunsubscribe(std::string_view channel, done_callback done = {}) {
    request(proto::subscription_family::shard, channel, nullptr, std::move(done));
  }

  /// `h(channel)` runs when the server unsubscribes a shard channel by itself (its slot moved).
  void on_shard_channel_dropped(proto::subscriptions::dropped_handler h) noexcept {
    subscriptions_.on_shard_channel_dropped(std::move(h));
  }

  /// The connection the subscriptions live on.
  connection& conn() noexcept { return *conn_; }
  /// What is subscribed, and how many messages went where.
  const proto::subscriptions& subscriptions() const noexcept { return subscriptions_; }

 private:
  friend struct detail::link;

  // An (un)subscribe sent and not yet answered.
  struct in_flight {
    std::uint64_t ticket = 0;
    proto::subscription_family family{};
    bool subscribe = true;
    std::string name;
    done_callback done;
  };

  // `handler` null: unsubscribe.
  void request(proto::subscription_family family, std::string_view name, message_handler* handler,
               done_callback done);
  void finished(std::uint64_t ticket, const result<void>& outcome);
  void attach();

  std::unique_ptr<connection> owned_;  // a dedicated connection; destroyed after the rest
  connection* conn_;
  proto::subscriptions subscriptions_;
  detail::link* link_;  // what the commands in flight call back through (they may outlive this)
  std::vector<in_flight> in_flight_;
  std::uint64_t next_ticket_ = 1;
};

}  // namespace uredis::pubsub
