#pragma once
// push_router: reads a RESP3 push frame node by node, as views, and hands it to whoever wants
// that kind, allocating nothing per frame.
//
//   >2 invalidate *2 k1 k2     -> invalidation_hook::on_invalidate("k1"), ("k2")   per key,
//   >2 invalidate _               on_invalidate_all()                          as they arrive
//   >3 message ch payload      -> subscription_hook::on_message({message, "", ch, payload})
//   >3 message __redis__:invalidate *2 k1 k2   (RESP2 tracking, redirected to a subscriber)
//                              -> invalidation_hook, as an invalidate frame, when one is set
//                                 (a null payload: on_invalidate_all())
//   >4 pmessage pat ch payload -> ... on_message({pmessage, pat, ch, payload})
//   >3 smessage ch payload     -> ... on_message({smessage, "", ch, payload})
//   >3 subscribe ch 1          -> ... on_subscription({subscribe, ch, 1})  (and unsubscribe,
//                                 psubscribe, punsubscribe, ssubscribe, sunsubscribe)
//   anything else              -> the `other` function, with the frame's first elements
//
// A kind whose hook is not set goes to `other` too, so nothing is lost silently. The frame's
// kind is its first element; servers send it in lower case and the router matches it exactly.
//
// Views: every string a hook receives is valid during the call only. The nodes the router is
// given point into the connection's input (a receive buffer), which moves on between reads; a
// frame cut by the end of a read keeps what it needs by pin(), which copies the views it holds
// into the router's own buffer (two buffers, reused: no allocation once they have grown).
// Invalidation keys are never copied: each is passed on as soon as its node arrives.
//
// The same router reads a RESP2 subscriber connection's messages, which are plain arrays of the
// same shape: only the frame's header type differs.
//
// Owner: a pipeline, which feeds it the nodes of each push frame. The hooks are not owned; they
// must outlive the router or be unset first.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uredis/resp/node.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::proto {

/// What a push frame is, from its first element.
enum class push_kind : std::uint8_t {
  other,
  invalidate,
  message,
  pmessage,
  smessage,
  subscribe,
  unsubscribe,
  psubscribe,
  punsubscribe,
  ssubscribe,
  sunsubscribe,
};

/// The kind named `name` ("message", "invalidate"...); push_kind::other for any other name.
push_kind push_kind_of(std::string_view name) noexcept;

/// True when `first`, the first element of a RESP2 array on a subscribed connection, makes the
/// array a pub/sub frame: a message, pmessage, smessage or (un)subscribe confirmation. (RESP2
/// has no invalidate frame: its invalidations are messages on __redis__:invalidate.)
bool names_pubsub_frame(const resp::node& first) noexcept;

/// True for the kinds a subscribing command is answered with: (p|s)(un)subscribe.
constexpr bool is_confirmation(push_kind k) noexcept {
  return k >= push_kind::subscribe && k <= push_kind::sunsubscribe;
}

/// A message published on a channel (message, smessage) or matching a pattern (pmessage).
struct pubsub_message {
  push_kind kind = push_kind::message;
  std::string_view pattern;  // pmessage only
  std::string_view channel;
  std::string_view payload;
};

/// A (un)subscription confirmed by the server: `count` is how many channels and patterns the
/// connection is subscribed to now (shard channels are counted apart, for s(un)subscribe).
struct subscription_change {
  push_kind kind = push_kind::subscribe;
  std::string_view channel;  // empty when the server sent a null (unsubscribe from nothing)
  std::int64_t count = 0;
};

/// A frame no hook took: its kind and its first top-level elements (an aggregate element is
/// given as an empty view), `size` of them in all.
struct push_frame {
  std::string_view kind;
  std::span<const std::string_view> elements;  // after the kind; at most push_router::kept - 1
  std::uint64_t size = 0;                      // elements after the kind, as the frame said
};

/// Receives invalidations (client-side caching). Called on the connection's thread.
class invalidation_hook {
 public:
  /// `key` changed on the server (or was evicted from its tracking table).
  virtual void on_invalidate(std::string_view key) = 0;
  /// Every key may have changed (FLUSHALL, FLUSHDB, or a server-side reset).
  virtual void on_invalidate_all() = 0;

 protected:
  ~invalidation_hook() = default;
};

/// Receives pub/sub messages and subscription confirmations. Called on the connection's thread.
class subscription_hook {
 public:
  virtual void on_message(const pubsub_message& m) = 0;
  virtual void on_subscription(const subscription_change& c) = 0;

 protected:
  ~subscription_hook() = default;
};

/// The channel RESP2 client tracking publishes invalidations on (CLIENT TRACKING ... REDIRECT).
inline constexpr std::string_view invalidation_channel = "__redis__:invalidate";

class push_router {
 public:
  using other_function = util::inline_function<void(const push_frame&), 32>;

  /// Top-level elements kept per frame, the kind included: pmessage needs 4.
  static constexpr std::size_t kept = 8;

  push_router() = default;
  push_router(const push_router&) = delete;
  push_router& operator=(const push_router&) = delete;

  void set_invalidation_hook(invalidation_hook* h) noexcept { invalidation_ = h; }
  void set_subscription_hook(subscription_hook* h) noexcept { subscription_ = h; }
  void set_other(other_function f) noexcept { other_ = std::move(f); }

  /// Each node of one frame, the frame's header (depth 0) first; attributes excluded.
  void on_node(const resp::node& n);
  /// The frame is complete (its last node was given): hands it on, then forgets it. Returns
  /// its kind (the pipeline counts (un)subscribe confirmations with it).
  push_kind finish();
  /// The input the held views point into is about to be dropped: copies them.
  void pin();
  /// Forgets a frame in progress (the connection's stream broke).
  void reset() noexcept;

 private:
  void dispatch();

  invalidation_hook* invalidation_ = nullptr;
  subscription_hook* subscription_ = nullptr;
  other_function other_;

  push_kind kind_ = push_kind::other;
  std::uint64_t size_ = 0;         // top-level elements, the kind included
  std::uint64_t seen_ = 0;         // top-level elements seen so far
  bool invalidating_all_ = false;  // invalidate with a null key list
  std::int64_t count_ = 0;         // the last top-level integer (a subscription count)
  // The top-level elements seen, as views. Kept as two arrays, pointers and sizes: a node's
  // view is written by the parser as two 8-byte stores, and a std::string_view copied whole is
  // one 16-byte load, which cannot be forwarded from them (a stall that cost most of on_node).
  std::array<const char*, kept> element_data_{};
  std::array<std::size_t, kept> element_size_{};
  std::array<std::string_view, kept> other_elements_{};  // the `other` frame's, built for it
  util::byte_buffer pinned_;                             // where pin() copies held views
  util::byte_buffer spare_;  // the next pin() copies here, then the two swap
};

}  // namespace uredis::proto
