#pragma once
// typed_reply: reads one reply's nodes into a Response and says how its command ended, as a
// result<Response>. Every typed reply handler shares it (callbacks, coroutines, batches,
// scripts), so they all rank the ways a command can end the same way:
//
//   1. the command got no (whole) reply: the connection's error (outcome.error)
//   2. the server answered with an error reply: that server_error
//   3. the reply did not fit Response: the adapter's error (errc::type_mismatch...)
//   4. the reply ended early: errc::incomplete_reply (a pipeline bug, not a server's)
//   5. the value
//
// Not movable: the adapter points at the value.

#include <system_error>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/result.hpp"

namespace uredis::proto {

template <class Response>
class typed_reply {
 public:
  typed_reply() noexcept(std::is_nothrow_default_constructible_v<Response>) : adapter_(value_) {}
  typed_reply(const typed_reply&) = delete;
  typed_reply& operator=(const typed_reply&) = delete;

  void on_node(const resp::node& n) {
    adapter_.on_node(n, adapt_error_);
    saw_node_ = true;
  }

  /// How the command ended (see above); moves the value out.
  result<Response> finish(const reply_outcome& outcome) {
    if (outcome.error) return result<Response>(outcome.error);
    if (outcome.error_reply != nullptr)
      return result<Response>(server_error::parse(outcome.error_reply->value));
    if (adapt_error_) return result<Response>(adapt_error_);
    if (!saw_node_ || !adapter_.done()) return result<Response>(errc::incomplete_reply);
    return result<Response>(std::move(value_));
  }

 private:
  Response value_{};
  resp::adapter<Response> adapter_;
  std::error_code adapt_error_;
  bool saw_node_ = false;
};

}  // namespace uredis::proto
