#pragma once
// token_manager: keeps expiring tokens fresh and hands each new one to every shard, where each
// live connection authenticates again with it (AUTH, in line with its pending commands) and
// every new connect uses it.
//
//   home shard:  timer ──► token_refresh (when) ──► source(request) ──► request.answer(token)
//                                                                            │
//   every shard: streaming_credentials::update() ◄── mailbox task ◄──────────┘
//                   └─► its connections: AUTH user token      (events: reauthenticated, ...)
//
// The schedule is token_refresh (sans-I/O; its header has the rules): refresh at
// min(ratio x lifetime, expiry - lower_bound), retry failed or stalled fetches with backoff,
// and when the token expires with no replacement, every shard's provider expires: new connects
// fail at once with errc::credentials_expired (live connections stay as the server has them).
// Each failed fetch emits event::token_refresh_failed on the home shard.
//
// Use: create it on a shard (its home: the source is called there, and answered there), give
// each shard's connections provider(that shard) as connection_config::credentials, start().
//
//   auto& tokens = rt.make_local<auth::token_manager>(rt, [](auth::token_request& r) {
//     r.answer({.username = "app", .value = mint(), .expires_at = now + 1h});   // or later
//   });
//   tokens.start();
//   // on shard s: config.credentials = tokens.provider(s);
//
// A manager with no runtime (token_manager(reactor, source)) serves the one reactor's
// connections: provider(0).
//
// Threading: the manager, its timer and its source belong to the home shard; provider(s) is
// used on shard s only, and reaches it through the runtime's mailboxes. A broadcast a full
// mailbox refuses is posted again on the next timer tick, so no shard misses a token.
// Ownership: the manager is the home shard's (make_local); the providers are shared with the
// connection configs that hold them and outlive the manager if those do (they then keep the
// last token and expire no more).

#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "uredis/auth/streaming_credentials.hpp"
#include "uredis/auth/token.hpp"
#include "uredis/auth/token_refresh.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis {
class runtime;
namespace reactor {
class reactor;
}
}  // namespace uredis

namespace uredis::auth {

class token_manager;

/// One fetch of the manager's source, answered once, now or later, on the home shard. The
/// manager has one request object, reused by every fetch: an answer after the manager gave up
/// on a fetch (fetch_timeout) is ignored until the next fetch starts, and then counts as that
/// one's (a stalled source's late token is still a token). The source must not answer once the
/// manager is destroyed.
class token_request {
 public:
  token_request(const token_request&) = delete;
  token_request& operator=(const token_request&) = delete;

  /// Waiting for its answer.
  bool pending() const noexcept { return pending_; }
  /// The new token (copied; the caller's copy is the caller's to wipe).
  void answer(const token& t);
  /// There is no token now: retried after the backoff.
  void fail(std::error_code why);

 private:
  friend class token_manager;
  explicit token_request(token_manager& owner) noexcept : owner_(&owner) {}

  token_manager* owner_;
  bool pending_ = false;
};

class token_manager {
 public:
  /// Asked for a new token: answer the request now or later, on the home shard.
  using token_source = util::inline_function<void(token_request&), 32>;

  /// Serves every shard of `rt`; call on one of its shards, which becomes home.
  token_manager(runtime& rt, token_source source, token_refresh_options options = {});
  /// Serves the connections of `r` alone (no runtime): provider(0).
  token_manager(reactor::reactor& r, token_source source, token_refresh_options options = {});
  token_manager(const token_manager&) = delete;
  token_manager& operator=(const token_manager&) = delete;
  /// On the home shard.
  ~token_manager();

  /// Asks for the first token now.
  void start();
  /// Stops refreshing: no more fetches, an answer still due is ignored. The providers keep the
  /// last token (and its expiry is no longer announced).
  void stop() noexcept;

  /// The provider for the connections of shard `shard` (connection_config::credentials).
  std::shared_ptr<streaming_credentials> provider(unsigned shard) const {
    return providers_.at(shard);
  }
  /// Tokens received so far.
  std::uint64_t tokens() const noexcept { return tokens_; }
  /// The schedule, for what it knows (refresh_at(), failures(), valid()).
  const token_refresh& schedule() const noexcept { return schedule_; }

 private:
  friend class token_request;

  void on_answer(const token& t);
  void on_failed(std::error_code why);
  void on_timer();
  void sync();
  void report_failure(std::error_code why);
  void broadcast();

  runtime* runtime_;  // null: one reactor, no shards
  reactor::reactor* home_;
  unsigned home_shard_ = 0;
  token_source source_;
  token_refresh_options options_;
  token_refresh schedule_;
  token_request request_;
  reactor::timer timer_;
  std::vector<std::shared_ptr<streaming_credentials>> providers_;
  // What each shard is to be told next: the newest token, or its expiry (null token).
  std::shared_ptr<const credentials> latest_;
  std::error_code expired_because_;
  std::vector<bool> undelivered_;  // shards whose mailbox refused the last broadcast
  std::uint64_t tokens_ = 0;
  bool stopped_ = false;
};

}  // namespace uredis::auth
