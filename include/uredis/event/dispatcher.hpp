#pragma once
// dispatcher: one shard's typed event dispatch. Code that notices something (a connection that
// lost its socket) calls emit(event); every listener of that event type on that shard is called,
// in registration order, synchronously, on the shard's thread. Each reactor owns one
// (reactor::events()); runtime::broadcast() emits an event on every shard's.
//
//   reactor.events().emit(event::disconnected{id, reason});
//
//   event::listener<event::disconnected> on_lost(reactor.events(),
//       [&](const event::disconnected& e) { ... });   // registered until on_lost dies
//
// Ownership: the caller owns each listener (a member of whatever wants the events, or a local);
// the dispatcher only links them. A listener registers in its constructor and unregisters in its
// destructor (or earlier, with unregister()). A dispatcher that dies first unlinks its listeners,
// which then just report registered() == false.
//
// Design. Why intrusive: registering must not allocate (connections register and unregister as
// they come and go, in steady state), and a listener that dies must not leave a dangling entry
// behind, so each listener carries its own link (util::list_hook): register and unregister are
// O(1) pointer writes, and the hook's destructor unlinks it whatever happens. Why nothing
// allocates per dispatch: the callback is stored inline in the listener (util::inline_function, 32
// bytes of capture: an oversized capture fails to compile), each event type has its own list,
// found at a compile-time index (event_index<E>, the position of E in all_events), and the stats
// counter is a compile-time pointer to member (counter_of<E>). An emit of an event nobody
// listens to costs a counter increment and an empty-list test.
//
// Dispatch and re-entrancy. Listeners run user code that may unregister itself, unregister or
// destroy other listeners, register new ones, or emit again (the same type or another). emit()
// stays correct through all of this without a copy of the list: it links two markers (nodes
// that are not listeners) into the list itself, on its own stack frame:
//
//   [cursor] L1 L2 L3 [end]     before the first call
//   L1 [cursor] L2 L3 [end]     while L1 runs: the cursor sits just AFTER the listener called,
//                               so whichever listeners L1 unlinks (itself included), the
//                               cursor is still linked and the next one is found from it
//   L1 L2 L3 [end] L4           L4 registered during the dispatch links after `end`: not called
//                               by this dispatch (it is by the next one)
//
// A nested emit of the same type adds its own two markers; every dispatch skips the markers of
// the others. Cost: one unlink and one link per listener called. A listener may destroy itself
// from its own callback (like `delete this`: the callback must not touch its captures after).
// Destroying the dispatcher during one of its dispatches is a bug.
//
// Threading: a dispatcher and its listeners belong to one shard's thread; other threads reach it
// through that shard's mailbox (runtime::broadcast).

#include <array>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>

#include "uredis/event/events.hpp"
#include "uredis/event/stats.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::event {

namespace detail {
// The position of E in Es..., or sizeof...(Es) when E is not there.
template <class E, class... Es>
consteval std::size_t index_in(type_list<Es...>) noexcept {
  constexpr bool match[] = {std::is_same_v<E, Es>..., true};  // `true`: the not-found stop
  std::size_t i = 0;
  while (!match[i])
    ++i;
  return i;
}

template <class... Es>
consteval std::size_t size_of(type_list<Es...>) noexcept {
  return sizeof...(Es);
}

template <class... Es>
consteval bool all_counted(type_list<Es...>) noexcept {
  return ((counter_of<Es> != nullptr) && ...);
}
}  // namespace detail

/// The number of event types.
inline constexpr std::size_t event_count = detail::size_of(all_events{});
/// E's position in all_events (event_count when E is not an event): its list in a dispatcher.
template <class E>
inline constexpr std::size_t event_index = detail::index_in<E>(all_events{});
/// True when E is one of all_events.
template <class E>
inline constexpr bool is_event = event_index<E> < event_count;

static_assert(detail::all_counted(all_events{}),
              "every type of event::all_events needs a counter in event::stats (counter_of)");

namespace detail {
// One link of an event type's list: a listener, or one of an emit's two markers.
struct listener_node {
  explicit listener_node(bool marker) noexcept : is_marker(marker) {}
  util::list_hook hook;
  const bool is_marker;
};
using listener_list = util::intrusive_list<listener_node, &listener_node::hook>;
}  // namespace detail

template <class E>
class listener;

class dispatcher {
 public:
  dispatcher() noexcept = default;
  /// Unlinks the listeners still registered (they stay alive, owned elsewhere).
  ~dispatcher() = default;
  // Listeners and running dispatches point into the lists.
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  /// Counts `e` in stats(), then calls each listener of E registered before this call, in
  /// registration order (see "Dispatch and re-entrancy" above). Never allocates.
  template <class E>
  void emit(const E& e);

  /// True when at least one listener of E is registered: lets an emitter skip building an
  /// event that is costly to build. (Skipping emit() also skips the count.)
  template <class E>
  bool has_listeners() const noexcept {
    static_assert(is_event<E>, "event::dispatcher: E is not one of event::all_events");
    return !lists_[event_index<E>].empty();
  }

  /// How many events of each type were emitted; copy it for a snapshot.
  const event::stats& stats() const noexcept { return stats_; }

 private:
  template <class E>
  friend class listener;

  std::array<detail::listener_list, event_count> lists_;
  event::stats stats_;
};

/// A registration for events of type E on one dispatcher, owned by the caller. Not copyable or
/// movable (the dispatcher links it by address).
template <class E>
class listener : private detail::listener_node {
  static_assert(is_event<E>, "event::listener: E is not one of event::all_events");

 public:
  /// 32 bytes of capture: a few pointers, or a pointer to the state the callback needs.
  using callback = util::inline_function<void(const E&), 32>;

  /// Registers `fn` (not empty) last among d's listeners of E. O(1), no allocation.
  listener(dispatcher& d, callback fn) noexcept : listener_node(false), fn_(std::move(fn)) {
    assert(fn_ && "event::listener: an empty callback");
    d.lists_[event_index<E>].push_back(*this);
  }

  /// Unregisters (so a listener may be destroyed at any time, from its own callback too).
  ~listener() { unregister(); }

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// Stops the calls, at once: a dispatch in progress does not call it any more. O(1);
  /// idempotent.
  void unregister() noexcept { hook.unlink(); }

  /// False after unregister() or once the dispatcher is gone.
  bool registered() const noexcept { return hook.is_linked(); }

 private:
  friend class dispatcher;

  callback fn_;
};

template <class E>
void dispatcher::emit(const E& e) {
  static_assert(is_event<E>, "event::dispatcher::emit: E is not one of event::all_events");
  ++(stats_.*counter_of<E>);
  detail::listener_list& list = lists_[event_index<E>];
  if (list.empty()) return;

    // The two markers of "Dispatch and re-entrancy"; their hooks unlink when they go out of scope.
    // GCC 12 at -O3 sees locals linked into a longer-lived list (-Wdangling-pointer) but not the
    // unlinking in their destructors: silenced here, where it is by design.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
  detail::listener_node cursor(true);
  detail::listener_node end(true);
  list.push_back(end);
  list.push_front(cursor);
  for (;;) {
    const auto next = std::next(list.iterator_to(cursor));
    if (&*next == &end) break;
    // Step over `next` before calling it, so the call may unlink it.
    list.erase(cursor);
    list.insert(std::next(next), cursor);
    if (!next->is_marker) static_cast<listener<E>&>(*next).fn_(e);  // others' markers: skip
  }
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
}

}  // namespace uredis::event
