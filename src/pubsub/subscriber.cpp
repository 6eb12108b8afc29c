#include "uredis/pubsub/subscriber.hpp"

#include <algorithm>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/proto/pending.hpp"

namespace uredis::pubsub {
namespace detail {

// Shared by a subscriber and the (un)subscribe commands it has in flight, which a shared
// connection may complete after the subscriber is gone: they find `owner` null then.
struct link {
  subscriber* owner = nullptr;
  std::uint32_t refs = 1;  // the subscriber's own

  static void release(link* l) noexcept {
    if (l != nullptr && --l->refs == 0) delete l;
  }
  void finished(std::uint64_t ticket, const result<void>& outcome) {
    if (owner != nullptr) owner->finished(ticket, outcome);
  }
};

// A claim on the link, for one (un)subscribe in flight: it says how the command ended.
class ticket {
 public:
  ticket(link* l, std::uint64_t number) noexcept : link_(l), number_(number) { ++link_->refs; }
  ticket(ticket&& other) noexcept
      : link_(std::exchange(other.link_, nullptr)), number_(other.number_) {}
  ticket(const ticket&) = delete;
  ticket& operator=(const ticket&) = delete;
  ticket& operator=(ticket&&) = delete;
  ~ticket() { link::release(link_); }

  // Confirmed (no error), refused (an error reply) or failed (the connection's error).
  void finish(const proto::reply_outcome& o) {
    if (o.error) return link_->finished(number_, o.error);
    if (o.error_reply != nullptr)
      return link_->finished(number_, server_error::parse(o.error_reply->value));
    link_->finished(number_, {});
  }

 private:
  link* link_;
  std::uint64_t number_;
};

// The reply handler of one (un)subscribe (proto/pending.hpp).
struct request_handler {
  ticket t;
  void on_complete(const proto::reply_outcome& o) { t.finish(o); }

  struct active {
    explicit active(request_handler&& q) noexcept : t(std::move(q.t)) {}
    ticket t;
    void on_node(const resp::node&) noexcept {}
    void on_complete(const proto::reply_outcome& o) { t.finish(o); }
  };
};

}  // namespace detail

subscriber::subscriber(connection& shared)
    : conn_(&shared), subscriptions_(&shared.events(), shared.id()), link_(new detail::link{this}) {
  attach();
}

subscriber::subscriber(reactor::reactor& r, connection_config config)
    : owned_(std::make_unique<connection>(r, std::move(config))),
      conn_(owned_.get()),
      subscriptions_(&owned_->events(), owned_->id()),
      link_(new detail::link{this}) {
  attach();
}

void subscriber::attach() {
  conn_->pushes().set_subscription_hook(&subscriptions_);
  conn_->add_handshake_step(subscriptions_);
  conn_->set_subscribed(true);
}

subscriber::~subscriber() {
  link_->owner = nullptr;
  const struct release_link {
    detail::link* l;
    ~release_link() { detail::link::release(l); }
  } release{link_};
  if (owned_) return;  // the connection goes with everything on it
  // A shared connection goes on: the server must stop sending what nobody will read. While it
  // reconnects too: a SUBSCRIBE queued for the new socket goes out there, and the UNSUBSCRIBEs
  // queued behind it undo it. (An idle or closed connection refuses them at once.)
  for (const auto family :
       {proto::subscription_family::channel, proto::subscription_family::pattern,
        proto::subscription_family::shard}) {
    subscriptions_.for_each(family, [&](std::string_view name) {
      conn_->enqueue(proto::subscription_command{family, false, name},
                     detail::request_handler{{link_, 0}});
    });
  }
  conn_->pushes().set_subscription_hook(nullptr);
  // RESP2 stays subscriber-only: unsubscribing takes round trips, and a reply read as a message
  // meanwhile would break the connection. RESP3 reads everything apart anyway.
  if (conn_->protocol() == 3) conn_->set_subscribed(false);
}

void subscriber::request(proto::subscription_family family, std::string_view name,
                         message_handler* handler, done_callback done) {
  const bool subscribe = handler != nullptr;
  if (subscribe) {
    subscriptions_.add(family, name, std::move(*handler));
  } else if (!subscriptions_.remove(family, name)) {
    if (done) done({});  // nothing to undo on the server
    return;
  }
  if (!subscribe && family == proto::subscription_family::shard)
    subscriptions_.unsubscribe_sent(name);
  const std::uint64_t ticket = next_ticket_++;
  in_flight_.push_back({ticket, family, subscribe, std::string(name), std::move(done)});
  conn_->enqueue(proto::subscription_command{family, subscribe, name},
                 detail::request_handler{{link_, ticket}});
}

void subscriber::finished(std::uint64_t ticket, const result<void>& outcome) {
  const auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                               [&](const in_flight& r) { return r.ticket == ticket; });
  if (it == in_flight_.end()) return;
  in_flight r = std::move(*it);
  in_flight_.erase(it);
  if (!r.subscribe && r.family == proto::subscription_family::shard)
    subscriptions_.unsubscribe_done(r.name);
  // A subscription the server refused, or that never left (the connection idle, closed or
  // full), is not one: unless a later request for the same name is on its way, forget it (it
  // would come back at the next reconnect otherwise). Any other failure (a timeout, a lost
  // connection) keeps it: the server may well have taken it, and every handshake subscribes
  // to the registry again, so forgetting it would leave the server sending unrouted messages.
  const bool refused = outcome.has_server_error() ||
                       (outcome.has_error() && (outcome.error() == errc::not_connected ||
                                                outcome.error() == errc::queue_full));
  if (refused && r.subscribe) {
    const bool again = std::any_of(in_flight_.begin(), in_flight_.end(), [&](const in_flight& o) {
      return o.family == r.family && o.name == r.name;
    });
    if (!again) subscriptions_.remove(r.family, r.name);
  }
  if (r.done) r.done(outcome);
}

}  // namespace uredis::pubsub
