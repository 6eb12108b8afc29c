#pragma once
// Whole-input reads for the tool's modes that take their data from a file descriptor.

#include <string>
#include <system_error>

namespace uredis::cli {

/// Appends everything readable from `fd` until end of file to `out`, binary-safe.
std::error_code read_all(int fd, std::string& out);

}  // namespace uredis::cli
