#include "uredis/sentinel/discovery.hpp"

#include <cassert>
#include <charconv>
#include <numeric>
#include <utility>

#include "uredis/error.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis::sentinel {

discovery::discovery(std::vector<endpoint> sentinels)
    : sentinels_(std::move(sentinels)), order_(sentinels_.size()) {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

void discovery::start() noexcept {
  assert(!running_ && !sentinels_.empty());
  running_ = true;
  found_ = false;
  position_ = 0;
  unknown_ = 0;
  invalid_ = 0;
  refused_.clear();
}

void discovery::on_primary(endpoint primary) {
  assert(running_);
  primary_ = std::move(primary);
  found_ = true;
  running_ = false;
  // The one that answered goes first; the others keep their order behind it.
  const std::size_t answered = order_[position_];
  order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(position_));
  order_.insert(order_.begin(), answered);
}

void discovery::on_unknown() noexcept {
  assert(running_);
  ++unknown_;
  next();
}

void discovery::on_failed(std::error_code why) noexcept {
  assert(running_);
  if (why == errc::sentinel_reply_invalid) {
    ++invalid_;
  } else if (!retry::is_transient(why)) {
    refused_ = why;
  }
  next();
}

void discovery::next() noexcept {
  if (++position_ == order_.size()) running_ = false;
}

std::error_code discovery::error() const noexcept {
  if (found_) return {};
  if (unknown_ > 0) return make_error_code(errc::sentinel_service_unknown);
  if (invalid_ > 0) return make_error_code(errc::sentinel_reply_invalid);
  if (refused_) return refused_;
  return make_error_code(errc::sentinel_unreachable);
}

std::uint16_t parse_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5) return 0;
  for (const char c : text)
    if (c < '0' || c > '9') return 0;
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value >= 1 && value <= 65535 ? static_cast<std::uint16_t>(value) : 0;
}

result<endpoint> parse_primary_address(const std::vector<std::string>& answer) {
  if (answer.size() != 2 || answer[0].empty()) return errc::sentinel_reply_invalid;
  const std::uint16_t port = parse_port(answer[1]);
  if (port == 0) return errc::sentinel_reply_invalid;
  return endpoint{answer[0], port};
}

}  // namespace uredis::sentinel
