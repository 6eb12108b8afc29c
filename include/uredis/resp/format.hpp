#pragma once
// format: a reply as `redis-cli --no-raw` prints it (redis-cli 7.0, the human-readable "TTY"
// output), byte for byte, final newline included.
//
//   *2 $1 a %1 +k *2 :1 :2     1) "a"
//                              2) 1# k =>
//                                    1) (integer) 1
//                                    2) (integer) 2
//
// redis-cli's rules, as it applies them:
//  - simple strings print as they are, errors as "(error) TEXT"; both stop at a NUL byte (redis-cli
//    treats them as C strings)
//  - bulk strings print quoted: \\ \" \n \r \t \a \b escaped, bytes 0x20..0x7e as they are, any
//    other byte as \xNN (lowercase hex); verbatim strings print raw, without their "fmt:" prefix
//  - "(integer) N", "(double) TEXT" with the text as the server sent it, "(true)"/"(false)",
//    "(nil)" for every kind of null
//  - aggregates: "(empty array)", "(empty hash)", "(empty set)", "(empty push)" when empty; else
//    one element per line numbered "N) " (sets "N~ ", maps "N# key => value"), numbers right-
//    aligned to the width of the largest, nested elements indented by that width + 2, the first
//    element of a nested aggregate on its parent's line; a map value that spans several lines
//    starts on a new line
//  - a top-level push of the shape ["invalidate", [keys...]] prints as
//    "-> invalidate: 'k1', 'k2'" (what redis-cli shows for client-side-caching invalidations)
//
// Types redis-cli 7.0 cannot print get the rules of later redis-cli versions: big numbers
// "(big number) N", bulk errors like simple errors, attributes are skipped (the element they
// decorate prints), and a bare attribute (never inside a tree) prints as a map.

#include <string>

#include "uredis/resp/reply.hpp"

namespace uredis::resp {

/// Appends the formatted `r` to `out`.
void format(const reply& r, std::string& out);

/// The formatted `r`.
std::string format(const reply& r);

}  // namespace uredis::resp
