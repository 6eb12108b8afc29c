#pragma once
// switch_master: the message a Sentinel publishes on its `+switch-master` channel when a
// failover has made a replica the new primary of a service:
//
//   <service> <old host> <old port> <new host> <new port>
//
// (five words separated by single spaces; the service name cannot hold a space, Sentinel
// refuses one). parse_switch_master() reads it into views of the payload; anything else is
// nullopt (the locator ignores it: a malformed announcement must not move a connection).

#include <cstdint>
#include <optional>
#include <string_view>

namespace uredis::sentinel {

/// The channel Sentinels announce switched primaries on.
inline constexpr std::string_view switch_master_channel = "+switch-master";

struct switch_master {
  std::string_view service;
  std::string_view old_host;
  std::uint16_t old_port = 0;
  std::string_view new_host;
  std::uint16_t new_port = 0;
};

/// The announcement in `payload` (views into it), or nullopt when it is not one.
std::optional<switch_master> parse_switch_master(std::string_view payload) noexcept;

}  // namespace uredis::sentinel
