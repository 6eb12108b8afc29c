#pragma once
// address_provider: where a connection connects, asked on every connect and reconnect instead
// of config.host and config.port. Sentinel's primary locator is one (sentinel/
// primary_locator.hpp): the address of a service's primary changes with each failover, so the
// connection must ask for it again each time it opens a socket.
//
//   connection ──locate(request)──► provider ──request.answer(endpoint)──► connection
//                                              (now or later)              resolves the host off
//                                                                          the loop, connects
//   provider ──listener.notify(endpoint)──► connection: not there? drop the socket, reconnect
//                                           (which asks again); pending commands are judged as
//                                           for any lost socket (proto/session.hpp)
//
// A provider may answer inside locate() or later, from a callback on the connection's thread
// (after asking a Sentinel over the network). A request belongs to the connection that made
// it: the connection cancels it when it gives up on the attempt or dies, and a cancelled
// request ignores its answer. A provider that answers later keeps its pending requests on an
// intrusive list (`hook`), which a request leaves when it is cancelled or destroyed, so the
// provider never holds a dangling one. A failure (`fail(why)`) fails that connect attempt with
// `why`, which the retry policy judges like any connect error.
//
// role(): what the server at the answered address must be. The connection checks it in every
// handshake (ROLE: proto/role_check.hpp) and, for a primary, treats a -READONLY reply as the
// sign that the primary was demoted: it moves, as on notify(). One answer may say otherwise
// (answer(e, as): a replica provider falling back to the primary).
//
// notify() names the new primary. A connection to a primary moves unless it is already there;
// one to a replica moves only if it is there (its replica was promoted).
//
// Threading: everything runs on the connection's (the shard's) thread. A provider shared by
// connections of several shards must be safe for that; the Sentinel locator is not (one per
// shard).

#include <cstdint>
#include <string>
#include <system_error>

#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis {

/// A host (a name or a numeric address) and a TCP port.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// What the server behind an address must be.
enum class server_role : std::uint8_t {
  any,      // not checked
  primary,  // ROLE says "master"; -READONLY moves the connection
  replica,  // ROLE says "slave"
};

/// One connection's request for the address to connect to, answered once.
class address_request {
 public:
  /// Gets the address (valid during the call), or null and why there is none.
  using callback = util::inline_function<void(const endpoint*, std::error_code), 16>;

  /// A provider that answers later may keep the request on a list of its own through this.
  util::list_hook hook;

  address_request() noexcept = default;
  explicit address_request(callback on_answer) noexcept : on_answer_(std::move(on_answer)) {}
  address_request(const address_request&) = delete;
  address_request& operator=(const address_request&) = delete;

  /// Waiting for its answer.
  bool pending() const noexcept { return pending_; }

  /// Gives the answer. Ignored unless pending. Leaves the provider's list first, so the
  /// callback may locate again. `as`: what the server there is, when not the provider's role().
  void answer(const endpoint& e, server_role as = server_role::any) {
    if (pending_) answered_as_ = as;
    finish(&e, {});
  }
  /// What the last answer said the server is (any: the provider's role()).
  server_role answered_as() const noexcept { return answered_as_; }
  /// There is no address to give: the connect attempt fails with `why`.
  void fail(std::error_code why) { finish(nullptr, why); }

  /// Marks the request as waiting; the connection calls this before locate().
  void begin() noexcept { pending_ = true; }
  /// The connection no longer wants an answer.
  void cancel() noexcept {
    pending_ = false;
    hook.unlink();
  }

 private:
  void finish(const endpoint* e, std::error_code why) {
    if (!pending_) return;
    pending_ = false;
    hook.unlink();
    on_answer_(e, why);
  }

  callback on_answer_;
  bool pending_ = false;
  server_role answered_as_ = server_role::any;
};

/// Told that the address moved (a failover) while its connection is up.
class address_listener {
 public:
  using callback = util::inline_function<void(const endpoint&), 16>;

  /// On the provider's list of listeners; the listener leaves it when destroyed.
  util::list_hook hook;

  explicit address_listener(callback on_moved) noexcept : on_moved_(std::move(on_moved)) {}
  address_listener(const address_listener&) = delete;
  address_listener& operator=(const address_listener&) = delete;

  /// The address is now `now` (valid during the call).
  void notify(const endpoint& now) { on_moved_(now); }

  /// The provider's bookkeeping while it tells its listeners (each once per announcement).
  std::uint64_t told = 0;

 private:
  callback on_moved_;
};

class address_provider {
 public:
  virtual ~address_provider() = default;
  /// Asked on every connect and reconnect, on the connection's thread: answer `request`, now
  /// or later.
  virtual void locate(address_request& request) = 0;
  /// Keeps `listener` to tell it of a new address, until it unlinks itself. Providers whose
  /// address never moves by itself ignore it.
  virtual void watch(address_listener& listener) { (void)listener; }
  /// What the server at the address must be (checked in every handshake).
  virtual server_role role() const noexcept { return server_role::any; }
};

}  // namespace uredis
