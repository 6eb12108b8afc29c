#pragma once
// client: the coroutine API of a Redis Cluster, over cluster_client's callback API (routing by
// slot, redirects, split multi-key commands: cluster_client.hpp). Every typed helper of
// command_helpers.hpp and exec(descriptor) return an awaitable of result<response>, as on a
// single server (uredis::client):
//
//   uredis::task<> run(uredis::cluster::client& c) {
//     if (auto r = co_await c.connect(); !r) co_return;         // the first topology
//     auto ok = co_await c.set("{user1}:name", "ada");          // to the slot's primary
//     auto v = co_await c.get("{user1}:name");                  // result<optional<string>>
//     const cmd::arg keys[] = {"a", "b", "c"};
//     auto vs = co_await c.mget(keys);                          // split per slot, merged
//     uredis::batch<std::int64_t> b;                            // split per node, in order
//     for (int i = 0; i < 1000; ++i) b.push(cmd::incr{"n" + std::to_string(i)});
//     for (result<std::int64_t>& r : co_await c.exec(b)) { ... }
//   }
//
// What each face does on a cluster:
//   exec(d), helpers      routed by the keys' slot; keys in several slots get
//                         errc::cluster_cross_slot, except MGET, MSET, DEL, EXISTS, UNLINK and
//                         TOUCH (split per slot, not atomic)
//   exec(batch)           each entry to its slot's node, one send per node, results in push
//                         order (batch_awaiter.hpp); cross-slot entries are refused, not split
//   exec(transaction)     MULTI ... EXEC on the one slot's primary (cross-slot: refused)
//   run(script, keys, a)  EVALSHA on the keys' slot's primary (any primary without keys)
//   exec_on(node, d)      to the named node, no redirect followed (INFO, DBSIZE, CLUSTER ...)
// Keyless helpers (ping, scan, publish, script_load, command without keys) go to the primaries
// in turn: a SCAN walks one node's keys only (use exec_on to pick it).
//
// Awaiting allocates nothing per command in steady state (routed_awaiter.hpp). Await in the
// expression that built the arguments: they are viewed until the command is encoded.
//
// Ownership: a client either owns its cluster_client (built from a reactor and a
// cluster_config) or uses one someone else owns (which must outlive it). Either way it belongs
// to the reactor's thread and does not move.

#include <optional>
#include <utility>

#include "uredis/client/batch.hpp"
#include "uredis/client/command_helpers.hpp"
#include "uredis/client/reply_callback.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cluster/batch_awaiter.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cluster/cluster_config.hpp"
#include "uredis/cluster/connect_awaiter.hpp"
#include "uredis/cluster/routed_awaiter.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cluster {

class client : public command_helpers<client> {
 public:
  /// A client with its own cluster_client on `r`'s shard (no topology read yet: connect()).
  client(reactor::reactor& r, cluster_config config)
      : owned_(std::in_place, r, std::move(config)), cluster_(&*owned_) {}
  /// A client over `c`, which must outlive it.
  explicit client(cluster_client& c) noexcept : cluster_(&c) {}

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Reads the first topology from the seeds (cluster_client::connect as an awaitable).
  connect_awaiter connect() noexcept { return connect_awaiter(*cluster_); }

  /// `co_await exec(command)` -> result<cmd::response_t<D>>, from the node serving its slot.
  template <cmd::descriptor D>
  routed_awaiter<detail::command_request<D>> exec(const D& command,
                                                  const exec_options& options = {}) noexcept {
    return {*cluster_, {command}, options};
  }

  /// `co_await exec(b)` -> std::span<result<R>>: every entry to its slot's node, the results in
  /// push order (batch_awaiter.hpp). `b` must outlive the co_await.
  template <class Response>
  batch_awaiter<Response> exec(batch<Response>& b, const exec_options& options = {}) noexcept {
    return batch_awaiter<Response>(*cluster_, b, options);
  }

  /// `co_await exec(transaction{...})` -> result<transaction<...>::results>, on the primary of
  /// its keys' one slot (cluster_client::exec(transaction)).
  template <class... Commands>
  routed_awaiter<detail::transaction_request<Commands...>> exec(
      const transaction<Commands...>& tx, const exec_options& options = {}) noexcept {
    return {*cluster_, {&tx}, options};
  }

  /// `co_await run<R>(code, keys, args)` -> result<R>: the script on the primary of its keys'
  /// one slot, EVALSHA first, loading it on NOSCRIPT (cluster_client::run).
  template <class Response = resp::reply>
  routed_awaiter<detail::script_request<Response>> run(const script& code,
                                                       const cmd::arg_list& keys = {},
                                                       const cmd::arg_list& args = {},
                                                       const exec_options& options = {}) noexcept {
    return {*cluster_, {&code, keys, args}, options};
  }

  /// `co_await exec_on(node, command)` -> result<cmd::response_t<D>> from that node, no
  /// redirect followed; errc::not_connected when the topology does not name it.
  template <cmd::descriptor D>
  routed_awaiter<detail::node_request<D>> exec_on(const node_address& node, const D& command,
                                                  const exec_options& options = {}) noexcept {
    return {*cluster_, {&node, command}, options};
  }

  /// The callback API passes straight through (cluster_client::exec).
  template <cmd::descriptor D, not_exec_options Callback>
  void exec(const D& command, Callback&& callback, const exec_options& options = {}) {
    cluster_->exec(command, std::forward<Callback>(callback), options);
  }

  /// Asks for the topology to be read again.
  void refresh() { cluster_->refresh(); }

  /// The callback client underneath: its slot map, connections and counters.
  cluster_client& cluster() noexcept { return *cluster_; }
  const cluster_client& cluster() const noexcept { return *cluster_; }

 private:
  std::optional<cluster_client> owned_;  // empty when the cluster_client is someone else's
  cluster_client* cluster_;
};

}  // namespace uredis::cluster
