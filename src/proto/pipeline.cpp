#include "uredis/proto/pipeline.hpp"

#include <utility>

#include "uredis/error.hpp"

namespace uredis::proto {

pipeline::pipeline(const resp::limits& limits) : parser_(limits) {}

void pipeline::reset() noexcept {
  parser_.reset();
  push_builder_.reset();
  state_ = reading::idle;
}

void pipeline::finish_command(const reply_outcome& outcome) {
  // Idle first: the completion may push commands or fail the pipeline.
  state_ = reading::idle;
  active_.complete(outcome);
}

pipeline::feed_result pipeline::feed(std::string_view bytes) {
  feed_result r;
  const std::uint64_t failures_before = failures_;
  resp::node n;
  for (;;) {
    const resp::step s = parser_.next(bytes.substr(r.consumed), n);
    if (s.status == resp::outcome::need_more) return r;
    if (s.status == resp::outcome::error) {
      r.error = parser_.error();
      fail_all(r.error);
      return r;
    }
    r.consumed += s.consumed;

    if (state_ == reading::idle && !n.in_attribute) {
      if (n.type == resp::type::push && n.depth == 0) {
        state_ = reading::push_frame;
      } else if (queue_.empty()) {
        r.error = make_error_code(errc::unexpected_reply);
        fail_all(r.error);
        return r;
      } else {
        queue_.front().activate(active_);
        queue_.pop_front();
        state_ = reading::command_reply;
        if (n.depth == 0 && resp::is_error(n.type)) {
          finish_command({{}, &n});
          if (failures_ != failures_before) return {r.consumed, {}, true};
          continue;
        }
      }
    }

    switch (state_) {
      case reading::idle:
        break;  // an attribute before a reply: it decorates, nobody needs it
      case reading::command_reply:
        if (!n.in_attribute) active_.on_node(n);
        if (parser_.done()) {
          finish_command({});
          if (failures_ != failures_before) return {r.consumed, {}, true};
        }
        break;
      case reading::push_frame:
        push_builder_.on_node(n);
        if (parser_.done()) {
          state_ = reading::idle;
          if (push_handler_) push_handler_(push_frame_);
          push_builder_.reset();
          if (failures_ != failures_before) return {r.consumed, {}, true};
        }
        break;
    }
  }
}

void pipeline::fail_all(std::error_code ec) {
  ++failures_;
  reset();
  if (active_) active_.complete({ec, nullptr});
  // A completion may push new commands (a retry): they belong to the next connection, so only
  // the commands queued now are failed.
  for (std::size_t n = queue_.size(); n > 0 && !queue_.empty(); --n) {
    pending failed = std::move(queue_.front());
    queue_.pop_front();
    failed.complete({ec, nullptr});
  }
}

}  // namespace uredis::proto
