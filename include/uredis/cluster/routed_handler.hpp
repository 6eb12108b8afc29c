#pragma once
// routed_handler: the reply handler of a command a cluster client routed by its slot. It holds
// the caller's callback and the command's redirect_state; when the command ends in a MOVED, an
// ASK, a TRYAGAIN or a CLUSTERDOWN, or its node failed before sending it (its bytes came back,
// pipeline::fail_all), it hands itself back to the client with the verdict, and the client
// sends the command's kept bytes on (or waits, then routes them again). The callback runs once,
// with the final reply typed as on a single server, or errc::cluster_too_many_redirects.
//
//   queued (56 bytes at most: the callback may take 40)   callback, client, slot, state,
//                                                         flags (keyed, idempotent, probe), the
//                                                         replica it was sent to
//   active (in the pipeline's reply slot)                 + the typed reply being read; after
//                                                         an ASK, ASKING's reply is skipped and
//                                                         the command's error reply is read
//                                                         from its node (a batch of two replies
//                                                         hands its error replies over as nodes)
//
// Generic over the client (cluster_client.hpp), which must offer:
//   bool closing()                          the client is going away: deliver as is
//   std::string_view replying_host()        fills in a redirect's empty endpoint
//   bool follow(verdict, handler&, deadline) acts on the verdict, moving the handler on (or
//                                           timing it out: time_out()); false when there is
//                                           nothing to follow (give_up, deliver)
//   void held_answered(slot, bool gave_up)  its slot's probe (held_slots.hpp) has its final
//                                           answer: the commands held behind it may go

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "uredis/cluster/redirect_state.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/typed_reply.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster::detail {

// GCC 12's false -Wmaybe-uninitialized on a moved result: see proto/callback_handler.hpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class Client, class Response, class Callback>
class routed_handler {
  static_assert(proto::detail::views_are_safe<Response>,
                "a string_view inside an aggregate reply may dangle: read it into std::string");
  static_assert(std::is_nothrow_move_constructible_v<Callback>,
                "the callback must be nothrow move constructible");

 public:
  routed_handler(Callback callback, Client& client, std::uint16_t slot, bool keyed,
                 bool idempotent) noexcept
      : callback_(std::move(callback)),
        client_(&client),
        slot_(slot),
        flags_(static_cast<std::uint8_t>((keyed ? keyed_flag : 0) |
                                         (idempotent ? idempotent_flag : 0))) {}
  routed_handler(routed_handler&&) noexcept = default;

  std::uint16_t slot() const noexcept { return slot_; }
  bool keyed() const noexcept { return (flags_ & keyed_flag) != 0; }
  bool idempotent() const noexcept { return (flags_ & idempotent_flag) != 0; }
  /// The command went out as its held slot's probe (held_slots.hpp): its final answer lets
  /// the commands held behind it go. Set by the client each time it sends a held command, so
  /// that one released behind a probe (or a hold's unordered commands) never counts as one.
  bool probe() const noexcept { return (flags_ & probe_flag) != 0; }
  void set_probe(bool on) noexcept {
    flags_ = static_cast<std::uint8_t>(on ? flags_ | probe_flag : flags_ & ~probe_flag);
  }
  /// Its deadline passed before it could be sent on: errc::timeout, as on a single server.
  void time_out() { finish(result<Response>(errc::timeout), false); }
  redirect_state& state() noexcept { return state_; }
  /// The replica the command was sent to (a read, read_router.hpp), or 0xFFFF: sent to a
  /// primary. A replica that redirects or loses the read is skipped by the client.
  std::uint16_t replica() const noexcept { return replica_; }
  void set_replica(std::uint16_t node) noexcept { replica_ = node; }

  /// The reply never began: the connection's error; with the request bytes, the command never
  /// reached its node and is routed again.
  void on_complete(const proto::reply_outcome& o) {
    if (!o.request.empty() && !client_->closing()) {
      const redirect_verdict v = state_.on_unsent(o.request);
      if (client_->follow(v, *this, o.deadline)) return;
      finish(result<Response>(errc::cluster_too_many_redirects), true);
      return;
    }
    finish(result<Response>(o.error), false);
  }

  class active {
   public:
    explicit active(routed_handler&& queued) noexcept
        : queued_(std::move(queued)), skip_asking_(queued_.state_.asking()) {}
    active(const active&) = delete;
    active& operator=(const active&) = delete;

    void on_node(const resp::node& n) {
      if (skip_asking_) {  // ASKING's own reply
        asking_reply_.count(n);
        if (asking_reply_.done()) skip_asking_ = false;
        return;
      }
      if (queued_.state_.asking() && n.depth == 0 && resp::is_error(n.type)) {
        error_.assign(n.value);  // the command's error reply, inside the ASKING batch
        has_error_ = true;
        return;
      }
      reply_.on_node(n);
    }

    void on_complete(const proto::reply_outcome& o) {
      routed_handler& q = queued_;
      if (!o.error) {
        std::string_view text;
        if (o.error_reply != nullptr) text = o.error_reply->value;
        if (has_error_) text = error_;
        if (redirect_state::may_redirect(text) && !q.client_->closing()) {
          const redirect_verdict v =
              q.state_.on_error_reply(text, o.request, q.client_->replying_host());
          if (v.what == redirect_verdict::action::give_up) {
            q.finish(result<Response>(errc::cluster_too_many_redirects), true);
            return;
          }
          if (v.what != redirect_verdict::action::deliver && q.client_->follow(v, q, o.deadline))
            return;
        }
        if (has_error_) {
          q.finish(result<Response>(server_error::parse(error_)), false);
          return;
        }
      }
      q.finish(reply_.finish(o), false);
    }

   private:
    routed_handler queued_;
    proto::typed_reply<Response> reply_;
    resp::detail::element_counter asking_reply_;
    std::string error_;
    bool skip_asking_;
    bool has_error_ = false;
  };

 private:
  static constexpr std::uint8_t keyed_flag = 1;
  static constexpr std::uint8_t idempotent_flag = 2;
  static constexpr std::uint8_t probe_flag = 4;

  // The final answer. A probe's slot lets the commands held behind it go first, so those are
  // sent before anything the callback issues.
  void finish(result<Response>&& r, bool gave_up) {
    if (probe() && keyed() && !client_->closing()) client_->held_answered(slot_, gave_up);
    callback_(std::move(r));
  }

  Callback callback_;
  Client* client_;
  std::uint16_t slot_;
  redirect_state state_;
  std::uint8_t flags_;
  std::uint16_t replica_ = 0xFFFF;  // slot_map::no_node
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace uredis::cluster::detail
