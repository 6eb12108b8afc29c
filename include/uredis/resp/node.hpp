#pragma once
// One RESP element as the parser yields it: a view into the caller's read buffer, valid until
// the caller discards those bytes. Nodes arrive in pre-order; an aggregate node is followed by
// its children, each one level deeper.
//
//   *2\r\n $3\r\nGET\r\n :7\r\n   ->  {array, depth 0, size 2} {bulk "GET", depth 1} {integer 7,
//   depth 1}

#include <cstdint>
#include <string_view>

#include "uredis/resp/type.hpp"

namespace uredis::resp {

struct node {
  /// Scalars: the payload. Strings and errors: their bytes. Integers, doubles and big numbers:
  /// their decimal text as sent. Verbatim strings: the text after the "fmt:" prefix. Booleans:
  /// "t" or "f". Null and aggregates: empty.
  std::string_view value;
  /// Verbatim strings only: the three-byte format ("txt", "mkd").
  std::string_view format;
  /// Aggregates: the element count as sent (pairs for maps and attributes).
  std::uint64_t size = 0;
  /// Integers: the value. Booleans: 1 or 0.
  std::int64_t integer = 0;
  /// Doubles: the value (inf, -inf and nan included).
  double real = 0;
  /// 0 for the first node of a reply; children are one deeper than their aggregate.
  std::uint32_t depth = 0;
  resp::type type = resp::type::null;
  /// True for an attribute node and everything inside it. Such nodes describe the element that
  /// follows; readers that only want the data skip them.
  bool in_attribute = false;
};

}  // namespace uredis::resp
