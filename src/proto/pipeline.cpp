#include "uredis/proto/pipeline.hpp"

#include <utility>

#include "uredis/error.hpp"

namespace uredis::proto {
namespace {
// A whole reply's outcome, copied rather than built per reply: building one calls into the
// standard library for std::error_code's default category. A function's static, so that it
// exists even when a reply is read during another translation unit's static initialisation.
const reply_outcome& whole_reply() noexcept {
  static const reply_outcome whole{};
  return whole;
}
}  // namespace

pipeline::pipeline(const resp::limits& limits) : parser_(limits) {}

void pipeline::reset_parser() noexcept {
  parser_.reset();
  router_.reset();
  state_ = reading::idle;
  confirmed_ = 0;
  replies_left_ = 0;
}

void pipeline::set_pubsub_arrays(bool on, bool queued_go_first) noexcept {
  if (on && !pubsub_arrays_ && queued_go_first) {
    for (std::size_t i = 0; i < queue_.size(); ++i)
      queue_[i].req.arrays_are_replies = true;
    active_request_.arrays_are_replies = reading_command();
  }
  pubsub_arrays_ = on;
}

// At a top-level array on a RESP2 subscribed connection: false when it is the reply of a command
// queued before subscribing.
bool pipeline::may_be_pubsub_frame() const noexcept {
  if (replies_left_ > 0) return !active_request_.arrays_are_replies;  // a batch's next reply
  return queue_.empty() || !queue_.front().req.arrays_are_replies;
}

// The first node of a reply that is not a push: the oldest command it answers becomes active.
void pipeline::begin_reply() {
  entry& head = queue_.front();
  active_request_ = head.req;
  replies_left_ = head.req.replies > 1 ? head.req.replies - 1 : 0;
  if (head.req.expired) {
    state_ = reading::discarded_reply;
  } else {
    head.command.activate(active_);
    state_ = reading::command_reply;
  }
  queue_.pop_front();
  confirmed_ = 0;
}

// `first` begins a reply: gives it to the oldest command, or returns false when no command may
// take it (errc::unexpected_reply; a bool, as an empty std::error_code costs a call into the
// standard library per reply). An error reply is whole in its first node: `completed` says
// the command has completed.
bool pipeline::start_reply(const resp::node& first, bool& completed) {
  completed = false;
  if (replies_left_ > 0) [[unlikely]] {  // the next reply of the multi-reply command being read
    --replies_left_;
    state_ = active_request_.expired ? reading::discarded_reply : reading::command_reply;
    if (resp::is_error(first.type) && observer_) observer_(first.value);
    return true;
  }
  if (queue_.empty() || requests_.sent() < queue_.front().req.length) {
    // Nobody asked: no command is waiting, or the oldest one was not even sent yet.
    return false;
  }
  begin_reply();
  if (resp::is_error(first.type) && observer_) [[unlikely]]
    observer_(first.value);
  // A multi-reply command's handler reads its error replies as nodes.
  if (state_ == reading::command_reply && resp::is_error(first.type) &&
      active_request_.replies <= 1) {
    reply_outcome o;
    o.error_reply = &first;
    finish_command(o);
    completed = true;
  }
  return true;
}

// Completes the oldest command with `n`, a node that begins a reply at idle, if that is its
// whole reply and it takes it in one call (pending::takes_single): one node, not an error reply,
// for a command that was sent, is answered by one reply, did not time out, and whose handler has
// on_single. What begin_reply(), on_node() and finish_command() do, with one call into the
// handler and no active form. Its bytes go before the handler runs: a command answered by a
// value is never sent again.
bool pipeline::complete_single(const resp::node& n) {
  if (!parser_.done() || resp::is_error(n.type) || replies_left_ > 0 || queue_.empty())
    return false;
  entry& head = queue_.front();
  if (head.req.replies > 1 || requests_.sent() < head.req.length || !head.command.takes_single())
    return false;
  head.command.complete_single(
      n, {[](void* self) noexcept { static_cast<pipeline*>(self)->release_single_head(); }, this});
  return true;
}

// The head's handler has moved out (pending::complete_single): its entry and bytes go.
void pipeline::release_single_head() noexcept {
  const std::uint32_t length = queue_.front().req.length;
  queue_.pop_front();
  confirmed_ = 0;
  requests_.consume(length);
}

// A (un)subscribe confirmation of `kind` arrived: it counts for the oldest command if that
// command is answered by confirmations of that kind, and completes it with the last one.
void pipeline::confirm_head(push_kind kind) {
  if (queue_.empty() || reading_command()) return;  // a batch's replies come first
  entry& head = queue_.front();
  if (head.req.confirmations == 0 || head.req.confirmed_by != kind) return;
  if (requests_.sent() < head.req.length) return;
  if (++confirmed_ < head.req.confirmations) return;
  confirmed_ = 0;
  entry done = std::move(head);
  queue_.pop_front();
  const std::uint64_t failures_before = failures_;
  if (done.command) {  // not a tombstone
    reply_outcome o;
    o.request = requests_.oldest(done.req.length);
    o.deadline = done.req.deadline;
    completing_length_ = done.req.length;
    done.command.complete(o);
    completing_length_ = 0;
  }
  if (failures_ == failures_before) requests_.consume(done.req.length);
}

void pipeline::finish_command(reply_outcome outcome) {
  // Idle first: the completion may push commands or fail the pipeline. The command's bytes stay
  // while it completes (front_bytes() counts them, so that a failure or an expiry inside the
  // completion starts after them), and go after, unless the completion failed the pipeline,
  // which dropped them all.
  state_ = reading::idle;
  outcome.request = requests_.oldest(active_request_.length);
  outcome.deadline = active_request_.deadline;
  const std::uint64_t failures_before = failures_;
  completing_length_ = active_request_.length;
  active_.complete(outcome);
  completing_length_ = 0;
  if (failures_ == failures_before) requests_.consume(active_request_.length);
}

void pipeline::finish_discarded() noexcept {
  state_ = reading::idle;
  requests_.consume(active_request_.length);
}

pipeline::feed_result pipeline::feed(std::string_view bytes) {
  feed_result r;
  const std::uint64_t failures_before = failures_;
  resp::node n;
  bool completed = false;
  for (;;) {
    const resp::step s = parser_.next(bytes.substr(r.consumed), n);
    if (s.status == resp::outcome::need_more) {
      if (state_ == reading::push_frame) router_.pin();  // its views die with these bytes
      return r;
    }
    if (s.status == resp::outcome::error) {
      r.error = parser_.error();
      return r;
    }
    r.consumed += s.consumed;

    // At idle, a node outside an attribute begins a frame: its depth is 0. (Not tested: the
    // compilers fuse a depth test with the type test into one 8-byte load, which the parser's
    // narrower stores cannot forward to, a stall that cost a fifth of feed()'s time.)
    if (state_ == reading::idle && !n.in_attribute) {
      if (n.type == resp::type::push) {
        state_ = reading::push_frame;
      } else if (pubsub_arrays_ && n.type == resp::type::array && n.size > 0 &&
                 may_be_pubsub_frame()) {
        held_ = n;  // an aggregate's node views nothing: it outlives these bytes
        state_ = reading::frame_head;
        continue;
      } else if (complete_single(n)) {
        if (failures_ != failures_before) return {r.consumed, {}, true};
        continue;
      } else {
        if (!start_reply(n, completed)) {
          r.error = make_error_code(errc::unexpected_reply);
          return r;
        }
        if (completed) {
          if (failures_ != failures_before) return {r.consumed, {}, true};
          continue;
        }
      }
    } else if (state_ == reading::frame_head && !n.in_attribute) {
      // The held array's first element: a pub/sub frame's kind, or the start of a reply.
      if (names_pubsub_frame(n)) {
        state_ = reading::push_frame;
        router_.on_node(held_);
      } else {
        if (!start_reply(held_, completed)) {  // an array: never an error reply
          r.error = make_error_code(errc::unexpected_reply);
          return r;
        }
        if (state_ == reading::command_reply) active_.on_node(held_);
      }
    }

    switch (state_) {
      case reading::idle:
      case reading::frame_head:
        break;  // an attribute before a reply: it decorates, nobody needs it
      case reading::command_reply:
        if (!n.in_attribute) active_.on_node(n);
        if (parser_.done()) {
          if (replies_left_ == 0) [[likely]] {
            finish_command(whole_reply());
            if (failures_ != failures_before) return {r.consumed, {}, true};
          } else {
            state_ = reading::idle;  // between two replies of a multi-reply command
          }
        }
        break;
      case reading::discarded_reply:
        if (parser_.done()) {
          if (replies_left_ == 0) [[likely]] {
            finish_discarded();
          } else {
            state_ = reading::idle;
          }
        }
        break;
      case reading::push_frame:
        if (!n.in_attribute) router_.on_node(n);
        if (parser_.done()) {
          state_ = reading::idle;
          const push_kind kind = router_.finish();
          if (failures_ != failures_before) return {r.consumed, {}, true};
          if (is_confirmation(kind)) {
            confirm_head(kind);
            if (failures_ != failures_before) return {r.consumed, {}, true};
          }
        }
        break;
    }
  }
}

bool pipeline::awaits_live_reply() const noexcept {
  if (reading_command() && !active_request_.expired) return true;
  for (std::size_t i = 0; i < queue_.size(); ++i)
    if (!queue_[i].req.expired) return true;  // the first is live, unless tombstones pile up
  return false;
}

std::size_t pipeline::expire(time_point now, time_point& next) {
  const reply_outcome timed_out = reply_outcome::failed(make_error_code(errc::timeout));
  next = time_point::max();
  bool active_expired = false;
  if (active_ && active_request_.deadline <= now) {
    active_expired = true;  // the rest of its reply (or replies) is read and discarded
    if (state_ == reading::command_reply) state_ = reading::discarded_reply;
    active_request_.expired = true;
  } else if (active_) {
    next = active_request_.deadline;
  }

  failed_.clear();
  bool unsent_expired = false;
  std::size_t offset = front_bytes();
  const std::size_t sent = requests_.sent();
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
    unsent_expired = unsent_expired || start >= sent;
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
    f.command.complete(reply_outcome::failed(f.error));
  }
  failed_ = std::move(failed);  // its memory, for the next time
  return expired;
}

void pipeline::drop_unsent_tombstones() {
  // Unsent commands are all in the request buffer's tail (its invariant), which no send is
  // reading: rebuild that part without the expired ones.
  request_buffer::cursor bytes(requests_);
  std::size_t offset = bytes.next(front_bytes()).size();
  const std::size_t sent = requests_.sent();
  kept_.clear();
  kept_unsent_.clear();
  while (!queue_.empty()) {
    entry& e = queue_.front();
    const std::string_view own = bytes.next(e.req.length);
    const bool unsent = offset >= sent;
    offset += e.req.length;
    if (!(e.req.expired && unsent)) {
      if (unsent) kept_unsent_.append(own);
      kept_.emplace_back(std::move(e.command), e.req);
    }
    queue_.pop_front();
  }
  std::swap(queue_, kept_);
  requests_.replace_unsent(kept_unsent_.data());
}

void pipeline::fail_all(std::error_code ec) {
  ++failures_;
  const bool fail_active = static_cast<bool>(active_);
  const std::size_t front_length = front_bytes();
  reset_parser();
  completing_length_ = 0;
  // A command that never reached the server completes with its request bytes
  // (reply_outcome::request), so a cluster client may send it to another node. They are moved
  // aside first: a completion may push new commands, which belong to the next connection. A
  // fail_all() from inside one of those completions has no aside buffer left: its commands
  // complete without their bytes.
  const bool keep_bytes = !failing_;
  if (keep_bytes) {
    failing_requests_.clear();
    requests_.swap(failing_requests_);
    failing_ = true;
  }
  requests_.clear();
  struct end_failing {
    pipeline& p;
    bool owner;
    ~end_failing() {
      if (!owner) return;
      p.failing_requests_.clear();
      // No completion queued a command: the storage goes back where it was, so the buffers
      // do not rotate (and grow one by one) over repeated failures.
      if (p.requests_.empty()) p.requests_.swap(p.failing_requests_);
      p.failing_ = false;
    }
  } guard{*this, keep_bytes};
  request_buffer::cursor bytes(failing_requests_);
  const std::size_t sent = keep_bytes ? failing_requests_.sent() : 0;
  std::size_t offset = 0;
  if (keep_bytes) offset = bytes.next(front_length).size();
  if (fail_active) active_.complete(reply_outcome::failed(ec));
  // A completion may push new commands (a retry): they belong to the next connection, so only
  // the commands queued now are failed.
  for (std::size_t n = queue_.size(); n > 0 && !queue_.empty(); --n) {
    entry failed = std::move(queue_.front());
    queue_.pop_front();
    reply_outcome o = reply_outcome::failed(ec);
    if (keep_bytes) {
      const std::string_view own = bytes.next(failed.req.length);
      if (offset >= sent) o.request = own;
      o.deadline = failed.req.deadline;
      offset += failed.req.length;
    }
    if (failed.command) failed.command.complete(o);
  }
}

}  // namespace uredis::proto
