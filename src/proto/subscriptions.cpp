#include "uredis/proto/subscriptions.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/event/events.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::proto {
namespace {

std::string_view verb(subscription_family f, bool subscribe) noexcept {
  switch (f) {
    case subscription_family::channel:
      return subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
    case subscription_family::pattern:
      return subscribe ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
    case subscription_family::shard:
      return subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
  }
  return {};
}

constexpr subscription_family families[] = {
    subscription_family::channel, subscription_family::pattern, subscription_family::shard};

}  // namespace

void subscription_command::encode(resp::encoder& e) const {
  e.begin(2);
  e.arg(verb(family, subscribe));
  e.arg(name);
}

push_kind subscription_command::confirmed_by() const noexcept {
  switch (family) {
    case subscription_family::channel:
      return subscribe ? push_kind::subscribe : push_kind::unsubscribe;
    case subscription_family::pattern:
      return subscribe ? push_kind::psubscribe : push_kind::punsubscribe;
    case subscription_family::shard:
      return subscribe ? push_kind::ssubscribe : push_kind::sunsubscribe;
  }
  return push_kind::other;
}

subscriptions::~subscriptions() {
  if (destroyed_while_running_ != nullptr) *destroyed_while_running_ = true;
}

void subscriptions::add(subscription_family family, std::string_view name,
                        message_handler handler) {
  table& t = names(family);
  const auto it = t.find(name);
  if (it == t.end()) {
    t.emplace(std::string(name), std::move(handler));
  } else if (&it->second == running_) {
    running_removed_ = false;  // replaced while it runs: swapped in after it returns
    running_replacement_ = std::move(handler);
  } else {
    it->second = std::move(handler);
  }
}

bool subscriptions::remove(subscription_family family, std::string_view name) {
  table& t = names(family);
  const auto it = t.find(name);
  if (it == t.end()) return false;
  if (&it->second != running_) {
    if (&it->second == last_handler_) last_handler_ = nullptr;
    t.erase(it);
    return true;
  }
  if (running_removed_) return false;
  running_removed_ = true;  // erased after it returns
  running_replacement_ = {};
  return true;
}

bool subscriptions::contains(subscription_family family, std::string_view name) const {
  const table& t = names(family);
  const auto it = t.find(name);
  return it != t.end() && !(&it->second == running_ && running_removed_);
}

std::size_t subscriptions::size() const noexcept {
  std::size_t n = 0;
  for (const table& t : tables_)
    n += t.size();
  return n - (running_removed_ ? 1 : 0);
}

void subscriptions::on_message(const pubsub_message& m) {
  const subscription_family family = m.kind == push_kind::pmessage   ? subscription_family::pattern
                                     : m.kind == push_kind::smessage ? subscription_family::shard
                                                                     : subscription_family::channel;
  // A reference, not a copy: a copied view is one 16-byte load of what the push router wrote as
  // two 8-byte stores, which the CPU cannot forward (a stall, per message).
  const std::string_view& name = family == subscription_family::pattern ? m.pattern : m.channel;
  table& t = names(family);
  message_handler* found = nullptr;
  if (last_handler_ != nullptr && last_family_ == family && *last_name_ == name) {
    found = last_handler_;
  } else if (const auto it = t.find(name); it != t.end()) {
    found = &it->second;
    last_family_ = family;
    last_name_ = &it->first;
    last_handler_ = found;
  }
  if (found == nullptr || running_ != nullptr) {
    // running_: a handler's call delivered a message itself (it cannot: messages come from
    // the connection's input, which a handler does not read); counted, never recursed into.
    ++unrouted_;
    return;
  }
  ++delivered_;
  message_handler& handler = *found;
  running_ = &handler;
  bool destroyed = false;  // by the handler: then nothing of this may be touched after it
  destroyed_while_running_ = &destroyed;
  struct finish_running {
    subscriptions& self;
    table& t;
    const std::string_view& name;
    const bool& destroyed;
    ~finish_running() {
      if (destroyed) return;
      self.destroyed_while_running_ = nullptr;
      self.running_ = nullptr;
      if (self.running_removed_) {
        self.running_removed_ = false;
        self.last_handler_ = nullptr;
        t.erase(t.find(name));
      } else if (self.running_replacement_) {
        t.find(name)->second = std::move(self.running_replacement_);
        self.running_replacement_ = {};
      }
    }
  } guard{*this, t, name, destroyed};
  handler(m);
}

void subscriptions::unsubscribe_sent(std::string_view shard_channel) {
  ++leaving_[std::string(shard_channel)];
}

void subscriptions::unsubscribe_done(std::string_view shard_channel) {
  const auto it = leaving_.find(shard_channel);
  if (it != leaving_.end() && --it->second == 0) leaving_.erase(it);
}

void subscriptions::on_subscription(const subscription_change& c) {
  // An unsubscribe of a name still registered, and not on its way (an asked one is unregistered
  // before it is sent, but may be registered again before its confirmation comes), was not
  // asked for: the server dropped it. Only shard channels are dropped so.
  if (c.kind == push_kind::sunsubscribe && !c.channel.empty() &&
      contains(subscription_family::shard, c.channel) && !leaving_.contains(c.channel)) {
    const std::string name(c.channel);  // the view dies with the frame; the handler may outlive
    remove(subscription_family::shard, name);
    if (dropped_) dropped_(name);
    return;
  }
  if (!restoring_) return;
  if (c.kind == push_kind::subscribe || c.kind == push_kind::psubscribe ||
      c.kind == push_kind::ssubscribe)
    ++confirmed_;
}

// SSUBSCRIBE takes the shard channels of one slot only: a cluster node answers CROSSSLOT to
// channels of two slots, even when it serves both. One command per slot, in slot order.
void subscriptions::write_shard_channels(resp::encoder& out) const {
  std::vector<std::pair<std::uint16_t, std::string_view>> by_slot;  // once per reconnect
  by_slot.reserve(names(subscription_family::shard).size());
  for (const auto& [name, handler] : names(subscription_family::shard))
    by_slot.emplace_back(util::key_slot(name), name);
  std::sort(by_slot.begin(), by_slot.end());
  for (std::size_t first = 0; first < by_slot.size();) {
    std::size_t end = first;
    while (end < by_slot.size() && by_slot[end].first == by_slot[first].first)
      ++end;
    out.begin(1 + (end - first));
    out.arg(verb(subscription_family::shard, true));
    for (std::size_t i = first; i < end; ++i)
      out.arg(by_slot[i].second);
    first = end;
  }
}

std::size_t subscriptions::write(resp::encoder& out, const handshake_params&, resp_version) {
  restoring_ = false;
  if (size() == 0) return 0;
  for (const subscription_family f : families) {
    const table& t = names(f);
    if (t.empty()) continue;
    if (f == subscription_family::shard) {
      write_shard_channels(out);
      continue;
    }
    out.begin(1 + t.size());
    out.arg(verb(f, true));
    for (const auto& [name, handler] : t)
      out.arg(name);
  }
  // Its reply comes after every confirmation: the subscriptions are back when it arrives.
  out.command("PING");
  restoring_ = true;
  confirmed_ = 0;
  return 1;
}

result<void> subscriptions::on_node(const resp::node& n, std::size_t) {
  if (n.depth != 0) return {};
  restoring_ = false;
  if (resp::is_error(n.type)) return server_error::parse(n.value);  // a refused subscription
  restored_ = confirmed_;
  if (events_ != nullptr) events_->emit(event::subscriptions_restored{connection_id_, restored_});
  return {};
}

}  // namespace uredis::proto
