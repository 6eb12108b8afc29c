#include "uredis/cluster/cluster_client.hpp"

#include <algorithm>
#include <chrono>

#include "uredis/cmd/raw.hpp"
#include "uredis/event/events.hpp"

namespace uredis::cluster {

namespace {

using clock_type = std::chrono::steady_clock;

// Distinguishes the shards' cluster clients' random streams (jitter, backoff).
std::uint64_t seed_of(const void* p) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)) ^
         static_cast<std::uint64_t>(clock_type::now().time_since_epoch().count());
}

}  // namespace

cluster_client::cluster_client(reactor::reactor& r, cluster_config config)
    : reactor_(&r),
      config_(std::move(config)),
      rng_(seed_of(this)),
      schedule_(config_.refresh, rng_),
      refresh_timer_([this] { on_refresh_timer(); }),
      retry_timer_([this] { send_held(false); }),
      on_disconnected_(
          r.events(),
          [this](const event::disconnected& e) { on_node_trouble(e.connection_id, false); }),
      on_reconnect_scheduled_(r.events(), [this](const event::reconnect_scheduled& e) {
        on_node_trouble(e.connection_id, true);
      }) {}

cluster_client::~cluster_client() {
  closing_ = true;
  refresh_timer_.cancel();
  retry_timer_.cancel();
  holds_.drain([](held_command&& c) {
    c.handler.complete(proto::reply_outcome::failed(make_error_code(errc::connection_closed)));
  });
  // Pending commands complete with connection_closed as each connection goes (closing_ tells
  // their handlers not to route them again).
  conns_.clear();
  retiring_.clear();
  seed_.reset();
  if (on_connect_) {
    connect_callback done = std::move(on_connect_);
    on_connect_ = {};
    done(result<void>(errc::connection_closed));
  }
}

void cluster_client::connect(connect_callback done) {
  on_connect_ = std::move(done);
  seed_failures_ = 0;
  refresh();
}

void cluster_client::refresh() {
  if (closing_) return;
  schedule_.request(reactor_->timers().now());
  arm_refresh();
}

void cluster_client::recheck() {
  if (closing_) return;
  schedule_.remind(reactor_->timers().now());
  arm_refresh();
}

std::size_t cluster_client::open_connections() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c != nullptr; }));
}

connection* cluster_client::connection_to(const node_address& address) noexcept {
  const std::uint16_t node = map_.find(address);
  return node < conns_.size() ? conns_[node].get() : nullptr;
}

std::string_view cluster_client::replying_host() const noexcept {
  // A redirect names its node unless the node does not know its own address (then the node
  // replying is meant); the seeds' host is the best guess a redirect handler has.
  return config_.seeds.empty() ? std::string_view("127.0.0.1")
                               : std::string_view(config_.seeds.front().host);
}

connection& cluster_client::open(std::uint16_t node) {
  if (node >= conns_.size()) conns_.resize(map_.nodes().size());
  std::unique_ptr<connection>& c = conns_[node];
  if (!c) {
    connection_config cfg = config_.node;
    cfg.unix_socket.clear();
    cfg.host = map_.node(node).address.host;
    cfg.port = map_.node(node).address.port;
    c = std::make_unique<connection>(*reactor_, std::move(cfg));
    // Replicas serve reads only after READONLY. Under a replica read policy every node gets it
    // (a primary may be demoted by a failover, its connection kept); under policy primary only
    // replicas, for the calls that ask for replica reads (exec_options::reads).
    if (config_.reads != read_policy::primary || !map_.is_primary(node))
      c->add_handshake_step(free_readonly_step());
    c->connect();
  } else if (c->state() == connection_state::closed || c->state() == connection_state::idle) {
    c->connect();  // it gave up on its node earlier: try again, the map still names it
  }
  return *c;
}

proto::handshake_step& cluster_client::free_readonly_step() {
  // A step is on one connection's list at a time; a connection that is gone has unlinked its
  // own (its session's list did), so the pool is as large as the node connections alive.
  for (const std::unique_ptr<readonly_step>& step : readonly_steps_) {
    if (!step->hook.is_linked()) return *step;
  }
  return *readonly_steps_.emplace_back(std::make_unique<readonly_step>());
}

// ---- Commands waiting out a backoff, per slot (held_slots.hpp) ----

std::chrono::nanoseconds cluster_client::retry_delay(std::uint32_t redirects) noexcept {
  return config_.retry_backoff.compute(std::max<std::uint32_t>(redirects, 1), rng_);
}

std::chrono::milliseconds cluster_client::time_left(time_point deadline) const noexcept {
  if (deadline == time_point::max()) return std::chrono::milliseconds(0);
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - reactor_->timers().now());
  return std::max(left, std::chrono::milliseconds(1));
}

void cluster_client::hold(held_command c, std::chrono::nanoseconds delay, bool returned,
                          bool was_probe) {
  if (closing_) {
    c.handler.complete(proto::reply_outcome::failed(make_error_code(errc::connection_closed)));
    return;
  }
  const auto due =
      reactor_->timers().now() + std::chrono::duration_cast<clock_type::duration>(delay);
  if (returned) {
    holds_.add_returned(std::move(c), due, was_probe);
  } else {
    holds_.add_new(std::move(c), due);
  }
  if (map_.shards().empty()) refresh();  // no topology yet: read one
  arm_retry();
}

void cluster_client::arm_retry() {
  const std::optional<clock_type::time_point> due = holds_.next_due();
  if (!due) return;
  if (retry_timer_.armed() && retry_timer_.deadline() <= *due) return;
  reactor_->timers().rearm(retry_timer_, *due);
}

void cluster_client::send_held(bool all) {
  if (closing_) return;
  holds_.expire(reactor_->timers().now(), [](held_command&& c) {
    c.handler.complete(proto::reply_outcome::failed(make_error_code(errc::timeout)));
  });
  holds_.send_due(reactor_->timers().now(), all,
                  [this](held_command&& c, bool probe) { resend(std::move(c), probe); });
  arm_retry();
}

void cluster_client::held_answered(std::uint16_t slot, bool gave_up) {
  holds_.end_probe(
      slot, gave_up, [this](held_command&& c, bool) { resend(std::move(c), false); },
      [](held_command&& c) {
        c.handler.complete(
            proto::reply_outcome::failed(make_error_code(errc::cluster_too_many_redirects)));
      });
  arm_retry();
}

void cluster_client::resend(held_command&& c, bool probe) {
  if (c.deadline <= reactor_->timers().now()) {  // a probe's answer: the rest go
    c.handler.complete(proto::reply_outcome::failed(make_error_code(errc::timeout)));
    return;
  }
  const bool keyed = c.slot != holds::keyless;
  const std::uint16_t node = node_for(keyed ? c.slot : 0, keyed);
  if (node == slot_map::no_node) {
    // Nobody serves the slot (yet): wait for a topology, within the redirect budget.
    if (++c.waits > redirect_state::max_redirects) {
      // A probe that gives up fails the commands behind it first (its own answer, below,
      // then finds no probe to end).
      if (probe) held_answered(c.slot, true);
      c.handler.complete(
          proto::reply_outcome::failed(make_error_code(errc::cluster_slot_unserved)));
      return;
    }
    const auto delay = retry_delay(c.waits);
    refresh();
    hold(std::move(c), delay, probe, probe);
    return;
  }
  // Behind a slot's commands that wait (a probe sent back to wait moments ago holds it again).
  if (!probe && keyed && holds_.holds(c.slot)) return hold(std::move(c), {}, false, false);
  c.mark_probe(c.handler, probe);
  const exec_options options{time_left(c.deadline), c.idempotent};
  open(node).enqueue(detail::kept_command{c.bytes.data()}, std::move(c.handler), options);
}

// ---- The topology ----

void cluster_client::arm_refresh() {
  const std::optional<refresh_schedule::time_point> at = schedule_.next();
  if (!at) return;
  if (refresh_timer_.armed() && refresh_timer_.deadline() <= *at) return;
  reactor_->timers().rearm(refresh_timer_, *at);
}

void cluster_client::on_refresh_timer() {
  if (closing_) return;
  if (schedule_.start(reactor_->timers().now())) {
    send_refresh();
  } else {
    arm_refresh();
  }
}

// Asks one node for CLUSTER SLOTS: the map's nodes in turn (a node whose connection is down is
// skipped while another is up), else the seeds in turn.
void cluster_client::send_refresh() {
  const auto nodes = map_.nodes();
  const auto usable = [&](std::size_t i) {
    return i >= conns_.size() || conns_[i] == nullptr ||
           conns_[i]->state() == connection_state::ready;
  };
  connection* asked = nullptr;
  if (!nodes.empty()) {
    for (std::size_t k = 0; k < nodes.size() && asked == nullptr; ++k) {
      const std::size_t i = (refresh_cursor_ + k) % nodes.size();
      if (!usable(i)) continue;
      refresh_cursor_ = i + 1;
      refresh_host_ = nodes[i].address.host;
      asked = &open(static_cast<std::uint16_t>(i));
    }
  }
  if (asked == nullptr && !config_.seeds.empty()) {
    const node_address& seed = config_.seeds[refresh_cursor_++ % config_.seeds.size()];
    const std::uint16_t known = map_.find(seed);
    refresh_host_ = seed.host;
    if (known != slot_map::no_node) {
      asked = &open(known);
    } else {
      connection_config cfg = config_.node;
      cfg.unix_socket.clear();
      cfg.host = seed.host;
      cfg.port = seed.port;
      seed_ = std::make_unique<connection>(*reactor_, std::move(cfg));
      // The seed's connection joins the map's if the seed is in it, maybe as a replica.
      if (config_.reads != read_policy::primary) seed_->add_handshake_step(free_readonly_step());
      seed_->connect();
      asked = seed_.get();
    }
  }
  if (asked == nullptr) {  // no seed and no node: nothing to ask
    on_slots(result<resp::reply>(errc::not_connected));
    return;
  }
  asked->exec(
      cmd::raw<resp::reply>{"CLUSTER", "SLOTS"},
      [this](result<resp::reply> r) {
        if (!closing_) on_slots(std::move(r));
      },
      exec_options{config_.refresh_timeout, true});
}

void cluster_client::on_slots(result<resp::reply> reply) {
  const auto now = reactor_->timers().now();
  result<slot_map> next = reply.has_value()   ? slot_map::from_cluster_slots(*reply, refresh_host_)
                          : reply.has_error() ? result<slot_map>(reply.error())
                                              : result<slot_map>(errc::cluster_topology_invalid);
  if (!next.has_value() || next->covered_slots() == 0) {
    schedule_.failed(now);
    arm_refresh();
    if (on_connect_ && map_.shards().empty() &&
        ++seed_failures_ >= std::max<std::size_t>(config_.seeds.size(), 1)) {
      connect_callback done = std::move(on_connect_);
      on_connect_ = {};
      done(next.has_error() ? result<void>(next.error())
                            : result<void>(errc::cluster_topology_invalid));
    }
    return;
  }
  schedule_.succeeded(now);
  seed_failures_ = 0;
  apply(std::move(*next));
  ++topology_reads_;
  arm_refresh();
  send_held(true);  // what waited for a topology goes now
  // A node still down may be replaced any moment (its replica's election): keep reading the
  // topology, less and less often (refresh_schedule.hpp), while its connection tries again.
  const bool down = std::any_of(conns_.begin(), conns_.end(), [](const auto& c) {
    return c != nullptr && c->state() == connection_state::reconnecting;
  });
  if (down) {
    schedule_.poll_while_down(now);
    arm_refresh();
  } else {
    schedule_.settled();
  }
  // Last: the callback may destroy the client (a coroutine that ends once connected).
  if (on_connect_) {
    connect_callback done = std::move(on_connect_);
    on_connect_ = {};
    done(result<void>());
  }
}

void cluster_client::apply(slot_map next) {
  const bool had_map = !map_.nodes().empty();
  // Connections follow their node's address into the new map's indices.
  std::vector<std::unique_ptr<connection>> moved(next.nodes().size());
  for (std::size_t i = 0; i < next.nodes().size(); ++i) {
    const node_address& address = next.nodes()[i].address;
    const std::uint16_t old = map_.find(address);
    if (old != slot_map::no_node && old < conns_.size()) {
      moved[i] = std::move(conns_[old]);
    } else if (seed_ != nullptr && seed_->config().host == address.host &&
               seed_->config().port == address.port) {
      moved[i] = std::move(seed_);
    }
    if (had_map && old == slot_map::no_node)
      reactor_->events().emit(event::node_added{0, next.nodes()[i].address.host, address.port});
  }
  bool changed = !had_map || next.nodes().size() != map_.nodes().size();
  for (std::uint32_t s = 0; s < util::cluster_slots && !changed; ++s) {
    const std::uint16_t a = map_.primary_of(static_cast<std::uint16_t>(s));
    const std::uint16_t b = next.primary_of(static_cast<std::uint16_t>(s));
    if ((a == slot_map::no_node) != (b == slot_map::no_node)) changed = true;
    if (a != slot_map::no_node && b != slot_map::no_node &&
        !(map_.node(a).address == next.node(b).address))
      changed = true;
  }
  // Nodes that left: their connections go once the new map is in place, so the commands they
  // had not sent are routed by it.
  std::vector<std::unique_ptr<connection>> gone;
  std::vector<node_info> removed;
  for (std::size_t i = 0; i < map_.nodes().size(); ++i) {
    if (next.find(map_.nodes()[i].address) != slot_map::no_node) continue;
    removed.push_back(map_.nodes()[i]);
    gone.push_back(i < conns_.size() ? std::move(conns_[i]) : nullptr);
  }
  map_ = std::move(next);
  conns_ = std::move(moved);
  reads_.reset(map_);  // replicas skipped since the last topology get reads again
  seed_.reset();
  if (changed) {
    std::uint32_t primaries = static_cast<std::uint32_t>(map_.shards().size());
    reactor_->events().emit(
        event::topology_changed{0, static_cast<std::uint32_t>(map_.nodes().size()), primaries,
                                static_cast<std::uint32_t>(map_.covered_slots())});
  }
  for (std::size_t i = 0; i < gone.size(); ++i) {
    std::unique_ptr<connection>& c = gone[i];
    reactor_->events().emit(
        event::node_removed{c ? c->id() : 0, removed[i].address.host, removed[i].address.port});
    // A live node with replies still due keeps its connection until they are in; a node that
    // is down has sent nothing it still holds (its commands were rewound): close it now.
    if (c && c->ready() && c->pending() > 0) retiring_.push_back(std::move(c));
  }
  gone.clear();  // closes: unsent commands come back with their bytes and are routed again
  sweep_retiring(false);
}

void cluster_client::sweep_retiring(bool judged) {
  // Done: nothing due, or given up. A connection that lost its socket goes once its commands
  // are judged (`judged`: reconnect_scheduled came), so that those it had written are reported
  // as the fault matrix says, not failed as closed. Destroying a ready connection emits
  // disconnected, which comes back here (on_node_trouble): the done ones leave the list before
  // any of them is destroyed.
  const auto done = std::stable_partition(
      retiring_.begin(), retiring_.end(), [judged](const std::unique_ptr<connection>& c) {
        if (c == nullptr || c->pending() == 0) return false;
        const connection_state s = c->state();
        if (s == connection_state::closed || s == connection_state::idle) return false;
        return !judged || c->ready();
      });
  if (done == retiring_.end()) return;
  std::vector<std::unique_ptr<connection>> closing(std::make_move_iterator(done),
                                                   std::make_move_iterator(retiring_.end()));
  retiring_.erase(done, retiring_.end());
}

void cluster_client::on_node_trouble(std::uint64_t connection_id, bool reconnecting) {
  if (closing_) return;
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    const std::unique_ptr<connection>& c = conns_[i];
    if (c != nullptr && c->id() == connection_id) {
      const auto node = static_cast<std::uint16_t>(i);
      if (i < map_.nodes().size() && !map_.is_primary(node)) {
        // A replica: its reads go to the primary until the next topology. Once its commands
        // are judged (reconnect_scheduled comes after: the reads it had written are unsent
        // again), closing it hands them back with their bytes, to be routed to the primary now
        // rather than wait for the replica; the next read it gets after a refresh reopens it.
        reads_.skip(node);
        if (reconnecting) c->close();
      }
      recheck();  // read the topology from another node: has a replica taken over?
      return;
    }
  }
  // Any connection's trouble is a moment to let go of the retiring ones that are done.
  sweep_retiring(reconnecting);
}

}  // namespace uredis::cluster
