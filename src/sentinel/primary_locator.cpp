#include "uredis/sentinel/primary_locator.hpp"

#include <cassert>
#include <chrono>
#include <utility>

#include "uredis/cmd/raw.hpp"
#include "uredis/error.hpp"
#include "uredis/retry/retry_policy.hpp"
#include "uredis/sentinel/switch_master.hpp"

namespace uredis::sentinel {
namespace {

// A connection to one Sentinel: its own credentials and timeout, nothing of the data
// connection's (no cache, no db, no sentinel section: it is reached directly).
connection_config sentinel_link_config(const sentinel_config& c, const endpoint& at) {
  connection_config link;
  link.host = at.host;
  link.port = at.port;
  link.username = c.username;
  link.password = c.password;
  link.connect_timeout = c.timeout;
  link.command_timeout = c.timeout;
  if (c.tls) {
    link.tls = true;
    link.tls_options = *c.tls;
  }
  return link;
}

}  // namespace

void primary_locator::rotation::locate(address_request& request) {
  const std::vector<std::size_t>& order = discovery_->order();
  if (order.empty()) return request.fail(std::make_error_code(std::errc::invalid_argument));
  request.answer(discovery_->sentinels()[order[next_++ % order.size()]]);
}

primary_locator::primary_locator(reactor::reactor& r, sentinel_config config)
    : reactor_(r),
      config_(std::move(config)),
      discovery_(config_.sentinels),
      links_(config_.sentinels.size()),
      // Any start will do as long as processes differ: the clock's low bits differ.
      replica_turns_(
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  assert(config_.enabled());
}

primary_locator::~primary_locator() {
  closing_ = true;
  restored_.reset();
  switches_.reset();
  links_.clear();  // their pending commands complete with connection_closed, ignored
  // Requests still waiting belong to connections that outlive this only if they were given
  // it by hand; they must not wait forever.
  while (!waiting_.empty()) {
    address_request& r = waiting_.front();
    waiting_.pop_front();
    r.fail(make_error_code(errc::connection_closed));
  }
}

void primary_locator::locate(address_request& request) {
  // Nobody to ask; not retried, as a typo in a service name is not.
  if (discovery_.sentinels().empty())
    return request.fail(std::make_error_code(std::errc::invalid_argument));
  waiting_.push_back(request);
  if (!discovery_.running()) start_round();
}

void primary_locator::start_round() {
  ++round_;
  round_saw_ = announced_;
  discovery_.start();
  ask();
}

connection& primary_locator::link_to(std::size_t at) {
  std::unique_ptr<connection>& link = links_[at];
  if (!link) {
    connection_config c = sentinel_link_config(config_, discovery_.sentinels()[at]);
    // A Sentinel that fails is skipped for the next, not waited for: no retries of its own.
    c.retry = retry::retry_policy::never();
    c.retry_first_connect = false;
    link = std::make_unique<connection>(reactor_, std::move(c));
  }
  const connection_state s = link->state();
  if (s == connection_state::idle || s == connection_state::closed) link->connect();
  return *link;
}

void primary_locator::ask() {
  const std::size_t at = discovery_.current();
  const std::uint64_t round = round_;
  link_to(at).exec(
      cmd::raw<std::optional<std::vector<std::string>>>{"SENTINEL", "get-master-addr-by-name",
                                                        config_.service},
      [this, at, round](const answer& a) { on_answer(at, round, a); });
}

void primary_locator::on_answer(std::size_t at, std::uint64_t round, const answer& a) {
  if (closing_ || round != round_ || !discovery_.running() || discovery_.current() != at) return;
  const std::shared_ptr<primary_locator> self = weak_from_this().lock();
  if (a.has_value()) {
    if (!a->has_value()) {
      discovery_.on_unknown();
    } else if (result<endpoint> e = parse_primary_address(**a)) {
      // A replica connection needs the list too, from the same Sentinel: the round goes on.
      if (config_.role == role::replica) return ask_replicas(at, std::move(*e));
      discovery_.on_primary(std::move(*e));
    } else {
      discovery_.on_failed(e.error());
    }
  } else {
    // An error reply (a server that is no Sentinel, NOAUTH...) and an answer of the wrong shape
    // (a nested array, a null element: the adapter's errors) are answers that cannot be read
    // as one; a connection error, that the Sentinel could not be asked.
    const bool unreadable = a.has_server_error() || a.error() == errc::type_mismatch ||
                            a.error() == errc::unexpected_null;
    discovery_.on_failed(unreadable ? make_error_code(errc::sentinel_reply_invalid) : a.error());
  }
  if (discovery_.running()) return ask();
  finish_round();
}

void primary_locator::ask_replicas(std::size_t at, endpoint primary) {
  named_ = std::move(primary);
  const std::uint64_t round = round_;
  link_to(at).exec(cmd::raw{"SENTINEL", "replicas", config_.service},
                   [this, at, round](const result<resp::reply>& a) { on_replicas(at, round, a); });
}

void primary_locator::on_replicas(std::size_t at, std::uint64_t round,
                                  const result<resp::reply>& a) {
  if (closing_ || round != round_ || !discovery_.running() || discovery_.current() != at) return;
  const std::shared_ptr<primary_locator> self = weak_from_this().lock();
  // An error reply (a Sentinel older than 5.0 has no SENTINEL replicas) cannot be read as an
  // answer: the next Sentinel is asked, as for a malformed one.
  result<std::vector<replica>> listed =
      a.has_value()
          ? parse_replicas(*a)
          : result<std::vector<replica>>(
                a.has_error() ? a.error() : make_error_code(errc::sentinel_reply_invalid));
  if (listed) {
    replicas_ = std::move(*listed);
    discovery_.on_primary(std::move(named_));
  } else {
    discovery_.on_failed(listed.error());
  }
  if (discovery_.running()) return ask();
  finish_round();
}

void primary_locator::finish_round() {
  const endpoint* found = discovery_.primary();
  const bool ok = found != nullptr;
  if (ok) {
    const endpoint now = *found;
    reactor_.events().emit(
        event::sentinel_primary_discovered{0, config_.service, now.host, now.port});
    if (closing_) return;
    // An announcement that came during the round is newer than what a Sentinel said before
    // it: keep it. Otherwise a different answer is a switch this locator missed.
    if (announced_ == round_saw_) {
      if (!known_) {
        primary_ = now;
        known_ = true;
      } else if (!(now == primary_)) {
        announce(now);
        if (closing_) return;
      }
    }
  }
  // Taken first: an answered connection may locate again (a new round, new waiters).
  util::intrusive_list<address_request, &address_request::hook> answered = std::move(waiting_);
  const std::error_code why = discovery_.error();
  while (!answered.empty()) {
    address_request& r = answered.front();
    answered.pop_front();
    if (!ok || !known_) {
      r.fail(why);
    } else if (config_.role == role::primary) {
      r.answer(primary_);
    } else if (const endpoint* next = replica_turns_.next(replicas_)) {
      const endpoint chosen = *next;  // replicas_ may change under the answer's callback
      r.answer(chosen, server_role::replica);
    } else {
      r.answer(primary_, server_role::primary);  // no usable replica: the primary serves reads
    }
    if (closing_) return;
  }
  if (ok && !switches_) follow();
}

// Subscribes to +switch-master on a Sentinel, through a connection that tries one Sentinel
// after another, forever: the locator must hear of failovers for as long as it lives.
void primary_locator::follow() {
  rotation_ = std::make_shared<rotation>(discovery_);
  connection_config c = sentinel_link_config(config_, {});
  c.address = rotation_;
  c.retry = retry::retry_policy(retry::backoff::exponential_with_jitter(
                                    std::chrono::milliseconds(50), std::chrono::seconds(1)),
                                -1);
  switches_ = std::make_unique<pubsub::subscriber>(reactor_, std::move(c));
  const std::uint64_t id = switches_->conn().id();
  // Each time the subscription is made again, a failover may have gone unheard: ask.
  restored_.emplace(reactor_.events(), [this, id](const event::subscriptions_restored& e) {
    if (e.connection_id != id || closing_) return;
    following_ = true;
    if (!discovery_.running()) start_round();
  });
  switches_->connect();
  switches_->subscribe(
      switch_master_channel, [this](const pubsub::message& m) { on_switch(m.payload); },
      [this](const result<void>& r) {
        if (closing_) return;
        following_ = r.has_value();
        if (following_ && !discovery_.running()) start_round();
      });
}

void primary_locator::on_switch(std::string_view payload) {
  if (closing_) return;
  const std::optional<switch_master> m = parse_switch_master(payload);
  if (!m || m->service != config_.service) return;
  const std::shared_ptr<primary_locator> self = weak_from_this().lock();
  announce(endpoint{std::string(m->new_host), m->new_port});
}

void primary_locator::announce(const endpoint& now) {
  if (known_ && now == primary_) return;
  const endpoint old = std::exchange(primary_, now);
  known_ = true;
  const std::uint64_t announcement = ++announced_;
  reactor_.events().emit(event::sentinel_primary_switched{0, config_.service, old.host, old.port,
                                                          primary_.host, primary_.port});
  // Each listener once: one may unregister others (a connection destroyed by a completion),
  // so the list is walked again from its head after each call.
  for (;;) {
    if (closing_ || announced_ != announcement) return;
    address_listener* next = nullptr;
    for (address_listener& l : listeners_) {
      if (l.told != announcement) {
        next = &l;
        break;
      }
    }
    if (next == nullptr) return;
    next->told = announcement;
    next->notify(primary_);
  }
}

std::shared_ptr<address_provider> make_primary_locator(reactor::reactor& r,
                                                       const sentinel_config& config) {
  return std::make_shared<primary_locator>(r, config);
}

}  // namespace uredis::sentinel
