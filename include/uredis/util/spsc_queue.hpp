#pragma once
// spsc_queue: a bounded, lock-free FIFO between exactly one producer thread and exactly one
// consumer thread (the cross-shard mailboxes: one queue per ordered pair of shards).
//
//   producer line:  tail_ (written by the producer)  head_cache_ (producer's copy of head_)
//   consumer line:  head_ (written by the consumer)  tail_cache_ (consumer's copy of tail_)
//   slots:          [ . . a b c d . . ]   Capacity slots; slot of index i is i & (Capacity - 1)
//                         ^head   ^tail
//
// head_ and tail_ count pops and pushes since construction and only ever grow (modulo 2^64, and
// the arithmetic is modular, so wrapping is harmless). tail_ - head_ is the size, at most
// Capacity. Slots [head_, tail_) hold constructed elements, every other slot is raw memory.
//
// Each side keeps a stale copy of the other side's index and reloads the real one only when the
// copy says "full" (producer) or "empty" (consumer). While the queue is neither, a push or a pop
// touches only its own cache line and the slot, so the two cores do not bounce lines back and
// forth on every item.
//
// Memory ordering (acquire/release only, no fence, no read-modify-write):
//  - push constructs the element, then stores tail_ with release; the consumer's acquire load of
//    tail_ therefore sees the element fully constructed.
//  - pop moves the element out and destroys it, then stores head_ with release; the producer's
//    acquire load of head_ therefore knows the slot is free before it constructs into it again.
//  - each side loads its own index relaxed: only it writes it.
//
// Storage is inline (Capacity * sizeof(T) bytes inside the object) and nothing allocates after
// construction. The object is large and over-aligned; put it in a container allocated once (the
// mailbox does) rather than on a small thread stack. It is neither copyable nor movable: the other
// thread holds its address.
//
// Thread contract: try_push/try_emplace from one producer thread, try_pop from one consumer
// thread, at a time (handing a side over to another thread needs a happens-before edge, e.g. a
// thread join). The destructor needs both sides quiescent; it destroys the unconsumed elements.

#include <atomic>
#include <bit>
#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace uredis::util {

/// The span that two independently written variables must keep apart to avoid false sharing.
/// 128, not 64: Intel's adjacent-line prefetcher pulls cache lines in pairs, so two variables 64
/// bytes apart still ping-pong between cores (folly and crossbeam pick 128 for the same reason).
/// A constant, not std::hardware_destructive_interference_size, because that one may differ
/// between compilers and flags (GCC warns when a header uses it) and this layout is an ABI.
inline constexpr std::size_t false_sharing_range = 128;

template <class T, std::size_t Capacity>
class spsc_queue {
  static_assert(Capacity >= 2 && std::has_single_bit(Capacity),
                "spsc_queue: Capacity must be a power of two (an index wraps with a mask), >= 2");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "spsc_queue<T>: T must be nothrow move constructible (pop moves it out)");
  static_assert(std::is_nothrow_destructible_v<T>,
                "spsc_queue<T>: T must not throw on destruction");
  static_assert(std::atomic<std::size_t>::is_always_lock_free,
                "spsc_queue: the indexes must be lock-free atomics");

 public:
  using value_type = T;
  using size_type = std::size_t;

  static constexpr size_type capacity = Capacity;

  spsc_queue() noexcept = default;
  spsc_queue(const spsc_queue&) = delete;
  spsc_queue& operator=(const spsc_queue&) = delete;

  /// Destroys the elements never popped. Both sides must be quiescent.
  ~spsc_queue() {
    const size_type tail = tail_.load(std::memory_order_acquire);
    for (size_type i = head_.load(std::memory_order_relaxed); i != tail; ++i)
      slot(i)->~T();
  }

  // --- producer side ------------------------------------------------------------------------

  /// Moves `value` in and returns true, or returns false when the queue is full, leaving `value`
  /// untouched (the caller still owns it and may retry later).
  bool try_push(T&& value) noexcept { return try_emplace(std::move(value)); }

  /// Copies `value` in; false when full.
  bool try_push(const T& value) noexcept(
      std::is_nothrow_copy_constructible_v<T>) requires std::is_copy_constructible_v<T> {
    return try_emplace(value);
  }

  /// Constructs an element from `args` in place; false (and nothing constructed) when full. If
  /// the constructor throws, the queue is unchanged.
  template <class... Args>
  bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    const size_type tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ == Capacity) {
      // Looks full through the stale copy: ask the consumer's line once.
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ == Capacity) return false;
    }
    ::new (static_cast<void*>(slot(tail))) T(std::forward<Args>(args)...);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // --- consumer side ------------------------------------------------------------------------

  /// Moves the oldest element into `out` (by move assignment) and returns true, or returns false
  /// when the queue is empty.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* front = front_slot();
    if (front == nullptr) return false;
    out = std::move(*front);
    release_front();
    return true;
  }

  /// The oldest element, moved out, or nullopt when the queue is empty.
  std::optional<T> try_pop() noexcept {
    T* front = front_slot();
    if (front == nullptr) return std::nullopt;
    std::optional<T> out(std::in_place, std::move(*front));
    release_front();
    return out;
  }

  // --- either side (approximations) ---------------------------------------------------------

  /// The number of elements at some moment during the call. Exact when the other side is idle.
  /// From the consumer, the true size can only be larger by the time the caller looks (only the
  /// consumer removes); from the producer, only smaller. So size() is a lower bound for the
  /// consumer ("at least this many to pop") and an upper bound for the producer.
  size_type size() const noexcept {
    // Load head_ first: tail_ read later can only be newer, so tail >= head and the difference
    // never underflows, whichever thread asks.
    const size_type head = head_.load(std::memory_order_acquire);
    const size_type tail = tail_.load(std::memory_order_acquire);
    return tail - head;
  }

  /// size() == 0, with the same caveat: from the consumer, `false` is certain (the elements stay
  /// until it pops them) and `true` may already be stale; from the producer, `true` is certain
  /// and `false` may be stale.
  bool empty() const noexcept { return size() == 0; }

 private:
  T* slot(size_type index) noexcept {
    return std::launder(reinterpret_cast<T*>(storage_ + (index & (Capacity - 1)) * sizeof(T)));
  }

  // The consumer's view of the oldest element, or null when empty.
  T* front_slot() noexcept {
    const size_type head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      // Looks empty through the stale copy: ask the producer's line once.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return nullptr;
    }
    return slot(head);
  }

  // Destroys the oldest element and hands its slot back to the producer.
  void release_front() noexcept {
    const size_type head = head_.load(std::memory_order_relaxed);
    slot(head)->~T();
    head_.store(head + 1, std::memory_order_release);
  }

  // The producer's line. tail_ is read by the consumer (only when its cached copy runs out).
  alignas(false_sharing_range) std::atomic<size_type> tail_{0};
  size_type head_cache_ = 0;  // producer-only: head_ as last seen, <= the real head_

  // The consumer's line.
  alignas(false_sharing_range) std::atomic<size_type> head_{0};
  size_type tail_cache_ = 0;  // consumer-only: tail_ as last seen, <= the real tail_

  // The slots, on lines of their own: neither index shares a line with an element.
  alignas(false_sharing_range) alignas(T) std::byte storage_[Capacity * sizeof(T)];
};

}  // namespace uredis::util
