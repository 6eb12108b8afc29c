#pragma once
// A contiguous, growable byte buffer with a read position and a write position: a connection's
// output buffer (the encoder appends, the socket drains) and its read buffer (the socket
// fills, the parser drains).
//
//   storage_                read_             write_                capacity_
//   |  consumed (dead)      |  unread: data() |  writable: prepare()  |
//
// Invariants: read_ <= write_ <= capacity_; the unread bytes are contiguous. The buffer never
// shrinks, so once it has grown to a connection's working size it never allocates again.
// prepare() makes room by first compacting (moving the unread bytes to the front) and only
// grows, by doubling, when compacting is not enough.
//
// Memory comes from mimalloc: from the heap given at construction (a shard's mi_heap_t, which
// mimalloc requires to be used only by the thread that created it) or, with nullptr, from
// mi_malloc's default heap. Running out of memory throws std::bad_alloc, as every std container
// does; nothing else throws.
//
// Owner: one object (a connection) owns the buffer; it is move-only.

#include <mimalloc.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <span>
#include <string_view>
#include <utility>

namespace uredis::util {

class byte_buffer {
 public:
  /// The first allocation's size: a small command or reply fits without a second growth.
  static constexpr std::size_t min_capacity = 256;

  /// An empty buffer that allocates nothing until first written to.
  explicit byte_buffer(mi_heap_t* heap = nullptr) noexcept : heap_(heap) {}

  byte_buffer(byte_buffer&& other) noexcept
      : heap_(other.heap_),
        storage_(std::exchange(other.storage_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        read_(std::exchange(other.read_, 0)),
        write_(std::exchange(other.write_, 0)),
        growths_(std::exchange(other.growths_, 0)) {}

  byte_buffer& operator=(byte_buffer&& other) noexcept {
    if (this != &other) {
      mi_free(storage_);
      heap_ = other.heap_;
      storage_ = std::exchange(other.storage_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      read_ = std::exchange(other.read_, 0);
      write_ = std::exchange(other.write_, 0);
      growths_ = std::exchange(other.growths_, 0);
    }
    return *this;
  }

  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;

  ~byte_buffer() { mi_free(storage_); }

  /// At least `n` writable bytes after the unread ones. Fill some, then commit() them. The span
  /// and any earlier data() view are invalidated by the next prepare(), append() or reserve().
  std::span<char> prepare(std::size_t n) {
    if (capacity_ - write_ < n) make_room(n);
    return {storage_ + write_, capacity_ - write_};
  }

  /// Marks the first `n` bytes of the last prepare()'s span as written (unread).
  void commit(std::size_t n) noexcept {
    assert(n <= capacity_ - write_);
    write_ += n;
  }

  /// The unread bytes.
  std::string_view data() const noexcept { return {storage_ + read_, write_ - read_}; }

  /// Drops the first `n` unread bytes. Moves no bytes, so views of the rest stay valid.
  void consume(std::size_t n) noexcept {
    assert(n <= write_ - read_);
    read_ += n;
    // All read: start over at the front for free, so a drained buffer never needs compacting.
    if (read_ == write_) read_ = write_ = 0;
  }

  /// Copies `bytes` after the unread ones. `bytes` may be some of this buffer's own unread
  /// bytes (a command sent again): they are found again if making room moves them.
  void append(std::string_view bytes) {
    if (bytes.empty()) return;  // memcpy from a null data() is undefined even for 0 bytes
    const char* source = bytes.data();
    const bool own =
        storage_ != nullptr && source >= storage_ + read_ && source < storage_ + write_;
    const std::size_t offset = own ? static_cast<std::size_t>(source - (storage_ + read_)) : 0;
    char* to = prepare(bytes.size()).data();
    if (own) source = storage_ + read_ + offset;  // compacting or growing keeps the offset
    std::memcpy(to, source, bytes.size());
    commit(bytes.size());
  }

  /// Keeps the first `n` unread bytes and drops the rest (the newest ones).
  void truncate(std::size_t n) noexcept {
    assert(n <= write_ - read_);
    write_ = read_ + n;
    if (read_ == write_) read_ = write_ = 0;
  }

  /// Makes the capacity at least `n` (rounded up to a power of two, as growth would).
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n - (write_ - read_));
  }

  /// Drops every unread byte; keeps the memory.
  void clear() noexcept { read_ = write_ = 0; }

  /// The number of unread bytes.
  std::size_t size() const noexcept { return write_ - read_; }
  bool empty() const noexcept { return write_ == read_; }
  std::size_t capacity() const noexcept { return capacity_; }
  /// The heap the buffer allocates from (nullptr: mi_malloc's default).
  mi_heap_t* heap() const noexcept { return heap_; }
  /// How many times the buffer has taken memory from mimalloc. mimalloc is invisible to the
  /// operator new counters of the allocation tests, so they assert this stays put instead.
  std::uint64_t growths() const noexcept { return growths_; }

 private:
  // Slow path of prepare(): compact if that frees enough room, otherwise grow.
  void make_room(std::size_t n) {
    const std::size_t unread = write_ - read_;
    if (capacity_ - unread >= n) {
      std::memmove(storage_, storage_ + read_, unread);
      read_ = 0;
      write_ = unread;
      return;
    }
    grow(n);
  }

  // Reallocates to the smallest doubling of the capacity that holds the unread bytes plus `n`.
  void grow(std::size_t n) {
    const std::size_t unread = write_ - read_;
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max() / 2;
    if (n > max - unread) throw std::bad_alloc();
    const std::size_t needed = unread + n;
    std::size_t cap = capacity_ < min_capacity ? min_capacity : capacity_;
    while (cap < needed)
      cap *= 2;
    char* fresh =
        static_cast<char*>(heap_ != nullptr ? mi_heap_malloc(heap_, cap) : mi_malloc(cap));
    if (fresh == nullptr) throw std::bad_alloc();
    // Copy only the live bytes: the consumed prefix is dead, and compaction comes for free.
    if (unread > 0) std::memcpy(fresh, storage_ + read_, unread);
    mi_free(storage_);
    storage_ = fresh;
    capacity_ = cap;
    read_ = 0;
    write_ = unread;
    ++growths_;
  }

  mi_heap_t* heap_ = nullptr;
  char* storage_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t read_ = 0;
  std::size_t write_ = 0;
  std::uint64_t growths_ = 0;
};

}  // namespace uredis::util
