#pragma once
// refresh_on_redirect: the callback wrapper for the calls whose redirects a cluster client
// returns instead of following (a transaction, a script: parts of them may have run). The MOVED
// goes back to the caller as it came, but it still says the slot map is stale, so the client is
// asked to read the topology again before the callback runs: the caller's next try goes where
// the slot lives now. (An ASK does not: the slot is still its owner's while it migrates.)

#include <string_view>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster::detail {

/// True for a MOVED, and for a transaction discarded because a command of it was moved while
/// queued (EXECABORT naming the command's MOVED, transaction.hpp).
inline bool names_moved(const server_error& e) noexcept {
  if (e.kind == server_error_kind::moved) return true;
  return e.kind == server_error_kind::execabort &&
         std::string_view(e.message).find(": MOVED ") != std::string_view::npos;
}

template <class Client, class Callback>
struct refresh_on_redirect {
  Client* client;
  Callback callback;

  template <class Response>
  void operator()(result<Response> r) {
    if (r.has_server_error() && names_moved(r.server_error())) client->refresh();
    callback(std::move(r));
  }
};

}  // namespace uredis::cluster::detail
