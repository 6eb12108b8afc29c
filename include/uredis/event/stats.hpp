#pragma once
// stats: how many events of each type a shard's dispatcher has emitted, one counter per type.
//
// A plain struct of counters, named after the event types of events.hpp, so a snapshot is a
// copy (`event::stats s = reactor.events().stats();`) that a shard can hand to another thread,
// subtract from a later one, or print. The dispatcher counts every emit, listened to or not.
//
// counter_of<E> names E's counter as a pointer to member, so the dispatcher bumps it in O(1)
// with no table lookup at run time: `++(s.*counter_of<E>)`. It is defined for exactly the types
// of all_events (the dispatcher static_asserts that each of them has one).

#include <cstdint>

#include "uredis/event/events.hpp"

namespace uredis::event {

struct stats {
  std::uint64_t connected = 0;
  std::uint64_t disconnected = 0;
  std::uint64_t reconnect_scheduled = 0;
  std::uint64_t reconnected = 0;
  std::uint64_t handshake_failed = 0;
  std::uint64_t command_retried = 0;
  std::uint64_t retries_exhausted = 0;
  std::uint64_t push_received = 0;
  std::uint64_t protocol_error = 0;
  std::uint64_t command_timed_out = 0;
  std::uint64_t health_check_failed = 0;
  std::uint64_t subscriptions_restored = 0;
  std::uint64_t lock_lost = 0;
  std::uint64_t cache_invalidated = 0;
  std::uint64_t cache_flushed = 0;
  std::uint64_t cache_evicted = 0;
  std::uint64_t reauthenticated = 0;
  std::uint64_t reauth_failed = 0;
  std::uint64_t token_refresh_failed = 0;
  std::uint64_t topology_changed = 0;
  std::uint64_t node_added = 0;
  std::uint64_t node_removed = 0;
  std::uint64_t sentinel_primary_discovered = 0;
  std::uint64_t sentinel_primary_switched = 0;

  friend bool operator==(const stats&, const stats&) = default;
};

/// The counter of event type E in stats; null for a type that is not an event.
template <class E>
inline constexpr std::uint64_t stats::*counter_of = nullptr;

template <>
inline constexpr std::uint64_t stats::*counter_of<connected> = &stats::connected;
template <>
inline constexpr std::uint64_t stats::*counter_of<disconnected> = &stats::disconnected;
template <>
inline constexpr std::uint64_t stats::*counter_of<reconnect_scheduled> =
    &stats::reconnect_scheduled;
template <>
inline constexpr std::uint64_t stats::*counter_of<reconnected> = &stats::reconnected;
template <>
inline constexpr std::uint64_t stats::*counter_of<handshake_failed> = &stats::handshake_failed;
template <>
inline constexpr std::uint64_t stats::*counter_of<command_retried> = &stats::command_retried;
template <>
inline constexpr std::uint64_t stats::*counter_of<retries_exhausted> = &stats::retries_exhausted;
template <>
inline constexpr std::uint64_t stats::*counter_of<push_received> = &stats::push_received;
template <>
inline constexpr std::uint64_t stats::*counter_of<protocol_error> = &stats::protocol_error;
template <>
inline constexpr std::uint64_t stats::*counter_of<command_timed_out> = &stats::command_timed_out;
template <>
inline constexpr std::uint64_t stats::*counter_of<health_check_failed> =
    &stats::health_check_failed;
template <>
inline constexpr std::uint64_t stats::*counter_of<subscriptions_restored> =
    &stats::subscriptions_restored;
template <>
inline constexpr std::uint64_t stats::*counter_of<lock_lost> = &stats::lock_lost;
template <>
inline constexpr std::uint64_t stats::*counter_of<cache_invalidated> = &stats::cache_invalidated;
template <>
inline constexpr std::uint64_t stats::*counter_of<cache_flushed> = &stats::cache_flushed;
template <>
inline constexpr std::uint64_t stats::*counter_of<cache_evicted> = &stats::cache_evicted;
template <>
inline constexpr std::uint64_t stats::*counter_of<reauthenticated> = &stats::reauthenticated;
template <>
inline constexpr std::uint64_t stats::*counter_of<reauth_failed> = &stats::reauth_failed;
template <>
inline constexpr std::uint64_t stats::*counter_of<token_refresh_failed> =
    &stats::token_refresh_failed;
template <>
inline constexpr std::uint64_t stats::*counter_of<topology_changed> = &stats::topology_changed;
template <>
inline constexpr std::uint64_t stats::*counter_of<node_added> = &stats::node_added;
template <>
inline constexpr std::uint64_t stats::*counter_of<node_removed> = &stats::node_removed;
template <>
inline constexpr std::uint64_t stats::*counter_of<sentinel_primary_discovered> =
    &stats::sentinel_primary_discovered;
template <>
inline constexpr std::uint64_t stats::*counter_of<sentinel_primary_switched> =
    &stats::sentinel_primary_switched;

}  // namespace uredis::event
