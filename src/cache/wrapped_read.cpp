#include "uredis/cache/wrapped_read.hpp"

#include <algorithm>

#include "uredis/error.hpp"
#include "uredis/resp/node_writer.hpp"

namespace uredis::cache {

void wrapped_reply::fail(const resp::node& error) {
  failed_ = true;
  out_->clear();
  resp::node top = error;
  top.depth = 0;
  resp::write_node(*out_, top);
}

void wrapped_reply::on_node(const resp::node& n) {
  if (n.depth == 0) ++reply_;
  if (failed_ || error_) return;  // the first failure is the one reported; the rest is read
  if (n.depth == 0) {
    if (resp::is_error(n.type) && caching_ && reply_ == 1) {
      untracked_ = true;
      return;
    }
    if (resp::is_error(n.type)) return fail(n);
    if (reply_ - 1 < exec_) return;  // +OK and +QUEUED
    if (n.type == resp::type::null) {
      error_ = make_error_code(errc::watch_conflict);
    } else if (n.type != resp::type::array || n.size != std::uint64_t{keys_} + 1) {
      error_ = make_error_code(errc::type_mismatch);
    }
    return;
  }
  // Inside EXEC's array: the PTTLs, then the read's reply.
  if (n.depth == 1) ++element_;
  if (element_ <= keys_) {
    if (resp::is_error(n.type)) return fail(n);
    if (n.type != resp::type::integer) {
      error_ = make_error_code(errc::type_mismatch);
    } else if (n.integer == -2 || pttl_ == -2) {
      pttl_ = -2;  // a missing key decides
    } else if (n.integer >= 0) {
      pttl_ = pttl_ < 0 ? n.integer : std::min(pttl_, n.integer);
    }
    return;
  }
  if (n.depth == 1 && resp::is_error(n.type)) return fail(n);
  resp::write_node(*out_, n);
}

}  // namespace uredis::cache
