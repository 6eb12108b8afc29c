#include "cache/invalidation_channel.hpp"

#include <utility>

#include "uredis/error.hpp"

namespace uredis::cache {
namespace {

connection_config channel_config(connection_config c) {
  c.protocol = proto::resp_version::resp2;
  c.cache = {};  // the channel itself caches nothing
  // A channel only listens: with no health check, one a middlebox dropped silently would look
  // up for good while the cache served entries nothing could invalidate any more.
  if (c.health_check_interval.count() == 0)
    c.health_check_interval = invalidation_channel::health_check_interval;
  return c;
}

}  // namespace

std::size_t invalidation_channel::client_id_step::write(resp::encoder& out,
                                                        const proto::handshake_params&,
                                                        proto::resp_version) {
  id.reset();
  out.command("CLIENT", "ID");
  return 1;
}

result<void> invalidation_channel::client_id_step::on_node(const resp::node& n, std::size_t) {
  if (resp::is_error(n.type)) return server_error::parse(n.value);
  if (n.depth != 0 || n.type != resp::type::integer) return make_error_code(errc::type_mismatch);
  id = n.integer;
  return {};
}

invalidation_channel::invalidation_channel(reactor::reactor& r, connection_config config,
                                           proto::invalidation_hook& hook, up_function up,
                                           down_function down)
    : conn_(r, channel_config(std::move(config))),
      id_step_(conn_),
      subscriber_(conn_),
      on_up_(std::move(up)),
      on_down_(std::move(down)),
      reconnected_(conn_.events(),
                   [this](const event::reconnected& e) {
                     if (e.connection_id == conn_.id()) became_up();
                   }),
      disconnected_(conn_.events(), [this](const event::disconnected& e) {
        if (e.connection_id == conn_.id()) became_down();
      }) {
  conn_.pushes().set_invalidation_hook(&hook);
}

invalidation_channel::~invalidation_channel() {
  conn_.pushes().set_invalidation_hook(nullptr);
}

void invalidation_channel::connect() {
  const connection_state s = conn_.state();
  if (connecting_ || (s != connection_state::idle && s != connection_state::closed)) return;
  connecting_ = true;
  conn_.connect([this](const result<void>& connected) {
    if (!connected) {
      connecting_ = false;  // the next connect of the tracked connection tries again
      return;
    }
    subscriber_.subscribe(
        proto::invalidation_channel, [](const pubsub::message&) {},
        [this](const result<void>& subscribed) {
          connecting_ = false;
          if (subscribed) became_up();
        });
  });
}

void invalidation_channel::became_up() {
  if (!id_step_.id) return;
  up_ = true;
  on_up_(*id_step_.id);
}

void invalidation_channel::became_down() {
  if (!std::exchange(up_, false)) return;
  on_down_();
}

}  // namespace uredis::cache
