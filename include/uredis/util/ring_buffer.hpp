#pragma once
// ring_buffer: a growable FIFO over one power-of-two array, for queues that reach a steady size
// and then must never allocate (a connection's pending-reply FIFO, a shard's ready queue).
//
//        head_                    (head_ + size_) & mask
//          v                        v
//   [ . . a b c d e f . . . . . . . ]      capacity is a power of two, so an index wraps with
//   [ f g . . . . . . a b c d e ]          `& (capacity - 1)` rather than a division
//       ^tail        ^head_
//
// Invariants: capacity() is 0 or a power of two; exactly the size() slots from head_ (mod
// capacity) hold constructed elements, and every other slot is raw memory. Memory is allocated
// only when a push finds the buffer full (the capacity doubles) or by reserve(); pop and clear
// never free it, so after warm-up (or an up-front reserve) pushes and pops allocate nothing.
//
// Element references stay valid until the element is popped or the buffer grows. T must be
// nothrow move constructible (growth moves elements and must not fail halfway).

#include <bit>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace uredis::util {

template <class T>
class ring_buffer {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "ring_buffer<T>: T must be nothrow move constructible (growth relocates elements)");
  static_assert(std::is_nothrow_destructible_v<T>,
                "ring_buffer<T>: T must not throw on destruction");

  template <bool Const>
  class basic_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const T&, T&>;
    using pointer = std::conditional_t<Const, const T*, T*>;
    using owner_type = std::conditional_t<Const, const ring_buffer, ring_buffer>;

    basic_iterator() noexcept = default;
    // iterator -> const_iterator (the other way would drop const)
    operator basic_iterator<true>() const noexcept requires(!Const) {
      return basic_iterator<true>(owner_, index_);
    }

    reference operator*() const noexcept { return (*owner_)[index_]; }
    pointer operator->() const noexcept { return &(*owner_)[index_]; }
    reference operator[](difference_type n) const noexcept {
      return (*owner_)[static_cast<std::size_t>(static_cast<difference_type>(index_) + n)];
    }

    basic_iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    basic_iterator operator++(int) noexcept {
      basic_iterator old = *this;
      ++index_;
      return old;
    }
    basic_iterator& operator--() noexcept {
      --index_;
      return *this;
    }
    basic_iterator operator--(int) noexcept {
      basic_iterator old = *this;
      --index_;
      return old;
    }
    basic_iterator& operator+=(difference_type n) noexcept {
      index_ = static_cast<std::size_t>(static_cast<difference_type>(index_) + n);
      return *this;
    }
    basic_iterator& operator-=(difference_type n) noexcept { return *this += -n; }
    friend basic_iterator operator+(basic_iterator it, difference_type n) noexcept {
      return it += n;
    }
    friend basic_iterator operator+(difference_type n, basic_iterator it) noexcept {
      return it += n;
    }
    friend basic_iterator operator-(basic_iterator it, difference_type n) noexcept {
      return it -= n;
    }
    friend difference_type operator-(const basic_iterator& a, const basic_iterator& b) noexcept {
      return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
    }
    friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
      return a.index_ == b.index_;
    }
    friend auto operator<=>(const basic_iterator& a, const basic_iterator& b) noexcept {
      return a.index_ <=> b.index_;
    }

   private:
    friend class ring_buffer;
    friend class basic_iterator<!Const>;
    basic_iterator(owner_type* owner, std::size_t index) noexcept : owner_(owner), index_(index) {}
    owner_type* owner_ = nullptr;
    std::size_t index_ = 0;  // position from the front, not a slot number
  };

 public:
  using value_type = T;
  using size_type = std::size_t;
  using reference = T&;
  using const_reference = const T&;
  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  /// An empty buffer with no memory; the first push allocates.
  ring_buffer() noexcept = default;

  /// An empty buffer able to hold `n` elements without allocating.
  explicit ring_buffer(size_type n) { reserve(n); }

  ring_buffer(ring_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)) {}

  ring_buffer& operator=(ring_buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      head_ = std::exchange(other.head_, 0);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  /// A copy holds copies of the elements in the same order (and the same capacity).
  ring_buffer(const ring_buffer& other) requires std::is_copy_constructible_v<T> {
    reserve(other.capacity_);
    for (const T& x : other)
      emplace_back(x);
  }

  ring_buffer& operator=(const ring_buffer& other) requires std::is_copy_constructible_v<T> {
    if (this != &other) {
      ring_buffer copy(other);
      *this = std::move(copy);
    }
    return *this;
  }

  ~ring_buffer() { release(); }

  size_type size() const noexcept { return size_; }
  size_type capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Ensures room for `n` elements (capacity becomes at least the next power of two >= n).
  /// Allocates only when n > capacity().
  void reserve(size_type n) {
    if (n <= capacity_) return;
    assert(n <= (size_type{1} << (std::numeric_limits<size_type>::digits - 1)));
    grow_to(std::bit_ceil(n));
  }

  /// Appends an element constructed from `args` and returns it. Allocates only when full.
  /// `args` may refer to an element of this buffer.
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) return grow_and_emplace(std::forward<Args>(args)...);
    T* p = ::new (static_cast<void*>(slot(size_))) T(std::forward<Args>(args)...);
    ++size_;
    return *p;
  }
  void push_back(const T& x) { emplace_back(x); }
  void push_back(T&& x) { emplace_back(std::move(x)); }

  /// Destroys the first element. Precondition: !empty().
  void pop_front() noexcept {
    assert(size_ > 0);
    std::destroy_at(slot(0));
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }

  /// Destroys the last element. Precondition: !empty().
  void pop_back() noexcept {
    assert(size_ > 0);
    std::destroy_at(slot(size_ - 1));
    --size_;
  }

  /// Destroys every element; keeps the memory.
  void clear() noexcept {
    while (size_ > 0)
      pop_front();
    head_ = 0;
  }

  /// Precondition: !empty().
  T& front() noexcept {
    assert(size_ > 0);
    return *slot(0);
  }
  const T& front() const noexcept {
    assert(size_ > 0);
    return *slot(0);
  }
  T& back() noexcept {
    assert(size_ > 0);
    return *slot(size_ - 1);
  }
  const T& back() const noexcept {
    assert(size_ > 0);
    return *slot(size_ - 1);
  }

  /// The element `i` places after the front. Precondition: i < size().
  T& operator[](size_type i) noexcept {
    assert(i < size_);
    return *slot(i);
  }
  const T& operator[](size_type i) const noexcept {
    assert(i < size_);
    return *slot(i);
  }

  /// Iteration from front to back. Iterators are positions, invalidated by pop_front.
  iterator begin() noexcept { return iterator(this, 0); }
  iterator end() noexcept { return iterator(this, size_); }
  const_iterator begin() const noexcept { return const_iterator(this, 0); }
  const_iterator end() const noexcept { return const_iterator(this, size_); }

 private:
  // The slot holding the element i places after the front (or, for i == size_, the next free).
  T* slot(size_type i) const noexcept { return data_ + ((head_ + i) & (capacity_ - 1)); }

  template <class... Args>
  T& grow_and_emplace(Args&&... args) {
    const size_type new_capacity = capacity_ == 0 ? min_capacity : capacity_ * 2;
    T* fresh = std::allocator<T>{}.allocate(new_capacity);
    // Construct the new element first: args may alias an element about to be moved.
    T* p;
    if constexpr (std::is_nothrow_constructible_v<T, Args...>) {
      p = ::new (static_cast<void*>(fresh + size_)) T(std::forward<Args>(args)...);
    } else {
      try {
        p = ::new (static_cast<void*>(fresh + size_)) T(std::forward<Args>(args)...);
      } catch (...) {
        std::allocator<T>{}.deallocate(fresh, new_capacity);
        throw;
      }
    }
    relocate_into(fresh);
    adopt(fresh, new_capacity);
    ++size_;
    return *p;
  }

  void grow_to(size_type new_capacity) {
    T* fresh = std::allocator<T>{}.allocate(new_capacity);
    relocate_into(fresh);
    adopt(fresh, new_capacity);
  }

  // Moves the elements, in order, to fresh[0 .. size_) and destroys the originals.
  void relocate_into(T* fresh) noexcept {
    for (size_type i = 0; i < size_; ++i) {
      T* from = slot(i);
      ::new (static_cast<void*>(fresh + i)) T(std::move(*from));
      std::destroy_at(from);
    }
  }

  void adopt(T* fresh, size_type new_capacity) noexcept {
    if (data_ != nullptr) std::allocator<T>{}.deallocate(data_, capacity_);
    data_ = fresh;
    capacity_ = new_capacity;
    head_ = 0;
  }

  void release() noexcept {
    clear();
    if (data_ != nullptr) std::allocator<T>{}.deallocate(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }

  // The first allocation's size: small queues should not grow 1, 2, 4, 8.
  static constexpr size_type min_capacity = 8;

  T* data_ = nullptr;
  size_type capacity_ = 0;  // 0 or a power of two
  size_type head_ = 0;      // slot of the front element
  size_type size_ = 0;
};

}  // namespace uredis::util
