#pragma once
// resend: the descriptors a cluster client sends a command again with, from the exact bytes it
// went out as (reply_outcome::request, or a copy kept while it waited out a backoff):
//
//   kept_command{bytes}     the command again, to the slot's new owner (MOVED) or after a retry
//   asking_command{bytes}   ASKING then the command, as one batch of two replies, so nothing
//                           another caller issues lands between them (ASK)
//
// Both are keyless (the client already routed them) and never touch a cache. The bytes may view
// the very request buffer they are encoded into (a command sent again to the same node): they
// are found again at the same offset if appending moves that buffer.

#include <cstdint>
#include <string_view>

#include "uredis/cluster/redirect_state.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cluster::detail {

// Appends `prefix` then `bytes` to `out`, where `bytes` may lie inside `out` itself.
inline void append_kept(util::byte_buffer& out, std::string_view prefix, std::string_view bytes) {
  const std::string_view before = out.data();
  const bool own = !before.empty() && bytes.data() >= before.data() &&
                   bytes.data() < before.data() + before.size();
  const std::size_t offset = own ? static_cast<std::size_t>(bytes.data() - before.data()) : 0;
  if (!prefix.empty()) out.append(prefix);
  out.append(own ? out.data().substr(offset, bytes.size()) : bytes);
}

struct kept_command {
  std::string_view bytes;

  using response = resp::reply;  // never read: the caller queues its own handler
  static constexpr bool keyless = true;
  void encode(resp::encoder& e) const { append_kept(e.buffer(), {}, bytes); }
};

struct asking_command {
  std::string_view bytes;

  using response = resp::reply;
  static constexpr bool keyless = true;
  void encode(resp::encoder& e) const { append_kept(e.buffer(), asking_request, bytes); }
  static constexpr std::uint32_t replies() noexcept { return 2; }
};

}  // namespace uredis::cluster::detail
