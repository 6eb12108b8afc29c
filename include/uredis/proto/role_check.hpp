#pragma once
// role_check: the handshake step that makes sure the server is what the connection was told it
// is. A Sentinel names a primary; by the time the connection reaches it, a failover may have
// made it a replica (Sentinel's client guidelines: "verify the role after connecting"). The
// step sends ROLE and reads the first element of the answer ("master", "slave", "sentinel"):
//
//   expected matches            the handshake goes on
//   another role                errc::role_mismatch: the attempt fails and is retried by the
//                               policy, which asks the address provider (the Sentinels) again
//   an error reply              the server's error: the handshake is refused
//   not an array of a string    errc::type_mismatch
//
// ROLE is the same in RESP2 and RESP3, and exists since Redis 2.8.12.

#include <cstddef>
#include <string_view>

#include "uredis/proto/handshake_step.hpp"

namespace uredis::proto {

class role_check final : public handshake_step {
 public:
  /// `expected`: ROLE's first element, "master" or "slave" (a static string: it is kept).
  explicit role_check(std::string_view expected) noexcept : expected_(expected) {}
  /// What the next handshakes expect (a static string), when it changes between connects.
  void expect(std::string_view expected) noexcept { expected_ = expected; }

  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

  /// The role the last handshake found ("" before the first).
  std::string_view found() const noexcept { return found_; }

 private:
  std::string_view expected_;
  std::string_view found_;  // one of the static names below, never the server's bytes
  bool checked_ = false;    // the first element of this handshake's reply was read
};

}  // namespace uredis::proto
