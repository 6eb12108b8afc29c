#pragma once
// The command descriptor contract, between typed helpers and connections: a descriptor is a
// small value that knows how to write one command and what its reply becomes.
//
//   struct get {
//     std::string_view key;
//     using response = std::optional<std::string>;   // filled by resp::adapter<response>
//     void encode(resp::encoder& e) const { e.command("GET", key); }
//   };
//
// Invariants every descriptor in uredis::cmd keeps:
//   - encode() appends exactly one command (one RESP array) and allocates nothing beyond the
//     output buffer's own growth; the command gets exactly one reply.
//   - a descriptor views its arguments (std::string_view, cmd::arg, cmd::arg_list): they must
//     live until exec() has encoded it, i.e. build it in the exec() expression.
//   - `response` is default-constructible and resp::adapter<response> exists; a top-level error
//     reply never reaches the adapter (it becomes a server_error in the result).
// A connection is generic over descriptors: `template <cmd::descriptor D> exec(const D&, ...)`.

#include <concepts>

#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

template <class D>
concept descriptor = std::default_initializable<typename D::response> &&
    requires(const D& d, resp::encoder& e) {
  d.encode(e);
};

/// The type a descriptor's reply is adapted into.
template <descriptor D>
using response_t = typename D::response;

}  // namespace uredis::cmd
