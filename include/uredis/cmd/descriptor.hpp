#pragma once
// The command descriptor contract, between typed helpers and connections: a descriptor is a
// small value that knows how to write one command, what its reply becomes, and which of its
// arguments are keys.
//
//   struct get {
//     std::string_view key;
//     using response = std::optional<std::string>;   // filled by resp::adapter<response>
//     void encode(resp::encoder& e) const { e.command("GET", key); }
//     constexpr void for_each_key(auto&& f) const { f(key); }
//   };
//   struct ping {
//     ...
//     static constexpr bool keyless = true;          // PING names no key
//   };
//
// Invariants every descriptor in uredis::cmd keeps:
//   - encode() appends exactly one command (one RESP array) and allocates nothing beyond the
//     output buffer's own growth; the command gets exactly one reply.
//   - a descriptor views its arguments (std::string_view, cmd::arg, cmd::arg_list): they must
//     live until exec() has encoded it, i.e. build it in the exec() expression.
//   - `response` is default-constructible and resp::adapter<response> exists; a top-level error
//     reply never reaches the adapter (it becomes a server_error in the result).
//   - it says which of its arguments are keys, in exactly one of two ways (else it is not a
//     descriptor, and exec() does not compile):
//       keyed:    `void for_each_key(auto&& f) const` calls f(std::string_view) once per key,
//                 in the order the keys appear in the command, and does nothing else (no
//                 allocation, no encoding). Each view holds the key's bytes exactly as encode()
//                 sends them, and views the descriptor's argument, except that a key given as a
//                 number (cmd::del{42}) is formatted on the stack: that view is valid during
//                 its call only. A keyed descriptor may list no key at all (an empty
//                 cmd::del{}, an EVAL without keys).
//       keyless:  `static constexpr bool keyless = true;`: the command names no key (PING,
//                 PUBLISH, SCRIPT LOAD, SCAN; cmd::raw, see raw.hpp).
//     Keys are what Redis Cluster hashes to route a command (the key specifications of COMMAND
//     INFO), stated by hand per command and never inferred from a member's name: PUBLISH's
//     channel is not a key; EVAL's keys are its `keys`, its `args` are not; a hash's fields and
//     a set's members are not. keys_of.hpp turns them into a first key and a hash slot.
// A connection is generic over descriptors: `template <cmd::descriptor D> exec(const D&, ...)`.

#include <concepts>
#include <string_view>

#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

namespace detail {

// What a descriptor's for_each_key must accept: any callable taking a std::string_view.
struct key_probe {
  void operator()(std::string_view) const noexcept {}
};

}  // namespace detail

/// A descriptor that lists its keys through for_each_key (see the contract above).
template <class D>
concept keyed = requires(const D& d, detail::key_probe& f) {
  d.for_each_key(f);
};

/// A descriptor that declares it names no key: `static constexpr bool keyless = true;`.
template <class D>
concept keyless = std::same_as<decltype(D::keyless), const bool> && D::keyless;

/// Exactly one of the two: a descriptor states its keys, and states them once.
template <class D>
concept states_its_keys = (keyed<D> && !keyless<D>) || (keyless<D> && !keyed<D>);

template <class D>
concept descriptor = std::default_initializable<typename D::response> &&
    requires(const D& d, resp::encoder& e) {
  d.encode(e);
} && states_its_keys<D>;

/// The type a descriptor's reply is adapted into.
template <descriptor D>
using response_t = typename D::response;

}  // namespace uredis::cmd
