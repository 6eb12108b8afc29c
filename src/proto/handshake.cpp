#include "uredis/proto/handshake.hpp"

#include <utility>

namespace uredis::proto {

handshake_step::~handshake_step() {
  if (awaited_by_ != nullptr) awaited_by_->forget(*this);
}

handshake::handshake(const resp::limits& limits) noexcept : parser_(limits) {}

handshake::~handshake() {
  release_all();
}

void handshake::write_step(handshake_step& step, resp::encoder& out, resp_version protocol) {
  const std::size_t replies = step.write(out, *params_, protocol);
  if (replies > 0) step.awaited_by_ = this;
  for (std::size_t i = 0; i < replies; ++i)
    awaited_.push_back({&step, static_cast<std::uint32_t>(i)});
}

void handshake::forget(handshake_step& step) noexcept {
  for (awaited& a : awaited_)
    if (a.step == &step) a.step = nullptr;  // its replies are skipped
  if (current_.step == &step) current_.step = nullptr;
}

void handshake::release(handshake_step* step) noexcept {
  if (step == nullptr) return;
  for (const awaited& a : awaited_)
    if (a.step == step) return;  // more of its replies are due
  step->awaited_by_ = nullptr;
}

// Lets go of every step, and forgets them: a step destroyed from now on does not tell this
// handshake, so no pointer to one may stay behind (a failed handshake is started again, or
// destroyed, after its steps may have gone).
void handshake::release_all() noexcept {
  for (awaited& a : awaited_)
    if (a.step != nullptr) a.step->awaited_by_ = nullptr;
  awaited_.clear();
  if (current_.step != nullptr) current_.step->awaited_by_ = nullptr;
  current_ = {};
}

void handshake::write_batch(resp::encoder& out, resp_version protocol) {
  write_step(hello_, out, protocol);
  write_step(auth_, out, protocol);
  write_step(setname_, out, protocol);
  write_step(setinfo_, out, protocol);
  write_step(select_, out, protocol);
  for (handshake_step& step : *extra_)
    write_step(step, out, protocol);
  write_step(ping_, out, protocol);
}

void handshake::start(const handshake_params& params, handshake_step_list& extra,
                      resp::encoder& out, push_router* pushes) {
  params_ = &params;
  extra_ = &extra;
  pushes_ = pushes;
  release_all();
  status_ = handshake_status::in_progress;
  failure_ = {};
  fell_back_ = false;
  parser_.reset();
  in_reply_ = false;
  in_push_ = false;
  holding_ = false;
  hello_.reset();
  write_batch(out, params.protocol);
}

bool handshake::take_awaited() noexcept {
  if (awaited_.empty()) return false;
  current_ = awaited_.front();
  awaited_.pop_front();
  return true;
}

handshake_status handshake::fail(result<void> why) {
  release_all();
  status_ = handshake_status::failed;
  failure_ = std::move(why);
  return status_;
}

handshake_status handshake::on_bytes(std::string_view bytes, std::size_t& consumed,
                                     resp::encoder& out) {
  consumed = 0;
  while (status_ == handshake_status::in_progress) {
    resp::node n;
    const resp::step s = parser_.next(bytes.substr(consumed), n);
    if (s.status == resp::outcome::need_more) {
      if (in_push_ && pushes_ != nullptr) pushes_->pin();  // its views die with these bytes
      break;
    }
    if (s.status == resp::outcome::error) return fail(parser_.error());
    consumed += s.consumed;
    if (n.in_attribute) continue;  // decorations: nothing here needs them

    if (!in_reply_) {
      in_reply_ = true;
      if (pubsub_arrays_ && speaks_resp2() && n.type == resp::type::array && n.size > 0) {
        held_ = n;  // its first element says whether it is a pub/sub frame
        holding_ = true;
        continue;
      }
      in_push_ = n.type == resp::type::push;
      if (!in_push_ && !take_awaited()) return fail(make_error_code(errc::unexpected_reply));
    } else if (holding_) {
      holding_ = false;
      in_push_ = names_pubsub_frame(n);
      if (!in_push_ && !take_awaited()) return fail(make_error_code(errc::unexpected_reply));
      if (in_push_) {
        if (pushes_ != nullptr) pushes_->on_node(held_);
      } else if (current_.step != nullptr) {
        if (result<void> r = current_.step->on_node(held_, current_.reply); !r)
          return fail(std::move(r));
      }
    }
    if (in_push_) {
      if (pushes_ != nullptr) pushes_->on_node(n);
    } else if (current_.step != nullptr) {
      if (result<void> r = current_.step->on_node(n, current_.reply); !r) return fail(std::move(r));
      if (current_.step == &hello_ && hello_.fell_back() && !fell_back_) {
        // Everything else in the first batch ran unauthenticated and in RESP2: skip its
        // replies, then ask every step again. The server answers in order, so the new replies
        // follow the skipped ones.
        fell_back_ = true;
        for (awaited& a : awaited_) {
          if (a.step != nullptr) a.step->awaited_by_ = nullptr;
          a.step = nullptr;
        }
        write_batch(out, resp_version::resp2);
      }
    }
    if (parser_.done()) {
      if (in_push_ && pushes_ != nullptr) pushes_->finish();
      const bool was_push = in_push_;
      in_reply_ = in_push_ = false;
      if (!was_push) {
        release(current_.step);
        current_ = {};
        if (awaited_.empty()) status_ = handshake_status::done;
      }
    }
  }
  return status_;
}

}  // namespace uredis::proto
