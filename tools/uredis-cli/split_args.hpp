#pragma once
// split_args: one line of text into command arguments, by the rules redis-cli applies to what it
// reads interactively or from stdin (those of sdssplitargs in Redis' sds.c):
//
//   - arguments are separated by blanks (space, \t, \n, \v, \f, \r); an unquoted argument ends
//     at a space, \t, \n or \r
//   - "double quotes" keep blanks and understand \n \r \t \b \a, \xHH (two hex digits, any case)
//     and a backslash before any other character standing for that character (\\ \" \q -> q)
//   - 'single quotes' keep everything as written, except \' which is a quote
//   - quotes may start inside an argument (a"b c" is `ab c`), but a closing quote must be
//     followed by a blank or the end of the line
//   - an unterminated quote, or a closing quote followed by something else, makes the whole
//     line invalid (redis-cli prints "Invalid argument(s)")
//   - the line ends at its first NUL byte (redis-cli reads lines as C strings)
//
// A blank line is valid and has no arguments.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uredis::cli {

/// Puts the arguments of `line` into `out` (cleared first; its capacity is reused) and returns
/// true, or returns false if the quoting is invalid (`out` is then unspecified).
bool split_args(std::string_view line, std::vector<std::string>& out);

/// The arguments of `line`, or nullopt if its quoting is invalid.
std::optional<std::vector<std::string>> split_args(std::string_view line);

}  // namespace uredis::cli
