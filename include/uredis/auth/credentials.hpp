#pragma once
// credentials: who a connection authenticates as, and the providers a connection asks for them
// each time it connects or reconnects.
//
//   session ──fetch(request)──► provider ──request.answer(credentials)──► session  (now or later)
//
// A provider may answer inside fetch() (static credentials) or later, from a callback on the
// connection's thread (a token fetched over the network). A request belongs to the connection
// that made it: the connection cancels it when it gives up on the attempt, or dies, and a
// cancelled request ignores its answer. A provider that answers later keeps its pending
// requests on an intrusive list (`hook`), which a request leaves when it is cancelled or
// destroyed, so the provider never holds a dangling one.
//
// A provider whose credentials change while connections are up (a streaming provider, a token
// manager's) also tells the connections that watch() it: each live connection then sends AUTH
// with the new credentials, in line with its other commands (proto/session.hpp).
//
//   provider ──listener.on_credentials(new)──► session ──AUTH user pass──► server
//
// Threading: fetch(), watch() and answer() run on the connection's (the shard's) thread. A
// provider shared by several shards is called from each of them and must be safe for that.
//
// Secrets: a credentials value wipes its password when it is replaced or destroyed
// (auth/secret.hpp). Nothing in the library prints it: no event, error or log carries it.

#include <string>
#include <system_error>

#include "uredis/auth/secret.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::auth {

struct credentials {
  /// ACL user; empty means the default user.
  std::string username;
  std::string password;

  // Still an aggregate ({user, password}). The password is wiped when the value ends; the
  // declared destructor also makes moves copy, so no moved-from buffer keeps the bytes. Code
  // that replaces a password in place uses replace_secret() (an assignment would leave the old
  // one's tail in the buffer).
  ~credentials() { wipe(password); }
};

/// One connection's request for credentials, answered once.
class credentials_request {
 public:
  /// Gets the credentials (valid during the call), or null and why there are none.
  using callback = util::inline_function<void(const credentials*, std::error_code), 16>;

  /// A provider that answers later may keep the request on a list of its own through this.
  util::list_hook hook;

  credentials_request() noexcept = default;
  explicit credentials_request(callback on_answer) noexcept : on_answer_(std::move(on_answer)) {}
  credentials_request(const credentials_request&) = delete;
  credentials_request& operator=(const credentials_request&) = delete;

  void set_callback(callback on_answer) noexcept { on_answer_ = std::move(on_answer); }

  /// Waiting for its answer.
  bool pending() const noexcept { return pending_; }

  /// Gives the answer. Ignored unless pending. Leaves the provider's list first, so the
  /// callback may fetch again.
  void answer(const credentials& c) { finish(&c, {}); }
  /// There are no credentials to give: the attempt to connect fails with `why`.
  void fail(std::error_code why) { finish(nullptr, why); }

  /// Marks the request as waiting; the connection calls this before fetch().
  void begin() noexcept { pending_ = true; }
  /// The connection no longer wants an answer.
  void cancel() noexcept {
    pending_ = false;
    hook.unlink();
  }

 private:
  void finish(const credentials* c, std::error_code why) {
    if (!pending_) return;
    pending_ = false;
    hook.unlink();
    on_answer_(c, why);
  }

  callback on_answer_;
  bool pending_ = false;
};

/// Told of new credentials while its connection is up: a session's hook into a provider whose
/// credentials change.
class credentials_listener {
 public:
  using callback = util::inline_function<void(const credentials&), 16>;

  /// On the provider's list of listeners; the listener leaves it when destroyed.
  util::list_hook hook;

  explicit credentials_listener(callback on_change) noexcept : on_change_(std::move(on_change)) {}
  credentials_listener(const credentials_listener&) = delete;
  credentials_listener& operator=(const credentials_listener&) = delete;

  /// The provider has new credentials (valid during the call).
  void notify(const credentials& c) { on_change_(c); }

 private:
  callback on_change_;
};

class credentials_provider {
 public:
  virtual ~credentials_provider() = default;
  /// Asked on every connect and reconnect, on the connection's thread: answer `request`, now
  /// or later.
  virtual void fetch(credentials_request& request) = 0;
  /// Keeps `listener` to tell it of new credentials, until it unlinks itself. Providers whose
  /// credentials never change ignore it.
  virtual void watch(credentials_listener& listener) { (void)listener; }
};

/// The same user and password every time (connection_config's username and password).
class static_credentials final : public credentials_provider {
 public:
  explicit static_credentials(credentials c) : credentials_(std::move(c)) {}
  void fetch(credentials_request& request) override { request.answer(credentials_); }

 private:
  credentials credentials_;
};

}  // namespace uredis::auth
