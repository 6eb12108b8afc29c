#pragma once
// --decode: RESP bytes in, redis-cli-formatted replies out.
//
// The input is read whole, then parsed reply after reply; each reply is printed as soon as it is
// complete, so the replies before a malformed one still come out. Errors go to `err` as one line
// starting "protocol error: " with the byte offset where the input went wrong.

#include <cstdio>
#include <string_view>

namespace uredis::cli {

/// Exit statuses of the decode mode.
inline constexpr int decode_ok = 0;
inline constexpr int decode_failed = 1;  // malformed or truncated input, or an I/O error

/// Decodes and prints every reply in `input`.
int decode(std::string_view input, std::FILE* out, std::FILE* err);

/// Reads all of `in_fd`, then decode().
int run_decode(int in_fd, std::FILE* out, std::FILE* err);

}  // namespace uredis::cli
