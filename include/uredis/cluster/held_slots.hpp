#pragma once
// held_slots: the commands a cluster client holds back while their slot is out of service
// (TRYAGAIN, CLUSTERDOWN, their node gone before it read them, no node serving the slot), as a
// sans-I/O queue per slot that keeps them in the order they were issued. The shell arms a timer
// for next_due(), hands send_due() a function that routes a command, and calls end_probe() when
// a slot's probe has its final answer; tests drive it with a manual clock and plain values.
//
// Why: a write resent after a backoff must not land behind a later write to the same key (the
// earlier value would win: a lost write). So, per slot:
//
//   - the slot is held from the first of its commands that has to wait until the hold ends;
//     while it is held, commands issued for it join its queue's tail instead of going out;
//   - a command that comes back from a node (it was on the wire when the slot went out of
//     service) goes before every command issued since the hold began, behind those that came
//     back before it: one connection hands them back in the order they were written;
//   - when the backoff ends only the first command goes out, as the probe. If the probe comes
//     back to wait, it is first again and the backoff grows; once it has its final answer the
//     others go, in order, and the hold ends. One command at a time, because a cluster that
//     comes back between two resent commands would run the second and fail the first, which
//     would then run after it;
//   - a probe that gives up (too many redirects) ends the hold with every command it holds
//     failed alike: the slot has been out of service for the whole budget, and a queue sent
//     one command per budget could keep a caller for hours.
//
//      add_new / add_returned           send_due (due)                 end_probe
//   ──────────────────────────► waiting ─────────────► probing(first) ───────────► released
//                                  ▲                          │ add_returned(the probe):
//                                  └──────────────────────────┘ first again, new due
//
// A hold whose commands never reached a node (no topology yet: add_new only) has nothing to
// probe for: when due, it sends them all, in order. So do keyless commands (slot `keyless`),
// which have no order to keep. Commands of one slot on two connections (a slot moved while
// they were on the wire) come back in no order anyone can know; and a cluster that leaves and
// comes back within one round trip may still run a later pipelined command before an earlier
// one: no client can see that happen (the README's Decisions).
//
// A held command still has its deadline (exec_options::timeout): expire() hands those past it
// back to be completed with errc::timeout wherever they wait, and next_due() wakes for them.
//
// Command is the shell's record of a held command (its bytes and handler); held_slots reads
// only its `slot` and `deadline` (a time_point; max: none) members. Nothing here allocates until a
// slot is held; the first hold allocates an index of every slot (64 KB, kept), so that an outage of
// thousands of slots costs each command one array read, not a search.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace uredis::cluster {

template <class Command>
class held_slots {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  /// The slot of keyless commands: held only while they wait, in no order.
  static constexpr std::uint16_t keyless = 0xFFFF;

  /// True when a command issued now for `slot` must join its hold (add_new) instead of going
  /// out. Keyless commands are never held back.
  bool holds(std::uint16_t slot) const noexcept {
    return !holds_.empty() && slot != keyless && find(slot) != nullptr;
  }
  /// Commands held, all slots together.
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const hold& h : holds_)
      n += h.commands.size();
    return n;
  }
  bool empty() const noexcept { return holds_.empty(); }

  /// A command issued while its slot is held, or that found no node to go to: last in its
  /// slot's queue. `due` is when the hold's backoff ends, if this begins the hold.
  void add_new(Command c, time_point due) {
    note_deadline(c.deadline);
    hold& h = hold_for(c.slot, due);
    h.commands.push_back(std::move(c));
  }

  /// A command a node handed back to wait, `due` the end of its backoff. `was_probe`: it went
  /// out as its held slot's probe (its handler says it was held), so it is first again and its
  /// due is the hold's; otherwise it goes behind those that came back before it.
  void add_returned(Command c, time_point due, bool was_probe) {
    note_deadline(c.deadline);
    hold& h = hold_for(c.slot, due);
    if (c.slot != keyless) h.ordered = true;
    if (was_probe && h.probing) {
      h.probing = false;
      h.due = due;
      h.commands.insert(h.commands.begin(), std::move(c));
    } else {
      h.commands.insert(h.commands.begin() + static_cast<std::ptrdiff_t>(h.returned), std::move(c));
    }
    ++h.returned;
  }

  /// When send_due() or expire() has something to do; nullopt when every hold waits for its
  /// probe and no held command has a deadline.
  std::optional<time_point> next_due() const noexcept {
    std::optional<time_point> due;
    for (const hold& h : holds_) {
      if (!h.probing && (!due || h.due < *due)) due = h.due;
    }
    if (!holds_.empty() && deadline_ != time_point::max() && (!due || deadline_ < *due))
      due = deadline_;
    return due;
  }

  /// Hands every held command whose deadline is <= `now` to `fail(Command&&)`, in order, and
  /// ends the holds left empty (unless their probe is out).
  template <class Fail>
  void expire(time_point now, Fail&& fail) {
    if (deadline_ > now) return;
    deadline_ = time_point::max();
    std::vector<Command> out;  // taken out first: fail() may add
    for (std::size_t i = 0; i < holds_.size();) {
      hold& h = holds_[i];
      std::size_t kept = 0;
      std::size_t returned = h.returned;
      for (std::size_t k = 0; k < h.commands.size(); ++k) {
        Command& c = h.commands[k];
        if (c.deadline <= now) {
          if (k < h.returned) --returned;
          out.push_back(std::move(c));
          continue;
        }
        note_deadline(c.deadline);
        if (kept != k) h.commands[kept] = std::move(c);
        ++kept;
      }
      h.commands.erase(h.commands.begin() + static_cast<std::ptrdiff_t>(kept), h.commands.end());
      h.returned = returned;
      if (h.commands.empty() && !h.probing) {
        erase(i);
      } else {
        ++i;
      }
    }
    for (Command& c : out)
      fail(std::move(c));
  }

  /// Sends what is due at `now` (with `all`, everything not waiting for a probe: a topology
  /// arrived): an ordered hold's first command as its probe (the slot stays held until
  /// end_probe(), even with nothing behind it), or an unordered hold's every command, in order
  /// (that hold ends).
  /// `send(Command&&, bool probe)` may complete a command at once, which may add it back.
  template <class Send>
  void send_due(time_point now, bool all, Send&& send) {
    std::vector<std::pair<Command, bool>> out;  // taken out first: send() may add
    for (std::size_t i = 0; i < holds_.size();) {
      hold& h = holds_[i];
      if (h.probing || (!all && h.due > now)) {
        ++i;
        continue;
      }
      if (h.ordered) {
        out.emplace_back(std::move(h.commands.front()), true);
        h.commands.erase(h.commands.begin());
        if (h.returned > 0) --h.returned;
        h.probing = true;
        ++i;
        continue;
      }
      for (Command& c : h.commands)
        out.emplace_back(std::move(c), false);
      erase(i);
    }
    for (auto& [c, probe] : out)
      send(std::move(c), probe);
  }

  /// `slot`'s probe has its final answer: the rest go to `send(Command&&, false)` in order and
  /// the hold ends; or, `gave_up`, each goes to `fail(Command&&)`. A slot not probing (its hold
  /// ended, or began again since) is left alone.
  template <class Send, class Fail>
  void end_probe(std::uint16_t slot, bool gave_up, Send&& send, Fail&& fail) {
    hold* h = find(slot);
    if (h == nullptr || !h->probing) return;
    std::vector<Command> rest = std::move(h->commands);
    erase(static_cast<std::size_t>(h - holds_.data()));
    for (Command& c : rest) {
      if (gave_up) {
        fail(std::move(c));
      } else {
        send(std::move(c), false);
      }
    }
  }

  /// Hands every held command to `f` and forgets every hold (the client is going away).
  template <class F>
  void drain(F&& f) {
    std::vector<hold> all = std::move(holds_);
    holds_.clear();
    index_.clear();
    deadline_ = time_point::max();
    for (hold& h : all)
      for (Command& c : h.commands)
        f(std::move(c));
  }

 private:
  struct hold {
    std::uint16_t slot = 0;
    bool ordered = false;      // a command came back from a node: resend one at a time
    bool probing = false;      // the first command is out; the rest wait for its answer
    std::size_t returned = 0;  // the first `returned` commands came back from nodes
    time_point due{};          // when the backoff ends (while not probing)
    // A vector, not a deque: a hold must move without throwing as the holds' vector grows.
    // Its front is taken once per backoff, and a returned command shifts only those issued
    // since the hold began.
    std::vector<Command> commands;
  };

  void note_deadline(time_point deadline) noexcept {
    if (deadline < deadline_) deadline_ = deadline;
  }
  // index_'s entry for `slot`: 16384 slots, then the keyless commands.
  static std::size_t entry(std::uint16_t slot) noexcept {
    return slot == keyless ? slot_count : std::min<std::size_t>(slot, slot_count - 1);
  }
  hold* find(std::uint16_t slot) noexcept {
    if (index_.empty() || index_[entry(slot)] == 0) return nullptr;
    return &holds_[index_[entry(slot)] - 1];
  }
  const hold* find(std::uint16_t slot) const noexcept {
    if (index_.empty() || index_[entry(slot)] == 0) return nullptr;
    return &holds_[index_[entry(slot)] - 1];
  }
  hold& hold_for(std::uint16_t slot, time_point due) {
    if (hold* h = find(slot)) return *h;
    if (index_.empty()) index_.assign(slot_count + 1, 0);
    hold& h = holds_.emplace_back();
    h.slot = slot;
    h.due = due;
    index_[entry(slot)] = static_cast<std::uint32_t>(holds_.size());
    return h;
  }
  void erase(std::size_t i) {
    index_[entry(holds_[i].slot)] = 0;
    if (i + 1 != holds_.size()) {
      holds_[i] = std::move(holds_.back());
      index_[entry(holds_[i].slot)] = static_cast<std::uint32_t>(i + 1);
    }
    holds_.pop_back();
  }

  static constexpr std::size_t slot_count = 16384;  // Redis Cluster's hash slots
  std::vector<hold> holds_;                         // only the slots out of service now
  std::vector<std::uint32_t> index_;  // by entry(slot): 1 + its hold's index in holds_, or 0
  // No held command's deadline is earlier (it may be earlier than any left: expire() then
  // finds nothing and reads it again).
  time_point deadline_ = time_point::max();
};

}  // namespace uredis::cluster
