#pragma once
// subscriptions: what one connection is subscribed to — channels, patterns and shard channels,
// each with the handler its messages go to — as a sans-I/O object: it routes the messages the
// push router hands it, and subscribes again to all of it in every handshake. It never sends
// anything by itself; pubsub::subscriber sends the (un)subscribe commands it encodes.
//
//   push router ──on_message──► find the handler by channel (message, smessage) or by
//                               pattern (pmessage) ──► handler(message), on the shard's thread
//   handshake ──write()──► SUBSCRIBE every channel, PSUBSCRIBE every pattern, SSUBSCRIBE the
//                          shard channels slot by slot, PING ──on_node(PING's reply)──► restored
//
// Registry: a name has one handler; adding it again replaces the handler. A name is registered
// from the moment it is added (its messages are delivered as soon as the server sends them) to
// the moment it is removed (no message reaches its handler after that, even one already on its
// way). Handlers may add and remove names, their own included, while they run, and may destroy
// the subscriptions (the subscriber that owns them) too.
//
// Resubscribing: every connect's handshake writes one command per family that has names (per
// slot for shard channels: SSUBSCRIBE refuses channels of two slots with CROSSSLOT), then a
// PING, and reads the PING's reply: the confirmations (pushes, or on RESP2 pub/sub arrays, which
// the session reads as pushes) all arrive before it. The handshake fails with the server's error
// if it refuses a subscription (an ACL's NOPERM). Once the PING's reply is in, an
// event::subscriptions_restored says how many names the server confirmed; messages published
// while the connection was down are lost (Redis Pub/Sub is at most once).
//
// Views: a message's strings are valid during the handler's call only. Delivering a message
// allocates nothing: the registry is searched with the message's own views.
//
// Owner: pubsub::subscriber, which registers it as its connection's subscription hook and
// handshake step. Not thread-safe: the connection's shard only.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/handshake_step.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::proto {

/// The three kinds of subscription, each with its commands and its message kind.
enum class subscription_family : std::uint8_t {
  channel,  // SUBSCRIBE, UNSUBSCRIBE -> message
  pattern,  // PSUBSCRIBE, PUNSUBSCRIBE -> pmessage
  shard,    // SSUBSCRIBE, SUNSUBSCRIBE -> smessage (Redis 7)
};

/// "SUBSCRIBE name" or "UNSUBSCRIBE name" (and the P and S forms), as a descriptor the session
/// can encode. One name, so one confirmation of a known kind answers it (without a name,
/// UNSUBSCRIBE means "all", whose confirmations cannot be counted in advance).
struct subscription_command {
  subscription_family family = subscription_family::channel;
  bool subscribe = true;
  std::string_view name;

  void encode(resp::encoder& e) const;
  static constexpr bool keyless = true;
  static constexpr std::uint16_t confirmations() noexcept { return 1; }
  /// The kind of the confirmation that answers it (push_kind::psubscribe for PSUBSCRIBE...).
  push_kind confirmed_by() const noexcept;
};

class subscriptions final : public subscription_hook, public handshake_step {
 public:
  using message_handler = util::inline_function<void(const pubsub_message&), 48>;

  /// `events` receives subscriptions_restored for connection `connection_id`; null: none.
  explicit subscriptions(event::dispatcher* events = nullptr,
                         std::uint64_t connection_id = 0) noexcept
      : events_(events), connection_id_(connection_id) {}

  /// A handler may destroy the object that owns this (its subscriber) while it runs.
  ~subscriptions();
  subscriptions(const subscriptions&) = delete;
  subscriptions& operator=(const subscriptions&) = delete;

  /// Registers `name` in `family` with `handler` (replacing its handler if it is there).
  void add(subscription_family family, std::string_view name, message_handler handler);
  /// Unregisters `name`; false if it was not registered.
  bool remove(subscription_family family, std::string_view name);
  bool contains(subscription_family family, std::string_view name) const;
  /// An SUNSUBSCRIBE of `shard_channel` was sent, and has completed: while one is on its way,
  /// a sunsubscribe push for the channel is its confirmation, even if the channel was
  /// registered again meanwhile, not the server dropping it (on_shard_channel_dropped).
  void unsubscribe_sent(std::string_view shard_channel);
  void unsubscribe_done(std::string_view shard_channel);
  /// Names registered, all families together.
  std::size_t size() const noexcept;
  /// Calls `f(name)` for each name registered in `family`.
  template <class F>
  void for_each(subscription_family family, F&& f) const {
    for (const auto& [name, handler] : names(family))
      if (!(&handler == running_ && running_removed_)) f(std::string_view{name});
  }

  /// Messages handed to a handler, and messages for names no longer (or never) registered.
  std::uint64_t delivered() const noexcept { return delivered_; }
  std::uint64_t unrouted() const noexcept { return unrouted_; }
  /// Names the server confirmed in the last handshake that resubscribed.
  std::uint32_t restored() const noexcept { return restored_; }

  /// Called with a shard channel the server unsubscribed by itself (Redis 7 does when its slot
  /// moves to another node): the name is unregistered first, so no handshake asks for it again.
  using dropped_handler = util::inline_function<void(std::string_view), 16>;
  void on_shard_channel_dropped(dropped_handler h) noexcept { dropped_ = std::move(h); }

  // subscription_hook
  void on_message(const pubsub_message& m) override;
  void on_subscription(const subscription_change& c) override;

  // handshake_step
  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

 private:
  // Heterogeneous lookup: a message's channel view finds its entry without a std::string.
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using table = std::unordered_map<std::string, message_handler, name_hash, std::equal_to<>>;

  void write_shard_channels(resp::encoder& out) const;
  table& names(subscription_family f) noexcept { return tables_[static_cast<std::size_t>(f)]; }
  const table& names(subscription_family f) const noexcept {
    return tables_[static_cast<std::size_t>(f)];
  }

  table tables_[3];
  // Shard channels with an SUNSUBSCRIBE on its way, and how many.
  std::unordered_map<std::string, std::uint32_t, name_hash, std::equal_to<>> leaving_;
  event::dispatcher* events_;
  std::uint64_t connection_id_;
  std::uint64_t delivered_ = 0;
  std::uint64_t unrouted_ = 0;

  // The handler running now, and what was asked of its entry meanwhile (applied after it).
  const message_handler* running_ = nullptr;
  bool* destroyed_while_running_ = nullptr;  // set by the destructor while a handler runs
  bool running_removed_ = false;
  message_handler running_replacement_;

  // Where the last message went: a stream on one channel finds it again without hashing.
  // Nodes of an unordered_map never move, so these stay valid until their entry is erased.
  subscription_family last_family_ = subscription_family::channel;
  const std::string* last_name_ = nullptr;
  message_handler* last_handler_ = nullptr;

  dropped_handler dropped_;
  bool restoring_ = false;  // between write() and the PING's reply
  std::uint32_t confirmed_ = 0;
  std::uint32_t restored_ = 0;
};

}  // namespace uredis::proto
