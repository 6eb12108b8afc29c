#pragma once
// node_writer: writes parsed nodes back out as RESP, so a reply read node by node (and gone
// from the read buffer after) can be kept as bytes and parsed again later: the client-side
// cache stores replies this way.
//
//   for each node n of a reply, in order:  write_node(out, n);
//   parsing `out` yields the same nodes (types, values, sizes; depth as in the reply written)
//
// What is not kept: a RESP2 null bulk or null array comes back as RESP3's null ("_"), the
// same node type the parser gives all three. Attribute nodes are written like any other, so a
// caller that wants only the data skips them (the pipeline never passes them on).

#include "uredis/resp/node.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::resp {

/// Appends `n` as RESP: an aggregate's header only (its elements are nodes of their own).
void write_node(util::byte_buffer& out, const node& n);

}  // namespace uredis::resp
