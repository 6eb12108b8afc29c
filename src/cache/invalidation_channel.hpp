#pragma once
// invalidation_channel: where a RESP2 cache's invalidations arrive. RESP2 has no pushes, so the
// server publishes them on __redis__:invalidate to the client a tracked connection names in
// CLIENT TRACKING ... REDIRECT <id>: this channel's own connection, subscribed to that channel,
// whose push router hands every message on it to the cache's invalidation hook (push_router.hpp).
//
//   up(id)   the channel is connected and subscribed; `id` is its client id (CLIENT ID, asked in
//            its handshake before it subscribes, since a RESP2 subscriber may send nothing else)
//   down()   it lost its socket: the invalidations sent to it meanwhile are lost, and those of a
//            tracked connection still redirected to the old id go nowhere
//
// It connects once, when asked; after that its connection heals itself by its retry policy and
// resubscribes in its handshake, so every reconnect is an up() with the new id. It checks its
// health (PING when silent) even when the config does not ask for it: see channel_config.

#include <chrono>
#include <cstdint>
#include <optional>

#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"
#include "uredis/proto/handshake_step.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::cache {

class invalidation_channel {
 public:
  using up_function = util::inline_function<void(std::int64_t client_id), 16>;
  /// The channel's health check when the config sets none: a silent channel is recycled (and
  /// the cache stops serving) within about twice this.
  static constexpr std::chrono::milliseconds health_check_interval{1000};
  using down_function = util::inline_function<void(), 16>;

  /// A channel to `config`'s server (spoken RESP2, uncached) on `r`, feeding `hook`.
  invalidation_channel(reactor::reactor& r, connection_config config,
                       proto::invalidation_hook& hook, up_function up, down_function down);
  ~invalidation_channel();
  invalidation_channel(const invalidation_channel&) = delete;
  invalidation_channel& operator=(const invalidation_channel&) = delete;

  /// Connects and subscribes (once; a connect under way or done is left alone).
  void connect();
  bool up() const noexcept { return up_; }

 private:
  // CLIENT ID, in every handshake, before the subscriber's step resubscribes.
  class client_id_step final : public proto::handshake_step {
   public:
    explicit client_id_step(connection& c) noexcept { c.add_handshake_step(*this); }
    std::size_t write(resp::encoder& out, const proto::handshake_params&,
                      proto::resp_version) override;
    result<void> on_node(const resp::node& n, std::size_t) override;
    std::optional<std::int64_t> id;
  };

  void became_up();
  void became_down();

  connection conn_;
  client_id_step id_step_;
  pubsub::subscriber subscriber_;
  up_function on_up_;
  down_function on_down_;
  event::listener<event::reconnected> reconnected_;
  event::listener<event::disconnected> disconnected_;
  bool up_ = false;
  bool connecting_ = false;
};

}  // namespace uredis::cache
