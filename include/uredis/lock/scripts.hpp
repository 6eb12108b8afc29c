#pragma once
// The Lua behind a lock (lock/machine.hpp says when each runs), and the names a lock derives
// from its own: the fencing counter's key and the channel its releases are published on.
//
// The lock itself is the key `name` holding the owner's token, with the ttl as its expiry:
// what redis-py's Lock writes, so a Python service and a C++ service exclude each other on the
// same name. The scripts compare the token before touching the key, as redis-py's do.
//
//   acquire  KEYS: name, fence key   ARGV: token, ttl ms (0: no expiry)
//            -> the fencing token (INCR of the fence key), or 0 when the key holds another
//               token. Finding our own token (a resend after a lost reply, or a lost lock's
//               key taken back) sets the ttl again and answers a new INCR: the key is ours,
//               and every answer is a fence nobody else was given.
//   extend   KEYS: name              ARGV: token, ms, "1" (replace the ttl) | "0" (add to it)
//            -> the key's new PTTL, or 0 when the key is missing, another's, or has no ttl
//   release  KEYS: name              ARGV: token, channel
//            -> 1 (deleted, and the channel told), or 0 when the key is not ours

#include <string>
#include <string_view>

#include "uredis/client/script.hpp"

namespace uredis::lock {

const script& acquire_script();
const script& extend_script();
const script& release_script();

/// The fencing counter of lock `name`: in the same cluster slot as `name`, so both fit in one
/// script. `name:fence` when `name` has a hash tag, else `{name}:fence`; empty when neither
/// lands in name's slot (an empty name, or a name with braces that break both forms).
std::string fence_key(std::string_view name);

/// The channel a release of lock `name` is published on: `uredis:lock:<name>`.
std::string release_channel(std::string_view name);

}  // namespace uredis::lock
