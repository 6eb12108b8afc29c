#pragma once
// command_index: the store's index from a command's bytes to its entry, a flat open-addressing
// hash table. A hit is one hash of the request (util::hash_bytes), one probe that usually
// lands on the first slot, and one comparison; std::unordered_map spent more than that on
// std::hash alone and then followed a node pointer.
//
//   command_index<entry> index(heap);
//   index.insert(command, e);   // `command` is e's own copy of the bytes: the index views it
//   index.find(request);        // e, or null
//   index.erase(command, e);
//
// Layout: a power-of-two array of slots {hash, command view, value}, at most half full, linear
// probing; an erase shifts the slots after it back (no tombstones), so a probe stops at the
// first empty slot. The full hash in the slot skips the byte comparison of other commands.
//
// Memory: one block from the shard's heap, doubled when half full, never shrunk (as
// std::unordered_map's buckets). insert() may throw std::bad_alloc, leaving the index as it was.

#include <mimalloc.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "uredis/util/hash_bytes.hpp"

namespace uredis::cache {

template <class T>
class command_index {
 public:
  explicit command_index(mi_heap_t* heap) noexcept : heap_(heap) {}
  ~command_index() { mi_free(slots_); }
  command_index(const command_index&) = delete;
  command_index& operator=(const command_index&) = delete;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// The value inserted under `command`, or null.
  T* find(std::string_view command) const noexcept {
    if (size_ == 0) return nullptr;
    const std::uint64_t h = util::hash_bytes(command);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.value == nullptr) return nullptr;
      if (s.hash == h && same(s.command, command)) return s.value;
    }
  }

  /// Adds `value` under `command` (which must not be in the index; the index views its bytes
  /// until erase()).
  void insert(std::string_view command, T* value) {
    if (2 * (size_ + 1) > capacity()) grow();
    place(slot{util::hash_bytes(command), command, value});
    ++size_;
  }

  /// Removes `command`, inserted with `value`.
  void erase(std::string_view command, const T* value) noexcept {
    std::size_t i = util::hash_bytes(command) & mask_;
    while (slots_[i].value != value)
      i = (i + 1) & mask_;
    // Backward shift: a later slot of the same run moves into the hole unless it already sits
    // at or after its home (between the hole and itself, cyclically), so no probe passes an
    // empty slot before reaching its value.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const slot& s = slots_[j];
      if (s.value == nullptr) break;
      const std::size_t home = s.hash & mask_;
      if (((j - home) & mask_) < ((j - i) & mask_)) continue;  // home is after the hole
      slots_[i] = s;
      i = j;
    }
    slots_[i] = slot{};
    --size_;
  }

  /// Calls f(value) for every value. f must not change the index.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i)
      if (slots_[i].value != nullptr) f(slots_[i].value);
  }

  /// Calls f(value) for every value, then empties the index. f must not change the index.
  template <class F>
  void clear(F&& f) {
    for (std::size_t i = 0; i < capacity(); ++i)
      if (slot& s = slots_[i]; s.value != nullptr) {
        f(std::exchange(s, slot{}).value);
        --size_;
      }
  }

 private:
  struct slot {
    std::uint64_t hash = 0;
    std::string_view command;
    T* value = nullptr;  // null: empty
  };

  static constexpr std::size_t min_capacity = 16;

  std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }

  static bool same(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
  }

  void place(const slot& s) noexcept {
    std::size_t i = s.hash & mask_;
    while (slots_[i].value != nullptr)
      i = (i + 1) & mask_;
    slots_[i] = s;
  }

  void grow() {
    const std::size_t old_capacity = capacity();
    const std::size_t capacity = old_capacity == 0 ? min_capacity : 2 * old_capacity;
    void* block = heap_ != nullptr ? mi_heap_malloc(heap_, capacity * sizeof(slot))
                                   : mi_malloc(capacity * sizeof(slot));
    if (block == nullptr) throw std::bad_alloc();
    slot* old = std::exchange(slots_, static_cast<slot*>(block));
    for (std::size_t i = 0; i < capacity; ++i)
      ::new (&slots_[i]) slot();
    mask_ = capacity - 1;
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i].value != nullptr) place(old[i]);
    mi_free(old);
  }

  mi_heap_t* heap_;
  slot* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace uredis::cache
