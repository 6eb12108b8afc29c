#pragma once
// blocking_client: the blocking API of a Redis Cluster, for scripts, tools and simple programs.
// Each call hands its command to a cluster_client (routing by slot, redirects, split multi-key
// commands: cluster_client.hpp) and runs a private reactor on the calling thread until the
// reply is in; failures are thrown as the exception tree of exceptions.hpp, as the
// single-server uredis::blocking_client throws them.
//
//   uredis::cluster::blocking_client c{"redis://127.0.0.1:7000"};  // reads the topology, or throws
//   c.set("{user1}:name", "ada");
//   std::optional<std::string> v = c.get("{user1}:name");
//   std::int64_t n = c.del({"a", "b", "c"});                        // split per slot, summed
//   uredis::batch<> b;                                               // split per node, in order
//   for (auto& k : keys) b.push(cmd::get{k});
//   for (uredis::result<resp::reply>& r : c.exec(b)) { ... }
//
// Every typed helper of command_helpers.hpp is here, returning cmd::response_t<D> itself.
//
// Failures:
//   - constructing: no seed answered with a topology: a connection_error naming the seeds
//     (timeout_error for a connect timeout, authentication_error for refused credentials, a
//     cluster_error when a seed is not a cluster node). The first connect to each seed is not
//     retried unless config.node.retry_first_connect says so (as uredis::blocking_client).
//   - a command: the mapped exception of its failure: a cluster_error for keys in several
//     slots (errc::cluster_cross_slot) or too many redirects, response_error and its
//     subclasses for error replies, connection_error when its node's connection failed,
//     data_error when the reply does not fit the response type.
//   - a batch: entries' error replies, refusals and replies that do not fit stay in their own
//     results; exec(batch) throws only for an entry left without a reply by its connection,
//     after every entry has completed.
//   - the io_uring fails: a plain uredis::error; the cluster_client is closed first (every
//     waiting command completes), and every later call throws a connection_error.
//
// Threading and ownership: a blocking_client owns its reactor and its cluster_client; it must be
// used from the thread that created it, never from a reactor's loop. Movable, not copyable.

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "uredis/client/batch.hpp"
#include "uredis/client/command_helpers.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cluster/cluster_config.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster {

class blocking_client : public command_helpers<blocking_client> {
 public:
  /// A reactor sized for a connection per node of a small cluster with a few requests in flight
  /// on each.
  static reactor::reactor_options default_reactor_options() noexcept;

  /// Reads the topology from the node a URL names (client/config.hpp: redis://, rediss://);
  /// the URL's credentials, TLS and options apply to every node. Throws data_error for a URL
  /// that does not parse, and what the constructor below throws.
  explicit blocking_client(std::string_view seed_url,
                           const reactor::reactor_options& options = default_reactor_options());
  /// Reads the topology from `config`'s seeds. Throws as Failures above says.
  explicit blocking_client(cluster_config config,
                           const reactor::reactor_options& options = default_reactor_options());

  blocking_client(blocking_client&&) noexcept;
  blocking_client& operator=(blocking_client&&) noexcept;
  ~blocking_client();

  /// Sends `command` to the node serving its slot and returns its reply; throws the mapped
  /// exception on any failure.
  template <cmd::descriptor D>
  cmd::response_t<D> exec(const D& command, const exec_options& options = {}) {
    return wait_for_result<cmd::response_t<D>>(
        [&](auto callback) { usable().exec(command, std::move(callback), options); });
  }

  /// Sends `tx` to the primary of its keys' one slot and returns one result per command;
  /// throws for the transaction as a whole (cross-slot, EXECABORT, a lost connection).
  template <class... Commands>
  typename transaction<Commands...>::results exec(const transaction<Commands...>& tx,
                                                  const exec_options& options = {}) {
    return wait_for_result<typename transaction<Commands...>::results>(
        [&](auto callback) { usable().exec(tx, std::move(callback), options); });
  }

  /// Runs `code` on the primary of its keys' one slot (EVALSHA, loading it on NOSCRIPT).
  template <class Response = resp::reply>
  Response run(const script& code, const cmd::arg_list& keys = {}, const cmd::arg_list& args = {},
               const exec_options& options = {}) {
    return wait_for_result<Response>([&](auto callback) {
      usable().template run<Response>(code, keys, args, std::move(callback), options);
    });
  }

  /// Sends `command` to the node at `node`, without following redirects.
  template <cmd::descriptor D>
  cmd::response_t<D> exec_on(const node_address& node, const D& command,
                             const exec_options& options = {}) {
    return wait_for_result<cmd::response_t<D>>(
        [&](auto callback) { usable().exec_on(node, command, std::move(callback), options); });
  }

  /// Sends every entry of `b` to its slot's node (one send per node) and returns the results in
  /// push order; throws only for an entry its connection left without a reply, once every
  /// entry has completed (the rest of the results are in `b`).
  template <class Response>
  std::span<result<Response>> exec(batch<Response>& b, const exec_options& options = {}) {
    if (b.empty()) return b.results();
    if (!usable().exec(b, {}, options)) wait_for([&b] { return !b.in_flight(); });
    if (const std::error_code lost = b.failure()) throw_exception(lost);
    return b.results();
  }

  /// Asks for the topology to be read again (the next commands wait for nothing).
  void refresh() { usable().refresh(); }

  /// The cluster_client and its reactor, for what the blocking API does not cover.
  cluster_client& cluster() { return usable(); }
  reactor::reactor& loop() noexcept { return *reactor_; }

 private:
  // Starts the call with a callback that keeps its result, runs the reactor until it is in,
  // and returns the value or throws.
  template <class Response, class Start>
  Response wait_for_result(Start&& start) {
    static_assert(!proto::detail::holds_view<Response>::value,
                  "a view into the read buffer dies with the reply: read it into std::string");
    std::optional<result<Response>> got;
    start([&got](result<Response> r) { got.emplace(std::move(r)); });
    wait_for([&got] { return got.has_value(); });
    return std::move(*got).value();
  }

  // Runs the reactor until `done()`. If the ring fails first, the cluster_client is closed
  // (every waiting callback runs, while what it writes to still exists) and that is thrown.
  template <class Predicate>
  void wait_for(Predicate&& done) {
    reactor_->run_until(done);
    if (!done()) fail_on_ring_error();
  }
  [[noreturn]] void fail_on_ring_error();
  // The cluster_client; throws a connection_error once the ring failed and it was closed.
  cluster_client& usable();

  // Members are destroyed bottom up: the cluster_client goes before its reactor.
  std::unique_ptr<reactor::reactor> reactor_;
  std::unique_ptr<cluster_client> client_;
};

}  // namespace uredis::cluster
