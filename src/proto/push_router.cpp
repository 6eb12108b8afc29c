#include "uredis/proto/push_router.hpp"

#include <cstring>
#include <utility>

namespace uredis::proto {

push_kind push_kind_of(std::string_view name) noexcept {
  struct entry {
    std::string_view name;
    push_kind kind;
  };
  static constexpr entry table[] = {
      {"invalidate", push_kind::invalidate}, {"message", push_kind::message},
      {"pmessage", push_kind::pmessage},     {"smessage", push_kind::smessage},
      {"subscribe", push_kind::subscribe},   {"unsubscribe", push_kind::unsubscribe},
      {"psubscribe", push_kind::psubscribe}, {"punsubscribe", push_kind::punsubscribe},
      {"ssubscribe", push_kind::ssubscribe}, {"sunsubscribe", push_kind::sunsubscribe},
  };
  for (const entry& e : table)
    if (e.name == name) return e.kind;
  return push_kind::other;
}

bool names_pubsub_frame(const resp::node& first) noexcept {
  if (first.type != resp::type::bulk_string && first.type != resp::type::simple_string)
    return false;
  const push_kind kind = push_kind_of(first.value);
  return kind != push_kind::other && kind != push_kind::invalidate;
}

void push_router::on_node(const resp::node& n) {
  if (n.depth == 0) {
    size_ = n.size;
    seen_ = 0;
    kind_ = push_kind::other;
    invalidating_all_ = false;
    count_ = 0;
    return;
  }
  if (n.depth > 1) {
    // Inside an element: only invalidation keys are read there, each passed on at once.
    if (kind_ == push_kind::invalidate && invalidation_ != nullptr && n.depth == 2 &&
        !resp::is_aggregate(n.type))
      invalidation_->on_invalidate(n.value);
    return;
  }
  const std::uint64_t index = seen_++;
  if (index == 0) kind_ = push_kind_of(n.value);
  // RESP2 tracking redirected here: a message on the invalidation channel whose payload is the
  // key list (or a null: every key), read as an invalidate frame.
  if (index == 1 && kind_ == push_kind::message && invalidation_ != nullptr &&
      n.value == invalidation_channel)
    kind_ = push_kind::invalidate;
  if (index == 2 && kind_ == push_kind::invalidate && n.type == resp::type::null)
    invalidating_all_ = true;
  if (index < kept) {
    const bool scalar = !resp::is_aggregate(n.type);
    element_data_[index] = scalar ? n.value.data() : nullptr;
    element_size_[index] = scalar ? n.value.size() : 0;
  }
  if (n.type == resp::type::integer) count_ = n.integer;
  if (index == 1 && kind_ == push_kind::invalidate && n.type == resp::type::null)
    invalidating_all_ = true;
}

push_kind push_router::finish() {
  const push_kind kind = kind_;
  dispatch();
  pinned_.clear();
  seen_ = 0;
  return kind;
}

void push_router::dispatch() {
  const auto element = [this](std::uint64_t i) {
    return i < seen_ && i < kept ? std::string_view(element_data_[i], element_size_[i])
                                 : std::string_view{};
  };
  switch (kind_) {
    case push_kind::invalidate:
      if (invalidation_ == nullptr) break;
      if (invalidating_all_) invalidation_->on_invalidate_all();
      return;  // the keys went out one by one
    case push_kind::message:
    case push_kind::smessage:
      if (subscription_ == nullptr || seen_ < 3) break;
      subscription_->on_message({kind_, {}, element(1), element(2)});
      return;
    case push_kind::pmessage:
      if (subscription_ == nullptr || seen_ < 4) break;
      subscription_->on_message({kind_, element(1), element(2), element(3)});
      return;
    case push_kind::subscribe:
    case push_kind::unsubscribe:
    case push_kind::psubscribe:
    case push_kind::punsubscribe:
    case push_kind::ssubscribe:
    case push_kind::sunsubscribe:
      if (subscription_ == nullptr) break;
      subscription_->on_subscription({kind_, element(1), count_});
      return;
    case push_kind::other:
      break;
  }
  if (!other_) return;
  const std::size_t held = seen_ < kept ? static_cast<std::size_t>(seen_) : kept;
  push_frame frame;
  frame.kind = element(0);
  for (std::size_t i = 1; i < held; ++i)
    other_elements_[i] = element(i);
  if (held > 1)
    frame.elements = std::span<const std::string_view>(other_elements_.data() + 1, held - 1);
  frame.size = size_ > 0 ? size_ - 1 : 0;
  other_(frame);
}

void push_router::pin() {
  const std::size_t held = seen_ < kept ? static_cast<std::size_t>(seen_) : kept;
  std::size_t total = 0;
  for (std::size_t i = 0; i < held; ++i)
    total += element_size_[i];
  if (total == 0) return;
  // The views may point into pinned_ itself (an earlier pin): copy into the other buffer.
  spare_.clear();
  char* out = spare_.prepare(total).data();
  for (std::size_t i = 0; i < held; ++i) {
    if (element_size_[i] != 0) std::memcpy(out, element_data_[i], element_size_[i]);
    element_data_[i] = out;
    out += element_size_[i];
  }
  spare_.commit(total);
  std::swap(pinned_, spare_);
}

void push_router::reset() noexcept {
  seen_ = 0;
  size_ = 0;
  kind_ = push_kind::other;
  pinned_.clear();
}

}  // namespace uredis::proto
