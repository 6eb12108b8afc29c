#pragma once
// secret: wiping passwords and tokens from memory once they are replaced or destroyed, so a
// core dump or a later reuse of the heap block does not hand them out.
//
// A plain memset before free is dead code to an optimiser (nothing reads the bytes again) and
// may be removed; wipe() uses explicit_bzero, a store the compiler must keep. A std::string is
// wiped over its whole capacity, not only its size: a shorter value assigned over a longer one
// leaves the longer one's tail in the buffer, and short strings live inside the object (SSO).
//
// What is not covered: copies the library does not own (the caller's own strings, the kernel's
// socket buffers) and the bytes of an AUTH command in a connection's send buffer, which are
// overwritten by the commands that follow it.

#include <cstddef>
#include <string>
#include <string_view>

namespace uredis::auth {

/// Zeroes `size` bytes at `data` with stores the compiler cannot elide.
void wipe(void* data, std::size_t size) noexcept;

/// Zeroes every byte `s` holds (its whole capacity) and leaves it empty.
void wipe(std::string& s) noexcept;

/// Wipes `s`, then gives it `value`: the old secret does not survive in the buffer.
void replace_secret(std::string& s, std::string_view value);

}  // namespace uredis::auth
