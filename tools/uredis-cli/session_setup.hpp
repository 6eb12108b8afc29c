#pragma once
// session_setup: what the tool has set up on its connection (the user and password it
// authenticated with, the database it selected, RESP3), and the handshake step that sets the
// same up again on every reconnect.
//
// The first connection is set up by session::open() one command at a time, the way redis-cli
// does it, so that its messages ("AUTH failed: ...") and its leniency (a failed step leaves a
// usable connection) match. What succeeded is recorded here; so is what succeeds later on
// stdin (SELECT n, AUTH, HELLO 2|3, as redis-cli tracks SELECT for its own reconnects). A
// reconnect then runs `replay_step` inside the library's handshake: AUTH, SELECT, HELLO 3, in
// that order, each only when needed. A server that now refuses one fails that handshake, and
// the library gives up on the connection (see proto/session.hpp).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uredis/proto/handshake_step.hpp"

namespace uredis::cli {

struct session_setup {
  std::optional<std::string> user;      // with a password only
  std::optional<std::string> password;  // nullopt: no AUTH
  int db = 0;
  bool resp3 = false;

  /// The commands that set this up, in redis-cli's order.
  std::vector<std::vector<std::string>> commands() const;

  /// Records the effect of `args` (a command that just succeeded) if it is one of those that
  /// change the setup; true if it is.
  bool apply(std::span<const std::string> args);

  /// True when `args` is a command apply() would record.
  static bool changes_setup(std::span<const std::string> args) noexcept;
};

/// Replays a session_setup (which must outlive it) in every handshake.
class replay_step final : public proto::handshake_step {
 public:
  explicit replay_step(const session_setup& setup) noexcept : setup_(setup) {}

  std::size_t write(resp::encoder& out, const proto::handshake_params& params,
                    proto::resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

 private:
  const session_setup& setup_;
};

}  // namespace uredis::cli
