#pragma once
// callback_handler: the reply handler behind `exec(command, callback)`. While queued it holds
// only the callback; when the reply begins, its active form holds the Response and its
// resp::adapter, fills the value from the nodes, and calls the callback once with a
// result<Response>: the value, the server's error, or the transport/protocol/adapter error.
//
// Views: a reply may arrive over several reads and the read buffer may move between them, so a
// std::string_view is only safe as a whole single-node reply (GET into string_view, or
// optional<string_view>); it is valid during the callback only. A Response holding views
// inside an aggregate (vector<string_view>) does not compile: read those into std::string.

#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/typed_reply.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/result.hpp"

namespace uredis::proto {

namespace detail {
template <class T>
struct holds_view : std::is_same<T, std::string_view> {};
template <class T>
struct holds_view<std::optional<T>> : holds_view<T> {};
template <class T, class A>
struct holds_view<std::vector<T, A>> : holds_view<T> {};
template <class A, class B>
struct holds_view<std::pair<A, B>>
    : std::bool_constant<holds_view<A>::value || holds_view<B>::value> {};
template <class K, class V, class... R>
struct holds_view<std::map<K, V, R...>>
    : std::bool_constant<holds_view<K>::value || holds_view<V>::value> {};
template <class K, class V, class... R>
struct holds_view<std::unordered_map<K, V, R...>>
    : std::bool_constant<holds_view<K>::value || holds_view<V>::value> {};

template <class T>
constexpr bool views_are_safe = !holds_view<T>::value || std::is_same_v<T, std::string_view> ||
                                std::is_same_v<T, std::optional<std::string_view>>;
}  // namespace detail

// GCC 12 at -O2 reports -Wmaybe-uninitialized in the user's code when a callback takes its
// result by value and moves it (`[&](result<T> r) { saved = std::move(r); }`): std::variant's
// move constructor branches on the index this file just stored, GCC loses that index across
// the callback's own stores (it cannot tell they do not alias the temporary), and walks the
// branches of alternatives the result does not hold. The index is always set: a false
// positive, silenced for the calls this class makes only. tests/consumer/callbacks.cpp
// reproduces it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class Response, class Callback>
class callback_handler {
  static_assert(detail::views_are_safe<Response>,
                "a string_view inside an aggregate reply may dangle: read it into std::string");
  static_assert(std::is_nothrow_move_constructible_v<Callback>,
                "the callback must be nothrow move constructible");

 public:
  explicit callback_handler(Callback callback) noexcept : callback_(std::move(callback)) {}

  /// The reply never began.
  void on_complete(const reply_outcome& outcome) { callback_(result<Response>(outcome.error)); }

  /// The whole reply is the one node `n`, not an error reply (a cache hit): the callback gets
  /// what the active form would give it, built without the adapter where it can be.
  void on_single(const resp::node& n) { callback_(typed_reply<Response>::of_single(n)); }

  class active {
   public:
    explicit active(callback_handler&& queued) noexcept : callback_(std::move(queued.callback_)) {}
    active(const active&) = delete;
    active& operator=(const active&) = delete;

    void on_node(const resp::node& n) { reply_.on_node(n); }
    void on_complete(const reply_outcome& outcome) { callback_(reply_.finish(outcome)); }

   private:
    Callback callback_;
    typed_reply<Response> reply_;
  };

 private:
  Callback callback_;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace uredis::proto
