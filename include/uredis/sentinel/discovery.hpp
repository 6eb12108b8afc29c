#pragma once
// discovery: one round of asking a list of Sentinels where a service's primary is, as the
// Sentinel client guidelines (redis.io, "Sentinel clients") describe it, with no I/O: the
// locator (primary_locator.hpp) asks the Sentinel current() names and reports what happened.
//
//   start() ─► ask current() ─► on_primary(e): it goes to the front of the list; done, e
//                  │            on_unknown():  it does not monitor the service ─┐
//                  │            on_failed(ec): unreachable, timed out, garbage ──┤
//                  └──────────────── the next one, in list order ◄──────────────┘
//   no one left: done, with the round's error:
//     sentinel_service_unknown  some Sentinel answered and none knew the service (a typo, or a
//                               Sentinel set that does not monitor it: not retried)
//     sentinel_reply_invalid    every one that answered sent something malformed
//     a refusal's own code      none answered, and one could not be reached for a reason the
//                               retry policy does not retry (retry::is_transient): a TLS
//                               certificate refused, a CA file that does not load. Asking
//                               again gets the same; the code says what to fix.
//     sentinel_unreachable      none answered (retried by the connection's policy)
//
// Moving the Sentinel that answered to the front means the next round asks it first: a dead
// Sentinel early in the list costs one timeout once, not on every reconnect.
//
// parse_primary_address() reads SENTINEL get-master-addr-by-name's answer, [host, port]; a
// null answer (the service is unknown) is the caller's to tell apart, before.

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "uredis/client/address_provider.hpp"
#include "uredis/result.hpp"

namespace uredis::sentinel {

class discovery {
 public:
  /// With no Sentinel there is nobody to ask: the caller must not start() a round.
  explicit discovery(std::vector<endpoint> sentinels);

  /// The Sentinels as given (indices stay valid for the object's life).
  const std::vector<endpoint>& sentinels() const noexcept { return sentinels_; }
  /// Their current order: indices into sentinels(), the one to ask first at the front.
  const std::vector<std::size_t>& order() const noexcept { return order_; }

  /// Begins a round at the front of the order. Precondition: !running().
  void start() noexcept;
  bool running() const noexcept { return running_; }
  /// The Sentinel to ask now (an index into sentinels()). Precondition: running().
  std::size_t current() const noexcept { return order_[position_]; }

  /// The current Sentinel named the primary: the round ends with it.
  void on_primary(endpoint primary);
  /// The current Sentinel does not know the service.
  void on_unknown() noexcept;
  /// The current Sentinel could not be asked, or its answer was unreadable.
  void on_failed(std::error_code why) noexcept;

  /// After a round: the primary it found, or null.
  const endpoint* primary() const noexcept { return found_ ? &primary_ : nullptr; }
  /// After a round that found nothing: why (see the header comment).
  std::error_code error() const noexcept;

 private:
  void next() noexcept;

  std::vector<endpoint> sentinels_;
  std::vector<std::size_t> order_;
  std::size_t position_ = 0;
  bool running_ = false;
  bool found_ = false;
  endpoint primary_;
  std::uint32_t unknown_ = 0;  // answers "no such service" in this round
  std::uint32_t invalid_ = 0;  // malformed answers in this round
  std::error_code refused_;    // the last failure not worth retrying, in this round
};

/// SENTINEL get-master-addr-by-name's non-null answer, [host, port], as an endpoint; anything
/// else (not two elements, an empty host, a port outside 1..65535) is
/// errc::sentinel_reply_invalid.
result<endpoint> parse_primary_address(const std::vector<std::string>& answer);

/// A port in 1..65535 written in decimal digits, or 0.
std::uint16_t parse_port(std::string_view text) noexcept;

}  // namespace uredis::sentinel
