#pragma once
// Descriptors for optimistic locking: WATCH and UNWATCH. (MULTI and EXEC are not descriptors:
// client/transaction.hpp writes them around the queued commands, as one batch.)
//
//   cmd::watch{"balance"}, cmd::watch{{"a", "b"}}, cmd::watch{keys}   -> applied (+OK)
//   cmd::unwatch{}                                                    -> applied (+OK)
//
// WATCH's keys are its keys (descriptor.hpp). A watch belongs to the connection that sent it,
// and lasts until EXEC, DISCARD, UNWATCH or the connection's end: client/optimistic.hpp says how
// to keep other callers off that connection meanwhile.

#include "uredis/cmd/applied.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// WATCH key... -> applied (true: the keys are watched until EXEC).
struct watch {
  arg_list keys{};

  using response = applied;
  void encode(resp::encoder& e) const { detail::encode_keys(e, "WATCH", keys); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// UNWATCH -> applied: forgets every key the connection watches.
struct unwatch {
  using response = applied;
  void encode(resp::encoder& e) const { e.command("UNWATCH"); }
  static constexpr bool keyless = true;
};

}  // namespace uredis::cmd
