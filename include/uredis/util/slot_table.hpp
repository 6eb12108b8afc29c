#pragma once
// slot_table: values addressed by 64-bit ids that go stale, for io_uring user_data.
//
// A submission stores its completion in a slot and puts the slot's id in the SQE's user_data;
// the CQE brings the id back. Each slot carries a generation that advances every time the slot
// is freed, so an id kept past its value's life (a late or duplicated completion, a cancel
// racing a completion) no longer matches: find() returns nullptr instead of someone else's
// value.
//
// Id layout (also the io_uring user_data layout; encode/decode helpers below):
//
//    63       56 55                   32 31                       0
//   +-----------+-----------------------+--------------------------+
//   |    tag    |      generation       |        slot index        |
//   +-----------+-----------------------+--------------------------+
//     8 bits,     24 bits, wraps to 0      32 bits
//     always 0    after 2^24 frees of
//     in an id    one slot
//
// The table never sets the tag bits: the caller may put an operation tag there (with_tag) and
// pass the whole user_data back, since find/take/erase ignore bits 56-63.
//
// Guarantees: an id equals the id of a later value in the same slot only after 2^24 frees of
// that slot. Free slots are reused last-freed-first (the hottest memory); the generation is what
// makes that safe. Ids are not guaranteed nonzero: give operations a nonzero tag if the caller
// needs user_data 0 to mean "no slot".
//
// Memory: reserve() up front; insert() allocates only when every slot is in use (the table
// doubles). Growing moves the live values, so a pointer from find() is valid until that value
// leaves the table or an insert() is made while size() == capacity().

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace uredis::util {

inline constexpr std::uint64_t slot_index_mask = 0x0000'0000'FFFF'FFFFull;
inline constexpr int slot_generation_shift = 32;
inline constexpr std::uint32_t slot_generation_limit = 1u << 24;  // generations are mod this
inline constexpr std::uint64_t slot_generation_mask = 0x00FF'FFFF'0000'0000ull;
inline constexpr int slot_tag_shift = 56;
inline constexpr std::uint64_t slot_tag_mask = 0xFF00'0000'0000'0000ull;
/// The bits of a user_data that form a slot_table id.
inline constexpr std::uint64_t slot_id_mask = ~slot_tag_mask;

static_assert((slot_index_mask | slot_generation_mask | slot_tag_mask) == ~0ull);
static_assert((slot_index_mask & slot_generation_mask) == 0 &&
              (slot_generation_mask & slot_tag_mask) == 0);
static_assert(slot_generation_mask >> slot_generation_shift == slot_generation_limit - 1);

/// The id of slot `index` at generation `generation` (taken mod 2^24). Tag bits are zero.
constexpr std::uint64_t encode_slot_id(std::uint32_t index, std::uint32_t generation) noexcept {
  return (static_cast<std::uint64_t>(generation & (slot_generation_limit - 1))
          << slot_generation_shift) |
         index;
}
/// The slot index of an id or user_data.
constexpr std::uint32_t decode_slot_index(std::uint64_t id) noexcept {
  return static_cast<std::uint32_t>(id & slot_index_mask);
}
/// The generation of an id or user_data.
constexpr std::uint32_t decode_slot_generation(std::uint64_t id) noexcept {
  return static_cast<std::uint32_t>((id & slot_generation_mask) >> slot_generation_shift);
}
/// user_data carrying `id` and an operation tag in bits 56-63 (any tag already there is replaced).
constexpr std::uint64_t with_tag(std::uint64_t id, std::uint8_t tag) noexcept {
  return (id & slot_id_mask) | (static_cast<std::uint64_t>(tag) << slot_tag_shift);
}
/// The operation tag of a user_data.
constexpr std::uint8_t decode_tag(std::uint64_t user_data) noexcept {
  return static_cast<std::uint8_t>(user_data >> slot_tag_shift);
}
/// The slot_table id inside a user_data (tag bits cleared).
constexpr std::uint64_t strip_tag(std::uint64_t user_data) noexcept {
  return user_data & slot_id_mask;
}

template <class T>
class slot_table {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "slot_table<T>: T must be nothrow move constructible (growth relocates values)");

 public:
  using value_type = T;
  using id_type = std::uint64_t;

  /// The largest number of slots: index 0xFFFF'FFFF marks the end of the free list.
  static constexpr std::size_t max_slots = 0xFFFF'FFFFu;

  /// An empty table with no memory.
  slot_table() noexcept = default;
  /// An empty table with `n` slots ready: the first n inserts allocate nothing.
  explicit slot_table(std::size_t n) { reserve(n); }

  slot_table(slot_table&& other) noexcept
      : slots_(std::exchange(other.slots_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        used_(std::exchange(other.used_, 0)),
        size_(std::exchange(other.size_, 0)),
        free_head_(std::exchange(other.free_head_, no_slot)) {}
  slot_table& operator=(slot_table&& other) noexcept {
    if (this != &other) {
      release();
      slots_ = std::exchange(other.slots_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      used_ = std::exchange(other.used_, 0);
      size_ = std::exchange(other.size_, 0);
      free_head_ = std::exchange(other.free_head_, no_slot);
    }
    return *this;
  }
  slot_table(const slot_table&) = delete;
  slot_table& operator=(const slot_table&) = delete;

  ~slot_table() { release(); }

  /// Live values.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Slots allocated (live + free).
  std::size_t capacity() const noexcept { return capacity_; }

  /// Makes room for `n` live values in total. Allocates only when n > capacity().
  void reserve(std::size_t n) {
    assert(n <= max_slots);
    if (n > capacity_) grow_to(static_cast<std::uint32_t>(n));
  }

  /// Stores `value` and returns its id (tag bits zero). Allocates only when size() == capacity().
  id_type insert(T&& value) { return emplace(std::move(value)); }
  id_type insert(const T& value) { return emplace(value); }

  /// Like insert(), constructing the value in place from `args`.
  template <class... Args>
  id_type emplace(Args&&... args) {
    if (free_head_ == no_slot && used_ == capacity_) {
      assert(capacity_ < max_slots && "slot_table: out of slot indices");
      const std::size_t doubled = capacity_ == 0 ? min_capacity : std::size_t{capacity_} * 2;
      grow_to(static_cast<std::uint32_t>(doubled < max_slots ? doubled : max_slots));
    }
    const bool reuse = free_head_ != no_slot;
    const std::uint32_t index = reuse ? free_head_ : used_;
    slot& s = reuse ? slots_[index] : *::new (static_cast<void*>(slots_ + index)) slot;
    // If this throws, nothing has changed: a never-used slot is just raw memory again.
    ::new (static_cast<void*>(s.value)) T(std::forward<Args>(args)...);
    if (reuse) {
      free_head_ = s.next_free;
    } else {
      ++used_;
    }
    s.state |= live_bit;
    ++size_;
    return encode_slot_id(index, s.state & generation_bits);
  }

  /// The live value with this id, or nullptr if the id is stale (its value was taken or erased,
  /// even if the slot holds a newer value) or was never issued. Bits 56-63 are ignored.
  T* find(id_type id) noexcept {
    const std::uint32_t index = decode_slot_index(id);
    if (index >= used_) return nullptr;
    slot& s = slots_[index];
    if (s.state != (decode_slot_generation(id) | live_bit)) return nullptr;
    return s.get();
  }
  const T* find(id_type id) const noexcept { return const_cast<slot_table*>(this)->find(id); }

  bool contains(id_type id) const noexcept { return find(id) != nullptr; }

  /// Moves the value out and frees its slot (the id goes stale) before returning, so the value
  /// (e.g. a completion callback) may insert into the table while it runs. Empty if stale.
  std::optional<T> take(id_type id) noexcept {
    T* p = find(id);
    if (p == nullptr) return std::nullopt;
    std::optional<T> out(std::move(*p));
    free_slot(decode_slot_index(id));
    return out;
  }

  /// Destroys the value and frees its slot. Returns false (and does nothing) if the id is stale.
  bool erase(id_type id) noexcept {
    if (find(id) == nullptr) return false;
    free_slot(decode_slot_index(id));
    return true;
  }

  /// Destroys every value; all their ids go stale. Keeps the memory.
  void clear() noexcept {
    for (std::uint32_t i = 0; i < used_; ++i) {
      if ((slots_[i].state & live_bit) != 0) free_slot(i);
    }
  }

  /// Calls f(id, value) for every live value, in slot order. f must not insert or free.
  template <class F>
  void for_each(F&& f) {
    for (std::uint32_t i = 0; i < used_; ++i) {
      slot& s = slots_[i];
      if ((s.state & live_bit) != 0) f(encode_slot_id(i, s.state & generation_bits), *s.get());
    }
  }

 private:
  static constexpr std::uint32_t no_slot = 0xFFFF'FFFFu;
  static constexpr std::uint32_t generation_bits = slot_generation_limit - 1;
  // Above the 24 generation bits: a live slot's state is `generation | live_bit`, so find()
  // checks generation and liveness with one comparison.
  static constexpr std::uint32_t live_bit = 1u << 31;
  static constexpr std::size_t min_capacity = 16;

  struct slot {
    std::uint32_t state = 0;            // generation (24 bits) | live_bit
    std::uint32_t next_free = no_slot;  // meaningful only while free
    alignas(T) unsigned char value[sizeof(T)];

    T* get() noexcept { return std::launder(reinterpret_cast<T*>(value)); }
  };

  void free_slot(std::uint32_t index) noexcept {
    slot& s = slots_[index];
    std::destroy_at(s.get());
    s.state = (s.state + 1) & generation_bits;  // clears live_bit too
    s.next_free = free_head_;
    free_head_ = index;
    --size_;
  }

  // Slots [used_, capacity_) have never been used: they are raw memory until emplace takes
  // them, which keeps reserve() O(1) beyond the allocation.
  void grow_to(std::uint32_t new_capacity) {
    slot* fresh = std::allocator<slot>{}.allocate(new_capacity);
    for (std::uint32_t i = 0; i < used_; ++i) {
      slot& from = slots_[i];
      slot* to = ::new (static_cast<void*>(fresh + i)) slot;
      to->state = from.state;
      to->next_free = from.next_free;
      if ((from.state & live_bit) != 0) {
        ::new (static_cast<void*>(to->value)) T(std::move(*from.get()));
        std::destroy_at(from.get());
      }
    }
    if (slots_ != nullptr) std::allocator<slot>{}.deallocate(slots_, capacity_);
    slots_ = fresh;
    capacity_ = new_capacity;
  }

  void release() noexcept {
    clear();
    if (slots_ != nullptr) std::allocator<slot>{}.deallocate(slots_, capacity_);
    slots_ = nullptr;
    capacity_ = used_ = 0;
    free_head_ = no_slot;
  }

  slot* slots_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t used_ = 0;  // slots [0, used_) have been handed out at least once
  std::size_t size_ = 0;
  std::uint32_t free_head_ = no_slot;
};

}  // namespace uredis::util
