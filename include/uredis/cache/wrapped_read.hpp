#pragma once
// wrapped_read: a cacheable read as the cache sends it, and the reader of its replies. The read
// learns its keys' time to live in the same round trip, atomically (as rueidis does):
//
//   CLIENT CACHING YES      optin mode only: the server tracks the keys of the next command,
//                           which (inside MULTI) is every command up to EXEC
//   MULTI
//   PTTL k1 ... PTTL kn     one per distinct key the read names
//   <the read>
//   EXEC                    -> *n+1 [pttl1 ... pttln, <the read's reply>]
//
// It is one command for the pipeline (replies() says how many top-level replies it gets), so
// the bytes go out contiguously and automatic pipelining never splits them.
//
// wrapped_reply reads those replies node by node and keeps what the cache needs: the read's
// reply written back as RESP bytes into a buffer (resp/node_writer.hpp), or the first error
// reply when there is one (an error before EXEC, EXECABORT, or the read's own error, such as
// WRONGTYPE, inside EXEC's array), and the smallest PTTL (store.hpp: -2 when a key is missing,
// -1 when none expires). A refused CLIENT CACHING YES is not a failure: tracking was off on
// that socket (a read resent after a reconnect whose handshake could not turn it on), so the
// read's reply is good, only not to be stored (untracked()).

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cache {

struct wrapped_read {
  std::string_view read;                   // the read's request bytes
  std::span<const std::string_view> keys;  // distinct
  bool caching_yes = false;

  std::uint32_t replies() const noexcept {
    return static_cast<std::uint32_t>(caching_yes) + 1 + static_cast<std::uint32_t>(keys.size()) +
           1 + 1;
  }
  void encode(resp::encoder& e) const {
    if (caching_yes) e.command("CLIENT", "CACHING", "YES");
    e.command("MULTI");
    for (const std::string_view key : keys)
      e.command("PTTL", key);
    e.buffer().append(read);
    e.command("EXEC");
  }
};

class wrapped_reply {
 public:
  /// For a wrapped_read of `replies` replies and `keys` keys; writes into `out`, cleared now.
  wrapped_reply(std::uint32_t replies, std::uint32_t keys, util::byte_buffer& out) noexcept
      : exec_(replies - 1), keys_(keys), caching_(replies == keys + 4), out_(&out) {
    out.clear();
  }

  void on_node(const resp::node& n);

  /// True when `out` holds an error reply rather than the read's reply.
  bool failed() const noexcept { return failed_; }
  /// Set when the replies are not the shape a wrapped read gets: errc::watch_conflict for a null
  /// EXEC (a WATCH on the connection aborted it), errc::type_mismatch for anything else.
  std::error_code error() const noexcept { return error_; }
  /// True when the server refused CLIENT CACHING YES: the reply is good but untracked.
  bool untracked() const noexcept { return untracked_; }
  /// The smallest PTTL over the keys (see the header comment).
  std::int64_t pttl() const noexcept { return pttl_; }

 private:
  void fail(const resp::node& error);

  std::uint32_t exec_;  // the index of EXEC's reply
  std::uint32_t keys_;
  bool caching_;  // the first reply is CLIENT CACHING YES's
  util::byte_buffer* out_;
  std::uint32_t reply_ = 0;    // the top-level reply being read, +1
  std::uint64_t element_ = 0;  // EXEC's elements begun so far
  std::int64_t pttl_ = -1;
  std::error_code error_;
  bool failed_ = false;
  bool untracked_ = false;
};

}  // namespace uredis::cache
