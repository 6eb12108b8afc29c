#pragma once
// routed_awaiter: one call of the cluster's coroutine API (cluster/client.hpp) over the callback
// API of cluster_client. `co_await c.exec(cmd::get{"k"})` hands cluster_client a callback that is
// a single pointer back to this awaiter; the callback keeps the result here and resumes the
// coroutine. Routing, redirects, splits and refusals are cluster_client's: the coroutine sees
// what a callback would have, as a result<Response>.
//
//   routed_awaiter (in the coroutine's frame)       cluster_client -> node connection's FIFO
//   ┌─────────────────────────────────┐            ┌──────────────────────────────────────┐
//   │ Request (the descriptor, or what│            │ routed_handler{callback{this}, slot, │
//   │   names the transaction/script) │ ◄──────────┤   redirect state} -> typed reply     │
//   │ optional<result<Response>>      │            └──────────────────────────────────────┘
//   │ coroutine_handle                │
//   └─────────────────────────────────┘
//
// No allocation per command in steady state: the callback fits the router's inline storage,
// and the result lives here (a split MGET allocates its merge state, as on the callback API).
//
// When things happen: await_suspend sends the request (the descriptor is encoded then, so the
// arguments it views must live until the co_await ends: await in the expression that built
// it). A request refused at once (cross-slot, an unknown node) completes inside that call and
// the coroutine does not suspend. Otherwise the coroutine is resumed from the reactor's
// completion dispatch, on the shard's thread, once, with the final reply or the error.
//
// Invariants: awaited once, never moved; a coroutine suspended here must not be destroyed
// before it resumes (the router holds a pointer to the awaiter; destroying the cluster_client
// resumes it with errc::connection_closed).
//
// The Request kinds (detail::): command_request (exec), transaction_request, script_request,
// node_request (exec_on). Each says its response type and how cluster_client sends it.

#include <coroutine>
#include <optional>
#include <utility>

#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster {

namespace detail {

template <cmd::descriptor D>
struct command_request {
  using response = cmd::response_t<D>;
  D command;

  template <class Callback>
  void send(cluster_client& c, Callback callback, const exec_options& options) const {
    c.exec(command, std::move(callback), options);
  }
};

template <class... Commands>
struct transaction_request {
  using response = typename transaction<Commands...>::results;
  const transaction<Commands...>* tx;

  template <class Callback>
  void send(cluster_client& c, Callback callback, const exec_options& options) const {
    c.exec(*tx, std::move(callback), options);
  }
};

template <class Response>
struct script_request {
  using response = Response;
  const script* code;
  cmd::arg_list keys;
  cmd::arg_list args;

  template <class Callback>
  void send(cluster_client& c, Callback callback, const exec_options& options) const {
    c.run<Response>(*code, keys, args, std::move(callback), options);
  }
};

template <cmd::descriptor D>
struct node_request {
  using response = cmd::response_t<D>;
  const node_address* address;
  D command;

  template <class Callback>
  void send(cluster_client& c, Callback callback, const exec_options& options) const {
    c.exec_on(*address, command, std::move(callback), options);
  }
};

}  // namespace detail

template <class Request>
class [[nodiscard]] routed_awaiter {
 public:
  using response = typename Request::response;

  // The coroutine keeps its reply past the read buffer, which moves on to the next reply.
  static_assert(!proto::detail::holds_view<response>::value,
                "a coroutine keeps its reply past the read buffer: read strings into std::string");

  routed_awaiter(cluster_client& c, const Request& request, const exec_options& options) noexcept
      : client_(&c), request_(request), options_(options) {}
  routed_awaiter(const routed_awaiter&) = delete;
  routed_awaiter& operator=(const routed_awaiter&) = delete;

  bool await_ready() const noexcept { return false; }

  /// Sends the request; false (do not suspend) when it completed meanwhile (refused).
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    request_.send(*client_, callback{this}, options_);
    if (outcome_) return false;
    suspended_ = true;
    return true;
  }

  result<response> await_resume() { return std::move(*outcome_); }

 private:
  // What cluster_client keeps in its handler: one pointer.
  struct callback {
    routed_awaiter* self;
    void operator()(result<response> r) { self->complete(std::move(r)); }
  };

  void complete(result<response>&& r) {
    outcome_.emplace(std::move(r));
    // Last: the coroutine may finish and free this awaiter.
    if (suspended_) awaiting_.resume();
  }

  cluster_client* client_;
  Request request_;
  exec_options options_;
  std::optional<result<response>> outcome_;
  std::coroutine_handle<> awaiting_;
  bool suspended_ = false;
};

}  // namespace uredis::cluster
