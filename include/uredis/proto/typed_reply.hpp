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

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/result.hpp"

namespace uredis::proto {

template <class Response>
class typed_reply {
  template <class T>
  struct is_optional : std::false_type {};
  template <class T>
  struct is_optional<std::optional<T>> : std::true_type {};

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

  /// The result of a whole reply that is the one node `n`, not an error reply (a cache hit's
  /// lone bulk string or null), as on_node(n) then finish() would give it. A string value is
  /// built where the result keeps it, without the adapter and the moves between them.
  static result<Response> of_single(const resp::node& n) {
    return with_single(
        n, [](auto&&... args) { return result<Response>(std::forward<decltype(args)>(args)...); });
  }

  /// of_single(n) built by make(args...), which constructs a result<Response> from `args` where
  /// the caller keeps it (std::optional<result<Response>>::emplace): a string value is then
  /// copied once, straight into its place.
  template <class Make>
  static decltype(auto) with_single(const resp::node& n, Make&& make) {
    if constexpr (std::is_same_v<Response, std::string> ||
                  std::is_same_v<Response, std::string_view>) {
      if (n.type == resp::type::bulk_string) return make(std::in_place, n.value);
    } else if constexpr (std::is_same_v<Response, std::optional<std::string>> ||
                         std::is_same_v<Response, std::optional<std::string_view>>) {
      if (n.type == resp::type::bulk_string) return make(std::in_place, std::in_place, n.value);
    }
    if constexpr (is_optional<Response>::value) {
      if (n.type == resp::type::null) return make(std::in_place);
    }
    typed_reply reply;
    reply.on_node(n);
    return make(reply.finish(reply_outcome{}));
  }

 private:
  Response value_{};
  resp::adapter<Response> adapter_;
  std::error_code adapt_error_;
  bool saw_node_ = false;
};

}  // namespace uredis::proto
