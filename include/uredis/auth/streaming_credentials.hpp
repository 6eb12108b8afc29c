#pragma once
// streaming_credentials: a provider whose credentials are pushed to it (update()) while
// connections use it, and which pushes each new value on to them: every live connection that
// uses it authenticates again (AUTH, in line with its pending commands), and every later
// connect gets the newest value.
//
//   someone ──update(c)──► streaming_credentials ──► waiting connects answered with c
//                                                 └─► live connections: AUTH c (listeners)
//   someone ──expire()───► no valid credentials: connects fail with errc::credentials_expired
//
// States: empty (nothing yet: a connect waits for the first update(), bounded by its
// connect_timeout) -> valid (update) <-> expired (expire(): a connect fails at once, so a dead
// token turns into a clear error rather than a wait; the next update() makes it valid again).
//
// Threading: one shard's. A token manager (token_manager.hpp) keeps one per shard and hands each
// new token to each on its own shard; connections of several shards must not share one.
// Ownership: shared (connection_config::credentials holds a shared_ptr); the connections that
// watch it and the requests that wait on it leave its lists when they go.

#include <system_error>

#include "uredis/auth/credentials.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::auth {

class streaming_credentials final : public credentials_provider {
 public:
  /// Empty: connects wait for the first update().
  streaming_credentials() noexcept = default;
  explicit streaming_credentials(const credentials& first) { update(first); }
  streaming_credentials(const streaming_credentials&) = delete;
  streaming_credentials& operator=(const streaming_credentials&) = delete;
  ~streaming_credentials() override;

  /// Answers at once with the current credentials, fails at once when they expired, and waits
  /// for update() when there are none yet.
  void fetch(credentials_request& request) override;
  void watch(credentials_listener& listener) override { listeners_.push_back(listener); }

  /// New credentials: the old ones are wiped, waiting connects get these, and every listener
  /// (each live connection) is told, in the order they started watching.
  void update(const credentials& c);
  /// The credentials are no longer valid (a token expired with no replacement): waiting
  /// connects and later ones fail with `why` until the next update(). Live connections are
  /// not touched: the server decides what an expired password means for them.
  void expire(std::error_code why);

  bool valid() const noexcept { return state_ == state::valid; }
  /// How many update()s there have been.
  std::uint64_t updates() const noexcept { return updates_; }

 private:
  enum class state : std::uint8_t { empty, valid, expired };

  state state_ = state::empty;
  credentials current_;
  std::error_code expired_because_;
  std::uint64_t updates_ = 0;
  util::intrusive_list<credentials_request, &credentials_request::hook> waiting_;
  util::intrusive_list<credentials_listener, &credentials_listener::hook> listeners_;
};

}  // namespace uredis::auth
