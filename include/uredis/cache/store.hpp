#pragma once
// cache::store: one shard's client-side cache of one server's replies, as a sans-I/O state
// machine. It holds reply bytes keyed by the whole read command that produced them and decides
// what may be served, what must be sent, and what an invalidation or a lost connection drops.
// The caller (the cache's driver on a connection) sends the reads, feeds the replies, the
// server's invalidations and the time; a test does the same with byte strings and a manual
// clock.
//
//   find(command, keys, now)   hit: the reply bytes, valid until the store is next changed
//                              pending: a read of the same command is in flight: wait for it
//                              miss: a placeholder now stands for this read: send it, then
//                                    fill() with the reply or cancel() on an error
//   fill(e, reply, pttl, sent) stores the reply (unless something made it stale meanwhile)
//   invalidate(key)            drops every entry that read `key`
//   written(key)               this shard wrote `key`: drops its entries and detaches its reads
//                              in flight (read your writes)
//   flush()                    drops everything
//
// find() is lookup() then, on a miss, begin_read(): a caller that must work to list a
// command's keys asks lookup() first and lists them only on a miss.
//
// Single flight: while a read is in flight, every find() of the same command on the shard is
// `pending`, so concurrent misses send one read; its waiters get the reply fill() is given.
//
// The rules, each tested (tests/cache/store_test.cpp):
//   - Invalidation while a read is pending. In band (RESP3: the invalidation arrives on the
//     connection that sent the read), a push always follows the replies written before it,
//     so an invalidation that arrives before the pending read's reply was written before the
//     read ran: it is about an older value, and the reply is stored. Redirected (RESP2:
//     invalidations come on another connection and can overtake the reply), the placeholder is
//     marked stale and its reply is handed to its waiters but not stored (the Redis
//     documentation's rule); a read issued after the invalidation does not join it (it may
//     carry the value from before the write) but goes to the server.
//   - A flush (a null invalidation after FLUSHDB/FLUSHALL, or a lost connection that carried
//     invalidations) drops every stored entry at once; redirected, pending ones turn stale
//     (and are detached) too.
//   - Expiry: an entry lives no longer than its key: `pttl` is the key's PTTL read in the same
//     round trip as the reply (the smallest over the command's keys; -1: none of them expires;
//     -2: a key is missing), capped by options.max_ttl when set. A missing key is cached only
//     with max_ttl (nothing else would ever expire it locally). Expired entries are never
//     served.
//   - Read your writes: after written(key), no find() is answered from a read of `key` that
//     was sent before the write: stored entries are dropped, and a read in flight is detached
//     (its own waiters get its reply, which is not stored; the next find() of the command
//     misses and sends a read that the server runs after the write).
//   - Memory: bytes counted per entry (command, reply, keys and a fixed overhead) stay within
//     max_bytes; the least recently used ready entry goes first (CLOCK: a hit only sets a bit,
//     eviction gives referenced entries a second pass), pending entries are never evicted, and
//     a reply larger than max_value_bytes is never stored.
//
// Memory: an entry is one block from the shard's mimalloc heap (command and key links inline)
// plus one for its reply; commands are indexed by a flat hash table (command_index.hpp), keys
// by a hash map. A hit allocates nothing.
// Threads: a store belongs to one shard's thread.

#include <mimalloc.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "uredis/cache/command_index.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::cache {

/// What a stored reply is, decoded once by fill() for the replies of most cached reads, so
/// that a hit hands the value over without reading RESP: a lone bulk string, a lone null, or
/// anything else (read with a parser).
enum class reply_shape : std::uint8_t { other, bulk_string, null };

/// The shape of `reply` (RESP bytes the cache wrote: resp/node_writer.hpp), and for a bulk
/// string its value (a view into `reply`).
reply_shape lone_value(std::string_view reply, std::string_view& value) noexcept;

/// How invalidations reach the shard: in band (RESP3, on the reading connection) or
/// redirected (RESP2, CLIENT TRACKING ... REDIRECT to a subscriber connection).
enum class delivery : std::uint8_t { in_band, redirected };

struct store_options {
  std::size_t max_bytes = 64u << 20;
  std::size_t max_value_bytes = 512u << 10;
  /// Caps every entry's life; zero: no cap (entries live as long as their keys).
  std::chrono::milliseconds max_ttl{0};
  cache::delivery delivery = cache::delivery::in_band;
  /// Where entries are allocated: the shard's heap; null: mimalloc's default heap.
  mi_heap_t* heap = nullptr;
};

struct store_stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t waits = 0;  // finds that joined a read in flight
  std::uint64_t invalidations = 0;
  std::uint64_t evictions = 0;
  std::uint64_t expirations = 0;
  std::uint64_t flushes = 0;
  std::uint64_t not_stored = 0;  // replies too large, stale, or of a missing key without max_ttl
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};

class store {
 public:
  using time_point = util::clock::time_point;

  /// A cached reply, or the placeholder of a read in flight. Opaque to callers.
  class entry;

  enum class found_kind : std::uint8_t { hit, pending, miss };
  struct found {
    found_kind kind;
    std::string_view reply;                  // hit: the stored bytes
    entry* pending;                          // pending or miss: the read's placeholder
    reply_shape shape = reply_shape::other;  // hit: what the reply is (see lone_value)
    std::string_view value;                  // hit, a bulk string: its bytes (inside reply)
  };

  /// Bytes counted for an entry beyond its command, reply and keys.
  static constexpr std::size_t entry_overhead = 128;

  explicit store(const store_options& options) noexcept
      : options_(options), commands_(options.heap) {}
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Looks `command` (the request's bytes) up; `keys` are the keys it reads (for a miss).
  found find(std::string_view command, std::span<const std::string_view> keys, time_point now);
  /// find() without starting a read: a miss has no placeholder (found::pending is null).
  found lookup(std::string_view command, time_point now);
  /// lookup() that reads `clock` only when the entry found has an expiry.
  found lookup(std::string_view command, const util::clock& clock);
  /// A hit's fast path: the stored entry of `command` when one is ready and fresh (counted as
  /// a hit, as lookup() would), else null with nothing counted or changed: the caller then
  /// asks lookup(), which settles a pending, expired or missing entry.
  // Inlined into the driver's hit path: its call would cost about as much as its probe.
  [[gnu::always_inline]] const entry* fresh(std::string_view command,
                                            const util::clock& clock) noexcept {
    entry* e = commands_.find(command);
    if (e == nullptr || e->pending_) return nullptr;
    if (e->expires_ != time_point::max() && !(clock.now() < e->expires_)) return nullptr;
    e->referenced_ = true;
    ++stats_.hits;
    return e;
  }
  /// A stored entry's reply, its shape, and its value when a bulk string.
  static std::string_view reply(const entry* e) noexcept { return {e->reply_, e->reply_size_}; }
  static reply_shape shape(const entry* e) noexcept { return e->shape_; }
  static std::string_view value(const entry* e) noexcept {
    return {e->reply_ + e->value_offset_, e->value_size_};
  }
  /// After lookup() missed: the placeholder of a read of `command`, which reads `keys`, sent
  /// at `sent`.
  entry* begin_read(std::string_view command, std::span<const std::string_view> keys,
                    time_point sent);
  /// The reply of the read `pending` stands for, `sent` being when its read was sent. Returns
  /// whether it was stored; `pending` is gone either way.
  bool fill(entry* pending, std::string_view reply, std::int64_t pttl_ms, time_point sent);
  /// The read failed: forget its placeholder.
  void cancel(entry* pending) noexcept;
  /// Drops what read `key`; returns how many entries it touched.
  std::size_t invalidate(std::string_view key) noexcept;
  /// This shard's own write to `key` is under way: see "Read your writes" above.
  void written(std::string_view key) noexcept;
  /// Drops every stored entry.
  void flush() noexcept;
  /// written() of every key: a FLUSHALL, FLUSHDB, SWAPDB or SELECT this connection sends.
  /// Stored entries are dropped, reads in flight detached (their replies may be older).
  void written_everything() noexcept;

  /// One pointer the caller keeps with a read in flight (its waiters), null at first.
  static void*& waiters(entry* pending) noexcept { return pending->waiters_; }
  /// When the read `pending` stands for was sent (begin_read's, or find's `now`).
  static time_point sent(const entry* pending) noexcept { return pending->sent_; }
  /// The distinct keys the read `pending` stands for reads.
  static std::size_t key_count(const entry* pending) noexcept { return pending->links_.size(); }

  const store_stats& stats() const noexcept { return stats_; }
  const store_options& options() const noexcept { return options_; }

 private:
  struct key_node;
  // One of an entry's keys, on that key's list of entries.
  struct key_link {
    util::list_hook hook;
    entry* owner;
    key_node* node;
  };
  struct key_node {
    std::string_view key;  // the index's own string
    util::intrusive_list<key_link, &key_link::hook> links;
  };
  struct view_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

 public:
  class entry {
   private:
    friend class store;
    util::list_hook lru_;        // ready entries, most recent first (or detached_)
    std::string_view command_;   // inline, after the key links
    std::span<key_link> links_;  // inline, after the entry
    char* reply_ = nullptr;      // its own block
    std::size_t reply_size_ = 0;
    std::size_t bytes_ = 0;  // what it counts for in stats().bytes
    time_point expires_{};
    time_point sent_{};
    void* waiters_ = nullptr;
    std::uint32_t value_offset_ = 0;  // a bulk string reply's value, decoded by fill()
    std::uint32_t value_size_ = 0;
    reply_shape shape_ = reply_shape::other;
    bool pending_ = true;
    bool indexed_ = true;      // in commands_ (a detached read is not)
    bool stale_ = false;       // its reply must not be stored
    bool referenced_ = false;  // hit since eviction last looked at it
  };

 private:
  template <class Now>
  found lookup_at(std::string_view command, Now now);
  entry* make_entry(std::string_view command, std::span<const std::string_view> keys);
  void drop(entry* e) noexcept;
  // Marks a read in flight stale and takes it out of commands_ (see invalidate and written).
  void detach_stale(entry* e) noexcept;
  // detach_stale() of every read left in commands_, once the stored entries are dropped.
  void detach_all_in_flight() noexcept;
  void evict_to_fit() noexcept;
  bool expiry_for(std::int64_t pttl_ms, time_point sent, time_point& expires) const noexcept;

  store_options options_;
  store_stats stats_;
  command_index<entry> commands_;
  std::unordered_map<std::string, key_node, view_hash, std::equal_to<>> keys_;
  util::intrusive_list<entry, &entry::lru_> lru_;
  util::intrusive_list<entry, &entry::lru_> detached_;  // reads in flight cut off (detach_stale)
};

}  // namespace uredis::cache
