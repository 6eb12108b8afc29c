#pragma once
// cluster_client: a Redis Cluster client on one shard's reactor, with the callback API. It reads
// the topology from seed nodes (CLUSTER SLOTS), keeps one connection per node, opened on first
// use, and sends each command to the primary serving its key's hash slot:
//
//   cluster::cluster_client c{reactor, {.seeds = {{"127.0.0.1", 7000}}, .node = template_cfg}};
//   c.connect([](const result<void>& r) { ... });              // the first topology
//   c.exec(cmd::set{"{user1}:name", "ada"}, [](result<bool> r) { ... });
//
//   exec(cmd, cb)     slot of the command's keys (cmd/keys_of.hpp) -> primary -> connection;
//                     keyless commands go to the primaries in turn; exec_on() names a node
//   MOVED             the slot is repointed at once, the command's kept bytes go to the new
//                     owner, and a topology refresh is scheduled (refresh_schedule: coalesced,
//                     rate-limited, jittered)
//   ASK               ASKING + the command, one batch, to the target; the map is left alone
//   TRYAGAIN, CLUSTERDOWN, or the command's node failed before it was sent
//                     the command waits out config.retry_backoff in its slot's hold, then is
//                     routed again by its slot (after a refresh, when one was due); the slot's
//                     other commands wait behind it (held_slots.hpp)
//   a node's connection drops
//                     a refresh is read from another node; when the node has left the map
//                     (its replica was promoted), its connection is closed and the commands it
//                     had not sent go to the slot's new owner. Commands it had written follow
//                     the connection's retry rules (proto/session.hpp): reads are resent on its
//                     next socket, a written non-idempotent write ends in errc::outcome_unknown
//   16 redirects      errc::cluster_too_many_redirects (redirect_state.hpp)
//   a timeout         exec_options::timeout (or the node config's default) runs from when the
//                     command was issued, across its redirects and waits: it completes with
//                     errc::timeout then, wherever it is (reply_outcome::deadline)
//
// The callback sees only the command's final reply, typed as on a single server. The coroutine
// and blocking faces, with the typed helpers, are built on this API: cluster/client.hpp and
// cluster/blocking_client.hpp.
//
// Replica reads (config.reads, or exec_options::reads per call; read_router.hpp): under
// prefer_replica or round_robin a keyed read-only command (retry::is_read_only, by name) goes
// to a replica of its slot's shard, or rotates over the primary and its replicas; writes,
// transactions, run() scripts, EVAL and EVALSHA always go to the primary. Node connections
// say READONLY on every connect (readonly_step.hpp). A replica that answers MOVED, or whose
// connection fails, is skipped until the next topology: its reads go to the primary. Replica
// reads are EVENTUALLY CONSISTENT: a read may miss the client's own write of a moment before.
//
// Multi-key commands: all keys must hash to one slot (use a hash tag: "{user1}:a",
// "{user1}:b"), or the command is refused unsent with errc::cluster_cross_slot. MGET, MSET, DEL,
// EXISTS, UNLINK and TOUCH are instead split into one command per slot, sent in parallel and
// merged (MGET's values in the caller's key order; DEL, EXISTS, UNLINK, TOUCH summed; MSET
// applied when every part was). A split command is NOT atomic: other clients may see some parts
// applied and not others, and a failed part leaves the parts that succeeded applied (the
// caller gets the first error). A split costs an allocation for its merge state.
//
// Order: commands to one slot are sent in the order they are issued. A command redirected by
// MOVED or ASK is sent on at once, so the commands of a moved slot reach the new owner in the
// order their MOVED replies came back. A command that has to wait (TRYAGAIN, CLUSTERDOWN, its
// node gone) holds its slot: the slot's commands issued meanwhile queue behind it, the first
// goes out alone when the backoff ends, and the rest follow in order once it has its answer
// (held_slots.hpp). A probe that gives up fails the commands held behind it alike.
//
// Each shard has its own cluster_client, slot map and connections: nothing is shared between
// shards. Events go to the shard's dispatcher: topology_changed, node_added, node_removed
// (event/events.hpp), besides each node connection's own.
//
// Costs: routing is the keys' CRC16 plus two array reads; steady state allocates nothing per
// command. A redirect parses its error text (allocates), a waiting command keeps a copy of its
// bytes.
//
// Ownership: the client belongs to its reactor's thread and must not move; destroy it before
// the reactor. Destroying it completes every command still pending with
// errc::connection_closed.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "uredis/client/batch.hpp"
#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/reply_callback.hpp"
#include "uredis/cluster/cluster_config.hpp"
#include "uredis/cluster/held_slots.hpp"
#include "uredis/cluster/read_router.hpp"
#include "uredis/cluster/readonly_step.hpp"
#include "uredis/cluster/redirect_state.hpp"
#include "uredis/cluster/refresh_on_redirect.hpp"
#include "uredis/cluster/resend.hpp"
#include "uredis/cluster/routed_handler.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/cluster/split_command.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/cmd/keys_of.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/random.hpp"

namespace uredis::cluster {

class cluster_client {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using connect_callback = util::inline_function<void(const result<void>&), 32>;

  cluster_client(reactor::reactor& r, cluster_config config);
  ~cluster_client();
  cluster_client(const cluster_client&) = delete;
  cluster_client& operator=(const cluster_client&) = delete;

  /// Reads the first topology from the seeds, in turn; `done` runs once: success when a slot
  /// map was read, or the last error once every seed failed. Commands issued before wait for
  /// it (within their retries).
  void connect(connect_callback done = {});

  /// Sends `command` to the node serving its slot and calls `callback(result<Response>)` once
  /// with its final reply. The callback may capture 40 bytes.
  template <cmd::descriptor Command, class Callback>
  void exec(const Command& command, Callback&& callback, const exec_options& options = {}) {
    using response = typename Command::response;
    static_assert(not_exec_options<Callback>, "uredis: cluster_client::exec takes a callback");
    static_assert(reply_callback<Callback, response>,
                  "uredis: the callback must be callable as callback(uredis::result<R>), R being "
                  "the command's response type");
    const cmd::slot_check check = cmd::check_slots(command);
    if (check.result == cmd::slot_check::outcome::cross_slot) [[unlikely]] {
      if constexpr (detail::splittable<Command>) {
        detail::split_command<Command, std::decay_t<Callback>>::start(
            *this, command, std::decay_t<Callback>(std::forward<Callback>(callback)), options);
      } else {
        callback(result<response>(errc::cluster_cross_slot));
      }
      return;
    }
    route(command, check, std::forward<Callback>(callback), options);
  }

  /// exec() for a command whose keys are in one slot (or none), as `check` found: what a split
  /// command's parts go through.
  template <cmd::descriptor Command, class Callback>
  void route(const Command& command, const cmd::slot_check& check, Callback&& callback,
             const exec_options& options) {
    using response = typename Command::response;
    if (check.result == cmd::slot_check::outcome::cross_slot) [[unlikely]] {
      callback(result<response>(errc::cluster_cross_slot));
      return;
    }
    const bool keyed = check.result == cmd::slot_check::outcome::one_slot;
    routed<response, std::decay_t<Callback>> h(std::forward<Callback>(callback), *this, check.slot,
                                               keyed, options.idempotent);
    if (keyed && holds_.holds(check.slot)) [[unlikely]]  // behind the commands waiting
      return hold_back(command, std::move(h), timeout_of(command, options));
    const read_policy policy = options.reads.value_or(config_.reads);
    if (keyed && policy != read_policy::primary)
      return route_read(command, check.slot, std::move(h), options, policy);
    const std::uint16_t node = node_for(check.slot, keyed);
    if (node == slot_map::no_node) [[unlikely]]
      return hold_back(command, std::move(h), timeout_of(command, options));
    open(node).enqueue(command, std::move(h), options);
  }

  /// Sends every entry of `b` (client/batch.hpp) to the node serving its keys' slot, as exec()
  /// sends one command: the entries for one node go out together (one send per node, the nodes
  /// in parallel), redirects are followed per entry, and each result lands in its entry, in
  /// push order. An entry whose keys span slots gets errc::cluster_cross_slot, unsent (MGET and
  /// its kin are split only through exec()). True when every entry completed already (nothing
  /// to send); otherwise `done` runs once, when the last one completes. `b` must not be
  /// touched until then.
  template <class Response>
  bool exec(batch<Response>& b, typename batch<Response>::completion done,
            const exec_options& options = {}) {
    return b.send_routed(*this, options, done);
  }

  /// Sends `tx` (transaction.hpp, which the caller includes) to the primary serving its keys'
  /// one slot, where it runs as on a single server. Keys in several slots:
  /// errc::cluster_cross_slot, unsent. A MOVED or ASK met by its commands is not followed (a
  /// transaction is one batch whose parts may have run): it is in the results, and after a
  /// MOVED the map is read again before the callback runs (refresh_on_redirect.hpp; the
  /// callback has 8 bytes less room than a connection's, proto::pending::capacity).
  template <class... Commands, class Callback>
  void exec(const transaction<Commands...>& tx, Callback&& callback,
            const exec_options& options = {}) {
    using results = typename transaction<Commands...>::results;
    const result<std::uint16_t> node = batch_node(slots_of_keys(tx));
    if (!node) {
      callback(result<results>(node.error()));
      return;
    }
    open(*node).exec(tx, refreshing(std::forward<Callback>(callback)), options);
  }

  /// Runs `code` (script.hpp, which the caller includes) on the primary serving its keys' one
  /// slot (any primary without keys), EVALSHA first, loading it on NOSCRIPT. Keys in several
  /// slots: errc::cluster_cross_slot, unsent. A MOVED is returned, not followed (the map is
  /// read again before the callback runs, as for a transaction): a script call is resent by the
  /// caller, who knows whether it may run twice.
  template <class Response = resp::reply, class Callback>
  void run(const script& code, cmd::arg_list keys, cmd::arg_list args, Callback&& callback,
           const exec_options& options = {}) {
    cmd::slot_check check;
    keys.for_each([&check](const cmd::arg& key) { check.add(detail::slot_of_arg(key)); });
    const result<std::uint16_t> node = batch_node(check);
    if (!node) {
      callback(result<Response>(node.error()));
      return;
    }
    open(*node).run<Response>(code, keys, args, refreshing(std::forward<Callback>(callback)),
                              options);
  }

  /// Sends `command` to the node at `address` (a keyless command for one node: INFO, DBSIZE,
  /// CLUSTER ...), without following redirects. errc::not_connected when the topology does not
  /// name that node.
  template <cmd::descriptor Command, class Callback>
  void exec_on(const node_address& address, const Command& command, Callback&& callback,
               const exec_options& options = {}) {
    const std::uint16_t node = map_.find(address);
    if (node == slot_map::no_node) {
      callback(result<typename Command::response>(errc::not_connected));
      return;
    }
    open(node).exec(command, std::forward<Callback>(callback), options);
  }

  /// Asks for the topology to be read again (coalesced with any other request).
  void refresh();

  /// The slot map as this shard last read it (and repointed by MOVED since).
  const slot_map& slots() const noexcept { return map_; }
  /// Node connections open now.
  std::size_t open_connections() const noexcept;
  /// The open connection to `address`, or null.
  connection* connection_to(const node_address& address) noexcept;
  /// Topologies read and applied so far.
  std::uint64_t topology_reads() const noexcept { return topology_reads_; }
  /// Commands waiting out a backoff (TRYAGAIN, CLUSTERDOWN, a node gone, no topology yet), or
  /// held behind those of their slot (held_slots.hpp); a probe on the wire is not counted.
  std::size_t waiting() const noexcept { return holds_.size(); }
  reactor::reactor& loop() const noexcept { return *reactor_; }

  // ---- For routed_handler and split_command (not for callers) ----

  bool closing() const noexcept { return closing_; }
  std::string_view replying_host() const noexcept;

  /// The probe of `slot`'s hold (routed_handler::probe) has its final answer: the commands
  /// held behind it go now (or fail alike, `gave_up`).
  void held_answered(std::uint16_t slot, bool gave_up);

  /// Acts on a verdict for the command `h` holds: sends its bytes on with what is left of its
  /// `deadline` (reply_outcome::deadline), holds it back in its slot's queue (held_slots.hpp),
  /// or completes it with errc::timeout when the deadline has passed. False when there is
  /// nothing to do (deliver, give_up): `h` is left as it was.
  template <class Handler>
  bool follow(const redirect_verdict& v, Handler& h, time_point deadline) {
    using action = redirect_verdict::action;
    if (v.what == action::deliver || v.what == action::give_up) return false;
    if (deadline <= reactor_->timers().now()) [[unlikely]] {
      h.time_out();
      return true;
    }
    // A read a replica redirected (it left the shard, or lost READONLY) or lost (its connection
    // failed) goes to the primary, and the replica gets no reads until the next topology.
    const std::uint16_t replica = h.replica();
    h.set_replica(slot_map::no_node);
    if (replica != slot_map::no_node &&
        (v.what == action::follow_moved || v.what == action::retry_later))
      reads_.skip(replica);
    switch (v.what) {
      case action::follow_moved: {
        const std::uint16_t node = map_.repoint(v.where.slot, v.where.target);
        refresh();
        send(node, v.command, false, h, deadline);
        return true;
      }
      case action::follow_ask: {
        // The target may be a node the map does not list (a new primary importing its first
        // slot): it is added, serving nothing, and the command goes there all the same.
        const std::uint16_t node = map_.add_ask_target(v.where.target);
        if (node != slot_map::no_node) {
          send(node, v.command, true, h, deadline);
          return true;
        }
        // No room for another node (a map of 65535): route by slot after a backoff.
        h.state().forget_ask();
        refresh();
        [[fallthrough]];
      }
      case action::retry_later: {
        const bool was_probe = h.probe();
        const auto delay = retry_delay(h.state().redirects());
        held_command c = holding(std::move(h), deadline);
        c.bytes.append(v.command);
        recheck();
        hold(std::move(c), delay, true, was_probe);
        return true;
      }
      case action::deliver:
      case action::give_up:
        return false;
    }
    return false;
  }

 private:
  template <class Response, class Callback>
  using routed = detail::routed_handler<cluster_client, Response, Callback>;

  template <class Callback>
  detail::refresh_on_redirect<cluster_client, std::decay_t<Callback>> refreshing(
      Callback&& callback) {
    return {this, std::forward<Callback>(callback)};
  }

  // A command held back while its slot is out of service (held_slots.hpp): its bytes as they
  // went out (or would have), and its handler, with what marks it as its slot's probe or not
  // when it goes out again (the handler's type is known only here, where it was held).
  struct held_command {
    util::byte_buffer bytes;
    proto::pending handler;
    void (*mark_probe)(proto::pending& handler, bool probe) = nullptr;
    time_point deadline = time_point::max();  // exec_options::timeout's, from when it was issued
    std::uint16_t slot = 0;                   // held_slots::keyless for a keyless command
    std::uint8_t waits = 0;                   // times it found no node serving its slot
    bool idempotent = false;
  };
  using holds = held_slots<held_command>;

  template <class Handler>
  static std::uint16_t hold_slot(const Handler& h) noexcept {
    return h.keyed() ? h.slot() : holds::keyless;
  }
  // The timeout a node connection would give `command` (0: none).
  template <class Command>
  std::chrono::milliseconds timeout_of(const Command& command, const exec_options& options) {
    return proto::command_timeout_for(command, options, config_.node);
  }
  // A command that cannot go out now (its slot is held, or no node serves it): encoded into
  // bytes, last in its slot's queue, and sent when the hold's backoff ends. Its `timeout`
  // runs from now, as on a node connection.
  template <class Command, class Handler>
  void hold_back(const Command& command, Handler&& h, std::chrono::milliseconds timeout) {
    const time_point deadline =
        timeout.count() > 0 ? reactor_->timers().now() + timeout : time_point::max();
    held_command c = holding(std::forward<Handler>(h), deadline);
    resp::encoder e{c.bytes};
    command.encode(e);
    hold(std::move(c), std::chrono::nanoseconds::zero(), false, false);
  }
  // `h` as a held command whose bytes the caller writes.
  template <class Handler>
  static held_command holding(Handler&& h, time_point deadline) {
    using handler_type = std::remove_cvref_t<Handler>;
    held_command c;
    c.mark_probe = [](proto::pending& p, bool probe) {
      p.target<handler_type>()->set_probe(probe);
    };
    c.deadline = deadline;
    c.slot = hold_slot(h);
    c.idempotent = h.idempotent();
    c.handler = proto::pending(std::forward<Handler>(h));
    return c;
  }

  // Where the keys of a batch (a transaction) hash, as cmd::check_slots says for a command.
  template <class Batch>
  static cmd::slot_check slots_of_keys(const Batch& batch) {
    cmd::slot_check check;
    batch.for_each_key([&check](std::string_view key) { check.add(util::key_slot(key)); });
    return check;
  }

  // The node a transaction or a script goes to, whose keys `check` found, or why none:
  // errc::cluster_cross_slot, or errc::cluster_slot_unserved. Either reads the map again.
  result<std::uint16_t> batch_node(const cmd::slot_check& check) {
    const std::uint16_t node =
        check.result == cmd::slot_check::outcome::cross_slot
            ? slot_map::no_node
            : node_for(check.slot, check.result == cmd::slot_check::outcome::one_slot);
    if (node != slot_map::no_node) return node;
    refresh();
    return check.result == cmd::slot_check::outcome::cross_slot ? errc::cluster_cross_slot
                                                                : errc::cluster_slot_unserved;
  }

  // The node a command goes to: its slot's primary, or (keyless) the primaries in turn.
  std::uint16_t node_for(std::uint16_t slot, bool keyed) noexcept {
    if (keyed) return map_.primary_of(slot);
    const auto shards = map_.shards();
    if (shards.empty()) return slot_map::no_node;
    return shards[next_primary_++ % shards.size()].primary;
  }
  // The node's connection, created and connecting on first use (or after it gave up).
  connection& open(std::uint16_t node);
  // A READONLY step no connection holds, for a new node connection (readonly_step.hpp).
  proto::handshake_step& free_readonly_step();

  // route() for a keyed command under a replica read policy: its name is known once it is
  // encoded, so it is encoded once, here, and those bytes go to the node chosen (a replica
  // when it only reads, its primary otherwise).
  template <class Command, class Handler>
  void route_read(const Command& command, std::uint16_t slot, Handler&& h,
                  const exec_options& options, read_policy policy) {
    if (encoding_) [[unlikely]] {  // from a completion run inside another route_read
      util::byte_buffer spare;
      return route_encoded(spare, command, slot, std::forward<Handler>(h), options, policy);
    }
    encoding_ = true;
    struct in_use {
      bool& flag;
      ~in_use() { flag = false; }
    } guard{encoding_};
    route_encoded(read_bytes_, command, slot, std::forward<Handler>(h), options, policy);
  }
  template <class Command, class Handler>
  void route_encoded(util::byte_buffer& bytes, const Command& command, std::uint16_t slot,
                     Handler&& h, const exec_options& options, read_policy policy) {
    bytes.clear();
    resp::encoder e{bytes};
    command.encode(e);
    const std::uint16_t node = reads_.is_read_only_request(bytes.data())
                                   ? reads_.node_for(map_, slot, policy)
                                   : map_.primary_of(slot);
    if (node == slot_map::no_node) [[unlikely]]
      return hold_back(detail::kept_command{bytes.data()}, std::forward<Handler>(h),
                       timeout_of(command, options));
    if (node != map_.primary_of(slot)) h.set_replica(node);
    open(node).enqueue(detail::kept_command{bytes.data()}, std::move(h), options);
  }

  template <class Handler>
  void send(std::uint16_t node, std::string_view bytes, bool asking, Handler& h,
            time_point deadline) {
    const exec_options options{time_left(deadline), h.idempotent()};
    connection& c = open(node);
    if (asking) {
      c.enqueue(detail::asking_command{bytes}, std::move(h), options);
    } else {
      c.enqueue(detail::kept_command{bytes}, std::move(h), options);
    }
  }

  std::chrono::nanoseconds retry_delay(std::uint32_t redirects) noexcept;
  // A command sent again keeps its deadline: the time left (at least 1 ms), or 0 (none) for max.
  std::chrono::milliseconds time_left(time_point deadline) const noexcept;
  // Into its slot's hold, due after `delay` if it begins one: `returned` when a node handed it
  // back (was_probe: as its slot's probe), else last in the queue.
  void hold(held_command c, std::chrono::nanoseconds delay, bool returned, bool was_probe);
  // Sends the holds' due commands (all: every hold not waiting for its probe).
  void send_held(bool all);
  // Routes one held command again (`probe`: its slot's first), or holds it again when no node
  // serves its slot.
  void resend(held_command&& c, bool probe);
  void arm_retry();

  void on_refresh_timer();
  // refresh() for what may be the news a poll already waits on (refresh_schedule::remind).
  void recheck();
  void arm_refresh();
  void send_refresh();
  void on_slots(result<resp::reply> reply);
  void apply(slot_map next);
  void on_node_trouble(std::uint64_t connection_id, bool reconnecting);
  void sweep_retiring(bool judged);

  reactor::reactor* reactor_;
  cluster_config config_;
  slot_map map_;
  std::vector<std::unique_ptr<connection>> conns_;     // by map_'s node index
  std::vector<std::unique_ptr<connection>> retiring_;  // left the map with commands in flight
  std::unique_ptr<connection> seed_;                   // a seed outside the map, for a refresh
  read_router reads_;
  util::byte_buffer read_bytes_;  // route_read()'s encoding
  bool encoding_ = false;         // route_read() is using read_bytes_
  std::vector<std::unique_ptr<readonly_step>> readonly_steps_;
  util::rng rng_;
  refresh_schedule schedule_;
  reactor::timer refresh_timer_;
  reactor::timer retry_timer_;
  holds holds_;
  std::string refresh_host_;        // the host asked for the topology in flight
  std::size_t refresh_cursor_ = 0;  // the next node (or seed) to ask
  std::size_t seed_failures_ = 0;   // seeds that failed since the last success
  std::size_t next_primary_ = 0;
  std::uint64_t topology_reads_ = 0;
  connect_callback on_connect_;
  event::listener<event::disconnected> on_disconnected_;
  event::listener<event::reconnect_scheduled> on_reconnect_scheduled_;
  bool closing_ = false;
};

}  // namespace uredis::cluster
