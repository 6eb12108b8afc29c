#pragma once
// inline_function: a move-only std::function that never touches the heap.
//
// The callable lives in `Capacity` bytes of storage inside the object, aligned to
// alignof(std::max_align_t). A callable that is larger than Capacity, more strictly aligned, or
// whose move constructor may throw does not compile: the constructor's static_assert names the
// reason. `can_store<F>` answers the same question as a trait, so generic code can check first.
//
//   +------------------------------+-----------+
//   | storage_ (Capacity bytes)    | ops_  ----+--> static table per callable type:
//   +------------------------------+-----------+      invoke / relocate / destroy
//
// Invariants: ops_ == nullptr exactly when the object is empty. A callable that is trivially
// copyable and trivially destructible (a lambda capturing pointers and integers, the common
// case) has null relocate/destroy entries, so moving it copies its own size in 8-byte words
// (known to its table: no memset of the unused tail at construction, no full-capacity copy,
// which measured 2-7x slower from store-forwarding stalls) and destroying it is free.
//
// A moved-from inline_function is empty. Invoking an empty one is a bug (asserted).
// operator() is not const: the callable is invoked as a non-const lvalue, so mutable lambdas
// work, as with std::move_only_function<R(Args...)>.
//
// Sizes: sizeof == Capacity + sizeof(void*) rounded up to alignof(std::max_align_t), so with
// 16-byte max alignment a Capacity of 8 mod 16 (24, 40, 56, ...) uses the padding.

#include <cassert>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace uredis::util {

namespace detail {
// F can be wrapped by a function of type Self returning R from Args (any F but Self itself,
// which is moved, not wrapped). Size and alignment are checked later, with static_asserts.
template <class F, class Self, class R, class... Args>
concept inline_callable = !std::is_same_v<std::remove_cvref_t<F>, Self> &&
                          std::is_invocable_r_v<R, std::decay_t<F>&, Args...>;

// A callable of type Fn fits the inline storage (moves of the wrapper are noexcept, so the
// callable's must be too).
template <class Fn, std::size_t Capacity, std::size_t Alignment>
constexpr bool fits_inline() noexcept {
  return sizeof(Fn) <= Capacity && alignof(Fn) <= Alignment &&
         std::is_nothrow_move_constructible_v<Fn>;
}
}  // namespace detail

template <class Signature, std::size_t Capacity = 32>
class inline_function;  // only R(Args...) signatures are defined

template <class R, class... Args, std::size_t Capacity>
class inline_function<R(Args...), Capacity> {
  static_assert(Capacity > 0, "inline_function: Capacity must be positive");

 public:
  using result_type = R;

  /// Bytes available to the stored callable.
  static constexpr std::size_t capacity = Capacity;
  /// The strictest alignment a stored callable may require.
  static constexpr std::size_t alignment = alignof(std::max_align_t);

  /// True when a callable of (decayed) type F fits: invocable as R(Args...), move-constructible
  /// without throwing, at most `capacity` bytes and at most `alignment` aligned.
  template <class F>
  static constexpr bool can_store = detail::fits_inline<std::decay_t<F>, Capacity, alignment>() &&
                                    detail::inline_callable<F, void, R, Args...>;

  /// An empty function.
  inline_function() noexcept = default;
  inline_function(std::nullptr_t) noexcept {}

  /// Stores a copy (or, from an rvalue, a move) of `f`. A null function pointer or null
  /// member pointer gives an empty function, as with std::function.
  template <detail::inline_callable<inline_function, R, Args...> F>
  inline_function(F&& f) noexcept(std::is_nothrow_constructible_v<std::decay_t<F>, F>) {
    emplace(std::forward<F>(f));
  }

  /// Takes other's callable; other becomes empty.
  inline_function(inline_function&& other) noexcept { take(other); }

  inline_function& operator=(inline_function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }

  /// Destroys the current callable, then stores `f`.
  template <detail::inline_callable<inline_function, R, Args...> F>
  inline_function& operator=(F&& f) noexcept(std::is_nothrow_constructible_v<std::decay_t<F>, F>) {
    reset();
    emplace(std::forward<F>(f));
    return *this;
  }

  inline_function& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }

  inline_function(const inline_function&) = delete;
  inline_function& operator=(const inline_function&) = delete;

  ~inline_function() { reset(); }

  /// Destroys the stored callable (its destructor runs exactly once); the function is empty after.
  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(&storage_);
    ops_ = nullptr;
  }

  /// True when a callable is stored.
  explicit operator bool() const noexcept { return ops_ != nullptr; }
  friend bool operator==(const inline_function& f, std::nullptr_t) noexcept {
    return f.ops_ == nullptr;
  }

  /// Invokes the stored callable. Precondition: not empty.
  R operator()(Args... args) {
    assert(ops_ != nullptr && "invoking an empty inline_function");
    return ops_->invoke(&storage_, std::forward<Args>(args)...);
  }

  void swap(inline_function& other) noexcept {
    inline_function tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }
  friend void swap(inline_function& a, inline_function& b) noexcept { a.swap(b); }

 private:
  struct ops_table {
    R (*invoke)(void* storage, Args&&... args);
    // Move-constructs into `to` from `from`, then destroys `from`. Null: memcpy is enough.
    void (*relocate)(void* to, void* from) noexcept;
    // Null: trivially destructible, nothing to run.
    void (*destroy)(void* storage) noexcept;
    // The callable's size in 8-byte words: what a move copies when relocate is null.
    std::size_t words;
  };

  template <class Fn>
  static R invoke_stored(void* storage, Args&&... args) {
    Fn& fn = *std::launder(static_cast<Fn*>(storage));
    if constexpr (std::is_void_v<R>) {
      std::invoke(fn, std::forward<Args>(args)...);
    } else {
      return std::invoke(fn, std::forward<Args>(args)...);
    }
  }

  template <class Fn>
  static void relocate_stored(void* to, void* from) noexcept {
    Fn* src = std::launder(static_cast<Fn*>(from));
    ::new (to) Fn(std::move(*src));
    src->~Fn();
  }

  template <class Fn>
  static void destroy_stored(void* storage) noexcept {
    std::launder(static_cast<Fn*>(storage))->~Fn();
  }

  template <class Fn>
  static constexpr bool is_trivial_callable =
      std::is_trivially_copyable_v<Fn>&& std::is_trivially_destructible_v<Fn>;

  template <class Fn>
  static constexpr ops_table ops_for{
      &invoke_stored<Fn>,
      is_trivial_callable<Fn> ? nullptr : &relocate_stored<Fn>,
      std::is_trivially_destructible_v<Fn> ? nullptr : &destroy_stored<Fn>,
      (sizeof(Fn) + 7) / 8,
  };

  template <class F>
  void emplace(F&& f) {
    using Fn = std::decay_t<F>;
    static_assert(sizeof(Fn) <= Capacity,
                  "inline_function: the callable does not fit the inline storage; capture less "
                  "(e.g. a pointer to a larger state) or raise Capacity");
    static_assert(alignof(Fn) <= alignment,
                  "inline_function: the callable is over-aligned for the inline storage");
    static_assert(std::is_nothrow_move_constructible_v<Fn>,
                  "inline_function: the callable's move constructor may throw; moves of an "
                  "inline_function are noexcept");
    if constexpr (std::is_pointer_v<Fn> || std::is_member_pointer_v<Fn>) {
      if (f == nullptr) return;
    }
    if constexpr (is_trivial_callable<Fn> && sizeof(Fn) % 8 != 0) {
      // Moves copy whole words: define the few bytes between the callable and its last word's
      // end, so that copy never reads indeterminate bytes. Constant size: one small store.
      std::memset(storage_ + sizeof(Fn), 0, 8 - sizeof(Fn) % 8);
    }
    ::new (static_cast<void*>(&storage_)) Fn(std::forward<F>(f));
    ops_ = &ops_for<Fn>;
  }

  // Precondition: *this is empty.
  void take(inline_function& other) noexcept {
    if (other.ops_ == nullptr) return;
    if (other.ops_->relocate != nullptr) {
      other.ops_->relocate(&storage_, &other.storage_);
    } else {
      // Word by word, each a fixed-size copy (one load and one store); the last word may hold
      // a few bytes of padding past the callable, never past the storage.
      for (std::size_t i = 0; i < other.ops_->words; ++i)
        std::memcpy(storage_ + 8 * i, other.storage_ + 8 * i, 8);
    }
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  static_assert(Capacity % 8 == 0, "inline_function: Capacity must be a multiple of 8 bytes");
  alignas(alignment) unsigned char storage_[Capacity];
  const ops_table* ops_ = nullptr;
};

}  // namespace uredis::util
