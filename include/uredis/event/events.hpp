#pragma once
// events: what a shard's connections report about their lives, as small copyable values.
//
// Each event names the connection it is about by connection_id (connection::id(), unique in the
// process), so a listener can tell connections apart without holding pointers into another
// shard. Every event is trivially copyable and small enough to be broadcast to other shards
// through their mailboxes (runtime::broadcast), but push_received views a frame that lives only
// while listeners run: it is dispatched on its own shard, never broadcast.
//
// The order of the types in `all_events` fixes each event's index in a dispatcher's tables and
// in stats (event/stats.hpp).

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace uredis::event {

/// A connect() completed its handshake: the first one, or one asked for after a close() or after
/// the retry policy gave up.
struct connected {
  std::uint64_t connection_id = 0;
  /// The TLS handshake resumed an earlier session (tls::options::session_resumption).
  bool tls_resumed = false;
};

/// A ready (or connecting) connection lost its socket; `reason` says why (connection_reset,
/// connection_closed, timeout, a protocol error...). Reconnecting may follow.
struct disconnected {
  std::uint64_t connection_id = 0;
  std::error_code reason;
};

/// Attempt number `attempt` (1 for the first) to reconnect will start after `delay`.
struct reconnect_scheduled {
  std::uint64_t connection_id = 0;
  std::uint32_t attempt = 0;
  std::chrono::nanoseconds delay{0};
  std::error_code cause;
};

/// The retry policy healed a lost socket: the connection is ready again after `attempts`
/// reconnect attempts (1: the first one worked).
struct reconnected {
  std::uint64_t connection_id = 0;
  std::uint32_t attempts = 0;
  /// The TLS handshake resumed the session of an earlier socket: no certificate exchange.
  bool tls_resumed = false;
};

/// The server refused the handshake (a wrong password, a bad db index...) or answered it with
/// something malformed. `error` is errc::handshake_failed for a server's refusal, else the code.
struct handshake_failed {
  std::uint64_t connection_id = 0;
  std::error_code error;
};

/// A command was sent again on a new socket after its first one failed; `attempt` is the
/// number of times it has now been sent, less one.
struct command_retried {
  std::uint64_t connection_id = 0;
  std::uint32_t attempt = 0;
  std::error_code cause;
};

/// The retry policy gave up: the connection is closed and its pending commands failed with
/// `error` after `attempts` attempts.
struct retries_exhausted {
  std::uint64_t connection_id = 0;
  std::uint32_t attempts = 0;
  std::error_code error;
};

/// A RESP3 push frame arrived that no hook took (not an invalidation for the cache, nor a
/// pub/sub message or confirmation for the subscriptions): its kind ("tracking-redir-broken"...)
/// and its first top-level elements (an aggregate element is an empty view), `size` elements
/// after the kind in all. The views are valid during dispatch only.
struct push_received {
  std::uint64_t connection_id = 0;
  std::string_view kind;
  std::span<const std::string_view> elements;
  std::uint64_t size = 0;
};

/// The server sent bytes that are not RESP, or a reply nobody asked for: the connection is
/// recycled.
struct protocol_error {
  std::uint64_t connection_id = 0;
  std::error_code error;
};

/// A command passed its deadline and completed with errc::timeout; its late reply will be
/// discarded.
struct command_timed_out {
  std::uint64_t connection_id = 0;
};

/// A health-check PING got no answer in time: the connection is recycled.
struct health_check_failed {
  std::uint64_t connection_id = 0;
};

/// A connection's handshake subscribed again to what its subscriber had (pubsub/subscriber.hpp):
/// `restored` channels, patterns and shard channels the server confirmed. Every message
/// published from now on is delivered; those published while the connection was down are lost
/// (Redis Pub/Sub delivers at most once).
struct subscriptions_restored {
  std::uint64_t connection_id = 0;
  std::uint32_t restored = 0;
};

/// A held lock (lock/distributed_lock.hpp) is no longer surely this owner's: an extend found
/// the key gone or another's (reason errc::lock_not_owned), or no extend reached the server
/// before the lock's valid_until (reason: the last extend's error, or errc::timeout). Anything
/// the lock protected must stop; `fencing_token` names the acquisition that ended.
struct lock_lost {
  std::uint64_t connection_id = 0;
  std::uint64_t fencing_token = 0;
  std::error_code reason;
};

/// Why a client-side cache dropped every entry.
enum class cache_flush_reason : std::uint8_t {
  server,           // a null invalidation: FLUSHALL, FLUSHDB, or the server reset tracking
  connection_lost,  // a new socket: invalidations may have been missed
  user,             // cache::driver::flush()
  own_command,      // a FLUSHALL, FLUSHDB, SWAPDB or SELECT sent on the cached connection
};

/// A client-side cache (cache/driver.hpp) dropped `entries` entries (0: none held it) because
/// the server invalidated `key`, which is valid during the call only (dispatched on its own
/// shard, never broadcast, like push_received).
struct cache_invalidated {
  std::uint64_t connection_id = 0;
  std::string_view key;
  std::uint64_t entries = 0;
};

/// A client-side cache dropped all its `entries` entries.
struct cache_flushed {
  std::uint64_t connection_id = 0;
  cache_flush_reason reason = cache_flush_reason::server;
  std::uint64_t entries = 0;
};

/// A client-side cache made room for a new entry by evicting `entries` least recently used
/// ones (its memory bound, cache_config::max_bytes).
struct cache_evicted {
  std::uint64_t connection_id = 0;
  std::uint64_t entries = 0;
};

/// A live connection authenticated again with new credentials (a streaming provider's or a
/// token manager's, auth/), its pending commands untouched.
struct reauthenticated {
  std::uint64_t connection_id = 0;
};

/// A live connection's re-authentication failed: the server refused it
/// (errc::credentials_rejected; the connection stays authenticated as before) or the AUTH
/// never got its answer (the connection's error). Never carries the credentials.
struct reauth_failed {
  std::uint64_t connection_id = 0;
  std::error_code error;
};

/// A token manager (auth/token_manager.hpp) failed to get a new token: the source failed or
/// did not answer in time (`error`); attempt `attempt` follows after `retry_in`. Emitted on the
/// manager's shard; `connection_id` is 0, as no connection is concerned.
struct token_refresh_failed {
  std::uint64_t connection_id = 0;
  std::uint32_t attempt = 0;
  std::chrono::nanoseconds retry_in{0};
  std::error_code error;
};

/// A shard's cluster client (cluster/cluster_client.hpp) read a topology that differs from the
/// one it had: a slot changed owner, or a node came or went. `connection_id` is 0 (no single
/// connection is concerned); the figures describe the new map.
struct topology_changed {
  std::uint64_t connection_id = 0;
  std::uint32_t nodes = 0;  // primaries and replicas
  std::uint32_t primaries = 0;
  std::uint32_t covered_slots = 0;  // 16384 for a healthy cluster
};

/// A cluster node appeared in a shard's topology (`host` views the map's copy: valid while
/// listeners run; these two events are dispatched on their own shard, never broadcast).
struct node_added {
  std::uint64_t connection_id = 0;
  std::string_view host;
  std::uint16_t port = 0;
};

/// A cluster node left a shard's topology; its connection, if one was open, is closed (commands
/// it had not sent yet are routed again).
struct node_removed {
  std::uint64_t connection_id = 0;  // the closed connection's, 0 when none was open
  std::string_view host;
  std::uint16_t port = 0;
};

/// A Sentinel named the primary of `service` (sentinel/primary_locator.hpp): the answer to
/// one discovery round, asked by a connect or reconnect or by the locator checking after its
/// +switch-master subscription was (re)made. `connection_id` is 0: a locator may serve several
/// connections. The views are valid during dispatch only (never broadcast).
struct sentinel_primary_discovered {
  std::uint64_t connection_id = 0;
  std::string_view service;
  std::string_view host;
  std::uint16_t port = 0;
};

/// The primary of `service` moved from old_host:old_port to host:port (a +switch-master
/// announcement, or a discovery round that found another primary than the last): the
/// locator's connections move to it. Views valid during dispatch only (never broadcast).
struct sentinel_primary_switched {
  std::uint64_t connection_id = 0;
  std::string_view service;
  std::string_view old_host;
  std::uint16_t old_port = 0;
  std::string_view host;
  std::uint16_t port = 0;
};

/// Every event type, in index order.
template <class... E>
struct type_list {};
using all_events =
    type_list<connected, disconnected, reconnect_scheduled, reconnected, handshake_failed,
              command_retried, retries_exhausted, push_received, protocol_error, command_timed_out,
              health_check_failed, subscriptions_restored, lock_lost, cache_invalidated,
              cache_flushed, cache_evicted, reauthenticated, reauth_failed, token_refresh_failed,
              topology_changed, node_added, node_removed, sentinel_primary_discovered,
              sentinel_primary_switched>;

}  // namespace uredis::event
