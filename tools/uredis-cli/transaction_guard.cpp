#include "transaction_guard.hpp"

#include <strings.h>

namespace uredis::cli {
namespace {

bool same(const std::string& a, const char* b) noexcept {
  return ::strcasecmp(a.c_str(), b) == 0;
}

}  // namespace

transaction_guard::verdict transaction_guard::on_send(std::span<const std::string> args) noexcept {
  if (args.empty() || args[0].empty()) return verdict::send;
  const std::string& c = args[0];
  // Called for every command: the first letter rules most of them out without a compare.
  const char first = static_cast<char>(c[0] | 0x20);  // ASCII lower case
  const bool multi = first == 'm' && same(c, "multi");
  const bool watch = first == 'w' && same(c, "watch");
  const bool unwatch = first == 'u' && same(c, "unwatch");
  const bool ends = (first == 'e' && same(c, "exec")) || (first == 'd' && same(c, "discard"));

  if (multi_ == state::lost) {
    if (ends) multi_ = state::none;
    return verdict::refuse;
  }
  if (watch_ == state::lost) {
    if (unwatch || ends) {
      watch_ = state::none;
      return verdict::refuse;
    }
    if (multi) {
      watch_ = state::none;
      multi_ = state::lost;  // refused through its EXEC or DISCARD
      return verdict::refuse;
    }
    return verdict::send;  // commands between a lost WATCH and MULTI run as usual
  }

  const bool inside = multi_ == state::open || watch_ == state::open;
  if (multi) {
    multi_ = state::open;
    return verdict::send_inside;
  }
  if (watch) {
    watch_ = state::open;
    return verdict::send_inside;
  }
  if (ends) {
    multi_ = state::none;
    watch_ = state::none;
  } else if (unwatch && multi_ != state::open) {
    watch_ = state::none;
  }
  return inside ? verdict::send_inside : verdict::send;
}

bool transaction_guard::on_connection_lost(std::size_t waiting_inside) noexcept {
  const bool matters = multi_ == state::open || watch_ == state::open || waiting_inside > 0;
  if (multi_ == state::open) multi_ = state::lost;
  if (watch_ == state::open) watch_ = state::lost;
  return matters;
}

}  // namespace uredis::cli
