#pragma once
// intrusive_list: a doubly linked list threaded through a `list_hook` member of its elements.
//
// Ownership: the list owns nothing. Elements are owned elsewhere (a connection's slot, a
// coroutine frame, a timer's owner); the list only links them. Linking never allocates.
//
//        list (sentinel)
//       +--------------+
//   +-->| prev | next  |---+        a hook is linked exactly when next_ != nullptr;
//   |   +--------------+   v        the sentinel of an empty list points at itself
//   |        +----------------+   +----------------+
//   +--------| T { ...hook... }|<->| T { ...hook... }|
//            +----------------+   +----------------+
//
// Auto-unlink: a hook's destructor unlinks it, so an in-flight operation object that dies
// removes itself from whatever list it is on. Because an element can leave without telling its
// list, the list keeps no element count: empty() is O(1), counting is O(n).
//
// Hooks are neither copyable nor movable (a copy would alias the neighbours' pointers). A T
// that must be movable defines its own move operations and gives the new object a fresh,
// unlinked hook. An element may sit on several lists at once through several hooks.
//
// Destroying (or clearing) a list unlinks its elements; it does not destroy them.
//
// Mapping a hook back to its T uses the pointer-to-member's offset, read through the Itanium
// C++ ABI representation (a data member pointer is the member's byte offset); GCC and Clang on
// every Linux target use that ABI, and a static_assert stops other layouts.

#include <bit>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <type_traits>

namespace uredis::util {

class list_hook {
 public:
  list_hook() noexcept = default;
  list_hook(const list_hook&) = delete;
  list_hook& operator=(const list_hook&) = delete;

  /// Unlinks the hook from its list, if any.
  ~list_hook() { unlink(); }

  /// True while the hook is on a list.
  bool is_linked() const noexcept { return next_ != nullptr; }

  /// Removes the hook from its list in O(1); does nothing if it is not linked.
  void unlink() noexcept {
    if (next_ == nullptr) return;
    prev_->next_ = next_;
    next_->prev_ = prev_;
    prev_ = nullptr;
    next_ = nullptr;
  }

 private:
  template <class T, list_hook T::*Hook>
  friend class intrusive_list;

  // Links this (unlinked) hook just before `pos`.
  void link_before(list_hook* pos) noexcept {
    assert(next_ == nullptr && "the element is already on a list");
    next_ = pos;
    prev_ = pos->prev_;
    prev_->next_ = this;
    pos->prev_ = this;
  }

  list_hook* prev_ = nullptr;
  list_hook* next_ = nullptr;
};

template <class T, list_hook T::*Hook>
class intrusive_list {
  static_assert(sizeof(list_hook T::*) == sizeof(std::ptrdiff_t),
                "intrusive_list assumes the Itanium ABI pointer-to-data-member representation");

  template <bool Const>
  class basic_iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const T&, T&>;
    using pointer = std::conditional_t<Const, const T*, T*>;

    basic_iterator() noexcept = default;
    // iterator -> const_iterator (the other way would drop const)
    operator basic_iterator<true>() const noexcept requires(!Const) {
      return basic_iterator<true>(node_);
    }

    reference operator*() const noexcept { return *owner(node_); }
    pointer operator->() const noexcept { return owner(node_); }
    basic_iterator& operator++() noexcept {
      node_ = node_->next_;
      return *this;
    }
    basic_iterator operator++(int) noexcept {
      basic_iterator old = *this;
      node_ = node_->next_;
      return old;
    }
    basic_iterator& operator--() noexcept {
      node_ = node_->prev_;
      return *this;
    }
    basic_iterator operator--(int) noexcept {
      basic_iterator old = *this;
      node_ = node_->prev_;
      return old;
    }
    friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
      return a.node_ == b.node_;
    }

   private:
    friend class intrusive_list;
    friend class basic_iterator<!Const>;
    explicit basic_iterator(list_hook* node) noexcept : node_(node) {}
    list_hook* node_ = nullptr;
  };

 public:
  using value_type = T;
  using reference = T&;
  using const_reference = const T&;
  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  intrusive_list() noexcept { head_.prev_ = head_.next_ = &head_; }

  /// Takes over other's elements; other becomes empty.
  intrusive_list(intrusive_list&& other) noexcept : intrusive_list() { take(other); }
  intrusive_list& operator=(intrusive_list&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }
  intrusive_list(const intrusive_list&) = delete;
  intrusive_list& operator=(const intrusive_list&) = delete;

  /// Unlinks every element (they stay alive, owned elsewhere).
  ~intrusive_list() {
    clear();
    head_.prev_ = head_.next_ = nullptr;  // so head_'s own destructor has nothing to do
  }

  bool empty() const noexcept { return head_.next_ == &head_; }

  /// Links `x` last / first. Precondition: x is on no list through this hook.
  void push_back(T& x) noexcept { hook_of(x).link_before(&head_); }
  void push_front(T& x) noexcept { hook_of(x).link_before(head_.next_); }

  /// Links `x` before `pos` and returns an iterator to it. Precondition: x is unlinked.
  iterator insert(const_iterator pos, T& x) noexcept {
    hook_of(x).link_before(pos.node_);
    return iterator(&hook_of(x));
  }

  /// First / last element. Precondition: !empty().
  T& front() noexcept {
    assert(!empty());
    return *owner(head_.next_);
  }
  const T& front() const noexcept {
    assert(!empty());
    return *owner(head_.next_);
  }
  T& back() noexcept {
    assert(!empty());
    return *owner(head_.prev_);
  }
  const T& back() const noexcept {
    assert(!empty());
    return *owner(head_.prev_);
  }

  /// Unlinks the first / last element. Precondition: !empty().
  void pop_front() noexcept {
    assert(!empty());
    head_.next_->unlink();
  }
  void pop_back() noexcept {
    assert(!empty());
    head_.prev_->unlink();
  }

  /// Unlinks `x` in O(1). Precondition: x is on this list (use hook.unlink() when the list is
  /// not known: the result is the same).
  void erase(T& x) noexcept {
    assert(hook_of(x).is_linked());
    hook_of(x).unlink();
  }

  /// Unlinks the element at `pos`; returns the iterator after it, so a loop can erase while
  /// walking the list.
  iterator erase(const_iterator pos) noexcept {
    assert(pos.node_ != &head_);
    list_hook* next = pos.node_->next_;
    pos.node_->unlink();
    return iterator(next);
  }

  /// Unlinks every element in O(n).
  void clear() noexcept {
    while (!empty())
      head_.next_->unlink();
  }

  /// An iterator to `x`, which must be on this list.
  iterator iterator_to(T& x) noexcept { return iterator(&hook_of(x)); }
  const_iterator iterator_to(const T& x) const noexcept {
    return const_iterator(const_cast<list_hook*>(&hook_of(x)));
  }

  iterator begin() noexcept { return iterator(head_.next_); }
  iterator end() noexcept { return iterator(&head_); }
  const_iterator begin() const noexcept { return const_iterator(head_.next_); }
  const_iterator end() const noexcept { return const_iterator(const_cast<list_hook*>(&head_)); }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

 private:
  static list_hook& hook_of(T& x) noexcept { return x.*Hook; }
  static const list_hook& hook_of(const T& x) noexcept { return x.*Hook; }

  // The element that contains hook `h`.
  static T* owner(list_hook* h) noexcept {
    const auto offset = std::bit_cast<std::ptrdiff_t>(Hook);
    return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(h) - offset);
  }

  // Moves other's chain under head_. Precondition: *this is empty.
  void take(intrusive_list& other) noexcept {
    if (other.empty()) return;
    head_.next_ = other.head_.next_;
    head_.prev_ = other.head_.prev_;
    head_.next_->prev_ = &head_;
    head_.prev_->next_ = &head_;
    other.head_.prev_ = other.head_.next_ = &other.head_;
  }

  list_hook head_;  // the sentinel: never an element
};

}  // namespace uredis::util
