#include "uredis/proto/pipeline.hpp"

#include <utility>

#include "uredis/error.hpp"

namespace uredis::proto {

pipeline::pipeline(const resp::limits& limits) : parser_(limits) {}

void pipeline::reset_parser() noexcept {
  parser_.reset();
  push_builder_.reset();
  state_ = reading::idle;
}

void pipeline::drop_request_bytes(const request& r) noexcept {
  requests_.consume(r.length);
  sent_ -= r.length;
}

// The first node of a reply that is not a push: the oldest command it answers becomes active.
void pipeline::begin_reply() {
  entry& head = queue_.front();
  active_request_ = head.req;
  if (head.req.expired) {
    state_ = reading::discarded_reply;
  } else {
    head.command.activate(active_);
    state_ = reading::command_reply;
  }
  queue_.pop_front();
}

void pipeline::finish_command(const reply_outcome& outcome) {
  // Idle first: the completion may push commands or fail the pipeline.
  state_ = reading::idle;
  drop_request_bytes(active_request_);
  active_.complete(outcome);
}

void pipeline::finish_discarded() noexcept {
  state_ = reading::idle;
  drop_request_bytes(active_request_);
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
      return r;
    }
    r.consumed += s.consumed;

    if (state_ == reading::idle && !n.in_attribute) {
      if (n.type == resp::type::push && n.depth == 0) {
        state_ = reading::push_frame;
      } else if (queue_.empty() || sent_ < queue_.front().req.length) {
        // Nobody asked: no command is waiting, or the oldest one was not even sent yet.
        r.error = make_error_code(errc::unexpected_reply);
        return r;
      } else {
        begin_reply();
        if (state_ == reading::command_reply && n.depth == 0 && resp::is_error(n.type)) {
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
      case reading::discarded_reply:
        if (parser_.done()) finish_discarded();
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

std::size_t pipeline::expire(time_point now, time_point& next) {
  const reply_outcome timed_out{make_error_code(errc::timeout), nullptr};
  next = time_point::max();
  bool active_expired = false;
  if (state_ == reading::command_reply && active_request_.deadline <= now) {
    active_expired = true;  // the rest of its reply is read and discarded
    state_ = reading::discarded_reply;
    active_request_.expired = true;
  } else if (state_ == reading::command_reply) {
    next = active_request_.deadline;
  }

  failed_.clear();
  bool unsent_expired = false;
  std::size_t offset = reading_command() ? active_request_.length : 0;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    entry& e = queue_[i];
    const std::size_t start = offset;
    offset += e.req.length;
    if (e.req.expired) continue;
    if (e.req.deadline > now) {
      if (e.req.deadline < next) next = e.req.deadline;
      continue;
    }
    e.req.expired = true;
    unsent_expired = unsent_expired || start >= sent_;
    failed_.emplace_back(std::move(e.command), timed_out.error);
  }
  // A command that never left must not leave later: the caller was told it timed out.
  if (unsent_expired) drop_unsent_tombstones();

  // Completions last, oldest first: each command is out of the FIFO (or a tombstone) already,
  // so whatever a completion does, every one of them completes exactly once.
  util::ring_buffer<failed_entry> failed = std::move(failed_);
  const std::size_t expired = failed.size() + (active_expired ? 1 : 0);
  if (active_expired) active_.complete(timed_out);
  while (!failed.empty()) {
    failed_entry f = std::move(failed.front());
    failed.pop_front();
    f.command.complete({f.error, nullptr});
  }
  failed_ = std::move(failed);  // its memory, for the next time
  return expired;
}

void pipeline::drop_unsent_tombstones() {
  const std::string_view bytes = requests_.data();
  std::size_t offset = reading_command() ? active_request_.length : 0;
  kept_.clear();
  kept_requests_.clear();
  kept_requests_.append(bytes.substr(0, offset));
  while (!queue_.empty()) {
    entry& e = queue_.front();
    const std::size_t start = offset;
    offset += e.req.length;
    if (!(e.req.expired && start >= sent_)) {
      kept_requests_.append(bytes.substr(start, e.req.length));
      kept_.emplace_back(std::move(e.command), e.req);
    }
    queue_.pop_front();
  }
  std::swap(queue_, kept_);
  std::swap(requests_, kept_requests_);  // the bytes before sent_ are the same
}

void pipeline::fail_all(std::error_code ec) {
  ++failures_;
  const bool fail_active = state_ == reading::command_reply;
  reset_parser();
  requests_.clear();
  sent_ = 0;
  if (fail_active) active_.complete({ec, nullptr});
  // A completion may push new commands (a retry): they belong to the next connection, so only
  // the commands queued now are failed.
  for (std::size_t n = queue_.size(); n > 0 && !queue_.empty(); --n) {
    entry failed = std::move(queue_.front());
    queue_.pop_front();
    if (failed.command) failed.command.complete({ec, nullptr});
  }
}

}  // namespace uredis::proto
