#pragma once
// primary_locator: the address provider (client/address_provider.hpp) that finds the primary
// of a Sentinel-monitored service and follows it through failovers; with config.role ==
// role::replica, one of the primary's replicas instead. A connection whose config has a
// `sentinel` section makes one for itself; several connections of one shard may share one by
// setting config.address to it.
//
//   connection ──locate──► locator ──SENTINEL get-master-addr-by-name <service>──► Sentinel i
//       ▲                    │      (discovery.hpp: in list order; the one that answers moves
//       │                    │       to the front; null = unknown service, next; down, next)
//       │  answer(host:port) ◄┘
//       └─ connect, handshake with ROLE == master (proto/role_check.hpp), else
//          errc::role_mismatch: the retry policy reconnects, which locates again
//
//   Sentinel (the front one) ──+switch-master <service> old new──► locator ──► every watching
//       connection not already at `new` drops its socket (errc::primary_switched) and
//       reconnects: commands never written are resent, written reads (and commands marked
//       idempotent) too, written writes complete with errc::outcome_unknown (proto/session.hpp)
//
// The switch-master subscription lives on a connection of its own to one Sentinel (the front
// one at first, the next one in the list after each lost socket, forever with backoff). Each
// time it is (re)made, the locator asks the Sentinels again: a switch announced while it was
// down is then caught by comparing the answer with the primary it knows. Three signals move a
// connection, whichever comes first: the announcement, a lost socket (Sentinel kills the
// clients of a demoted primary; the reconnect locates again), and a -READONLY reply (the
// connection recycles itself: client/connection.hpp).
//
// Replicas: once a Sentinel has named the primary, the same Sentinel is asked `SENTINEL
// replicas <service>` (sentinel/replicas.hpp reads it); an error or a malformed list skips to
// the next Sentinel, as for the primary's address. Each request is answered with the next
// usable replica in turn (replica_rotation), or with the primary, marked as such
// (address_request::answer's `as`), when none is usable. The handshake checks ROLE says slave
// (master for the fallback): a promoted replica fails it and the reconnect asks again. On
// +switch-master, listeners are told the new primary: only a connection at that address (its
// replica was promoted) moves. A -READONLY reply is a value here: replicas refuse writes.
//
// Events (the reactor's dispatcher): event::sentinel_primary_discovered after each round that
// found the primary, event::sentinel_primary_switched when the primary it knows changes.
//
// Sentinel connections: plain connections (RESP3, falling back to RESP2; TLS when config.tls
// is set), one per Sentinel asked, opened when first needed and kept; none retries on its own
// (a Sentinel that fails is skipped for the next one in the round), each bounded by
// config.timeout for the connect and for the answer.
//
// Ownership: created and used on one reactor's thread; owned through a shared_ptr (a
// connection's config holds it); it must be destroyed before the reactor. Calls out to the
// connections it answers may destroy them (and so this): it keeps itself alive meanwhile.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uredis/client/address_provider.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"
#include "uredis/sentinel/discovery.hpp"
#include "uredis/sentinel/replicas.hpp"
#include "uredis/sentinel/sentinel_config.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::sentinel {

class primary_locator final : public address_provider,
                              public std::enable_shared_from_this<primary_locator> {
 public:
  /// Precondition: config.enabled(). With no Sentinel listed (a config built by hand), every
  /// locate() fails at once with std::errc::invalid_argument.
  primary_locator(reactor::reactor& r, sentinel_config config);
  ~primary_locator() override;
  primary_locator(const primary_locator&) = delete;
  primary_locator& operator=(const primary_locator&) = delete;

  void locate(address_request& request) override;
  void watch(address_listener& listener) override { listeners_.push_back(listener); }
  server_role role() const noexcept override {
    return config_.role == role::replica ? server_role::replica : server_role::primary;
  }

  /// The primary last found or announced; null before the first.
  const endpoint* primary() const noexcept { return known_ ? &primary_ : nullptr; }
  /// For a replica locator, the replicas the last round listed (in address order).
  const std::vector<replica>& replicas() const noexcept { return replicas_; }
  const sentinel_config& config() const noexcept { return config_; }
  /// The Sentinels, and the order the next round asks them in.
  const discovery& sentinels() const noexcept { return discovery_; }
  /// Whether the +switch-master subscription is confirmed on a live Sentinel connection.
  bool following() const noexcept { return following_; }

 private:
  // Answers the subscription's connection with one Sentinel after another.
  class rotation final : public address_provider {
   public:
    explicit rotation(const discovery& d) noexcept : discovery_(&d) {}
    void locate(address_request& request) override;

   private:
    const discovery* discovery_;
    std::size_t next_ = 0;
  };

  using answer = result<std::optional<std::vector<std::string>>>;

  void start_round();
  void ask();
  void on_answer(std::size_t at, std::uint64_t round, const answer& a);
  void ask_replicas(std::size_t at, endpoint primary);
  void on_replicas(std::size_t at, std::uint64_t round, const result<resp::reply>& a);
  void finish_round();
  void follow();
  void on_switch(std::string_view payload);
  void announce(const endpoint& now);
  connection& link_to(std::size_t at);

  reactor::reactor& reactor_;
  sentinel_config config_;
  discovery discovery_;
  std::vector<std::unique_ptr<connection>> links_;  // by index into discovery_.sentinels()
  util::intrusive_list<address_request, &address_request::hook> waiting_;
  util::intrusive_list<address_listener, &address_listener::hook> listeners_;
  endpoint primary_;
  bool known_ = false;
  std::vector<replica> replicas_;  // a replica locator's last list
  endpoint named_;                 // the primary the Sentinel asked for replicas named
  replica_rotation replica_turns_;
  std::uint64_t round_ = 0;      // bumped by each round: late answers of an old one are dropped
  std::uint64_t announced_ = 0;  // switches announced so far
  std::uint64_t round_saw_ = 0;  // announced_ when the current round started
  bool closing_ = false;         // in the destructor: completions touch nothing
  bool following_ = false;
  std::shared_ptr<rotation> rotation_;
  std::unique_ptr<pubsub::subscriber> switches_;
  std::optional<event::listener<event::subscriptions_restored>> restored_;
};

/// A locator for `config` on `r`, as a connection makes for a config with a sentinel section.
std::shared_ptr<address_provider> make_primary_locator(reactor::reactor& r,
                                                       const sentinel_config& config);

}  // namespace uredis::sentinel
