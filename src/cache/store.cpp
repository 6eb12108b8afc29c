#include "uredis/cache/store.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace uredis::cache {

namespace {

void* allocate(mi_heap_t* heap, std::size_t size) {
  void* p = heap != nullptr ? mi_heap_malloc(heap, size) : mi_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

reply_shape lone_value(std::string_view reply, std::string_view& value) noexcept {
  const char* const p = reply.data();
  const std::size_t size = reply.size();
  if (size >= 5 && p[0] == '$') {
    // At most 18 digits: a length that cannot overflow, and more than any reply holds.
    const std::size_t digits_end = size < 19 ? size : 19;
    std::size_t length = 0;
    std::size_t i = 1;
    for (; i < digits_end && static_cast<unsigned char>(p[i] - '0') < 10; ++i)
      length = length * 10 + static_cast<std::size_t>(p[i] - '0');
    if (i == 1 || i + 2 + length + 2 != size || p[i] != '\r') return reply_shape::other;
    value = std::string_view(p + i + 2, length);
    return reply_shape::bulk_string;
  }
  if (size == 3 && p[0] == '_' && p[1] == '\r' && p[2] == '\n') return reply_shape::null;
  return reply_shape::other;
}

store::~store() {
  commands_.clear([this](entry* e) {
    e->indexed_ = false;  // the index empties itself
    drop(e);
  });
  while (!detached_.empty())
    drop(&detached_.front());
}

store::entry* store::make_entry(std::string_view command, std::span<const std::string_view> keys) {
  // A key read twice (MGET a a) is linked once: invalidate() walks each key's list once.
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < keys.size(); ++i)
    distinct += std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) ==
                keys.begin() + static_cast<std::ptrdiff_t>(i);

  // One block: the entry, its key links, then the command's bytes.
  const std::size_t size = sizeof(entry) + distinct * sizeof(key_link) + command.size();
  void* block = allocate(options_.heap, size);
  entry* e = ::new (block) entry();
  auto* links = reinterpret_cast<key_link*>(static_cast<char*>(block) + sizeof(entry));
  char* text = reinterpret_cast<char*>(links + distinct);
  std::memcpy(text, command.data(), command.size());
  e->command_ = {text, command.size()};
  e->links_ = {links, distinct};

  try {
    commands_.insert(e->command_, e);  // first: it is all there is to undo if it throws
  } catch (...) {
    e->~entry();
    mi_free(block);
    throw;
  }
  std::size_t key_bytes = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) !=
        keys.begin() + static_cast<std::ptrdiff_t>(i))
      continue;
    auto it = keys_.find(keys[i]);
    if (it == keys_.end()) {
      it = keys_.try_emplace(std::string(keys[i])).first;
      it->second.key = it->first;
    }
    key_link* link = ::new (&links[n++]) key_link{{}, e, &it->second};
    it->second.links.push_back(*link);
    key_bytes += keys[i].size();
  }
  e->bytes_ = entry_overhead + command.size() + key_bytes;
  stats_.bytes += e->bytes_;
  ++stats_.entries;
  return e;
}

void store::drop(entry* e) noexcept {
  if (e->indexed_) commands_.erase(e->command_, e);
  for (key_link& link : e->links_) {
    key_node* node = link.node;
    link.hook.unlink();
    if (node->links.empty()) keys_.erase(keys_.find(node->key));  // `node` is gone now
    link.~key_link();
  }
  e->lru_.unlink();
  stats_.bytes -= e->bytes_;
  --stats_.entries;
  mi_free(e->reply_);
  e->~entry();
  mi_free(e);
}

store::found store::find(std::string_view command, std::span<const std::string_view> keys,
                         time_point now) {
  found f = lookup(command, now);
  if (f.kind == found_kind::miss) f.pending = begin_read(command, keys, now);
  return f;
}

store::entry* store::begin_read(std::string_view command, std::span<const std::string_view> keys,
                                time_point sent) {
  entry* e = make_entry(command, keys);
  e->sent_ = sent;
  return e;
}

store::found store::lookup(std::string_view command, time_point now) {
  return lookup_at(command, [now] { return now; });
}

store::found store::lookup(std::string_view command, const util::clock& clock) {
  return lookup_at(command, [&clock] { return clock.now(); });
}

template <class Now>
store::found store::lookup_at(std::string_view command, Now now) {
  if (entry* e = commands_.find(command); e != nullptr) {
    if (e->pending_) {
      ++stats_.waits;
      return {found_kind::pending, {}, e, reply_shape::other, {}};
    }
    // An entry whose keys do not expire needs no clock: most hits never read it.
    if (e->expires_ == time_point::max() || now() < e->expires_) {
      e->referenced_ = true;
      ++stats_.hits;
      return {found_kind::hit, reply(e), nullptr, e->shape_, value(e)};
    }
    ++stats_.expirations;
    drop(e);
  }
  ++stats_.misses;
  return {found_kind::miss, {}, nullptr, reply_shape::other, {}};
}

bool store::expiry_for(std::int64_t pttl_ms, time_point sent, time_point& expires) const noexcept {
  const bool capped = options_.max_ttl.count() > 0;
  if (pttl_ms == -2 && !capped) return false;  // a missing key: nothing would expire it here
  expires = pttl_ms >= 0 ? sent + std::chrono::milliseconds(pttl_ms) : time_point::max();
  if (capped) expires = std::min(expires, sent + options_.max_ttl);
  return true;
}

bool store::fill(entry* e, std::string_view reply, std::int64_t pttl_ms, time_point sent) {
  assert(e->pending_ && "fill: not a read in flight");
  e->pending_ = false;
  e->lru_.unlink();  // from detached_, if written() cut it off
  time_point expires;
  if (e->stale_ || reply.size() > options_.max_value_bytes || !expiry_for(pttl_ms, sent, expires)) {
    ++stats_.not_stored;
    drop(e);
    return false;
  }
  e->reply_ = static_cast<char*>(allocate(options_.heap, std::max<std::size_t>(reply.size(), 1)));
  std::memcpy(e->reply_, reply.data(), reply.size());
  e->reply_size_ = reply.size();
  std::string_view value;
  e->shape_ = lone_value({e->reply_, e->reply_size_}, value);
  if (e->shape_ == reply_shape::bulk_string) {
    if (reply.size() > UINT32_MAX) {  // beyond the offsets' 32 bits: read as any other reply
      e->shape_ = reply_shape::other;
    } else {
      e->value_offset_ = static_cast<std::uint32_t>(value.data() - e->reply_);
      e->value_size_ = static_cast<std::uint32_t>(value.size());
    }
  }
  e->expires_ = expires;
  e->bytes_ += reply.size();
  stats_.bytes += reply.size();
  lru_.push_front(*e);
  evict_to_fit();
  return true;
}

void store::cancel(entry* e) noexcept {
  assert(e->pending_ && "cancel: not a read in flight");
  drop(e);
}

std::size_t store::invalidate(std::string_view key) noexcept {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return 0;
  ++stats_.invalidations;
  key_node& node = it->second;
  std::size_t touched = 0;
  // Dropping an entry unlinks its links (one per distinct key, so only the current one from
  // this list) and erases the node with the last: step past a link before dropping its entry.
  for (auto link = node.links.begin(); link != node.links.end();) {
    entry* e = link->owner;
    ++link;
    ++touched;
    if (!e->pending_) {
      const bool last = link == node.links.end();
      drop(e);
      if (last) break;  // the node may be gone
    } else if (options_.delivery == delivery::redirected) {
      detach_stale(e);  // the invalidation may have overtaken its reply
    }
  }
  return touched;
}

void store::detach_stale(entry* e) noexcept {
  // Kept for its own waiters, whose reads were issued before; no read issued from now on finds
  // it, so none can get a reply older than what made it stale.
  e->stale_ = true;
  if (!e->indexed_) return;
  e->indexed_ = false;
  commands_.erase(e->command_, e);
  detached_.push_back(*e);
}

void store::written(std::string_view key) noexcept {
  const auto it = keys_.find(key);
  if (it == keys_.end()) return;
  key_node& node = it->second;
  for (auto link = node.links.begin(); link != node.links.end();) {
    entry* e = link->owner;
    ++link;
    if (!e->pending_) {
      const bool last = link == node.links.end();
      drop(e);
      if (last) break;  // the node may be gone
    } else {
      detach_stale(e);
    }
  }
}

void store::flush() noexcept {
  ++stats_.flushes;
  while (!lru_.empty())
    drop(&lru_.front());
  if (options_.delivery == delivery::redirected) detach_all_in_flight();
}

void store::written_everything() noexcept {
  ++stats_.flushes;
  while (!lru_.empty())
    drop(&lru_.front());
  detach_all_in_flight();
}

void store::detach_all_in_flight() noexcept {
  commands_.clear([this](entry* e) {  // detach_stale, with the index emptied at once
    e->stale_ = true;
    e->indexed_ = false;
    detached_.push_back(*e);
  });
}

void store::evict_to_fit() noexcept {
  // CLOCK: an entry hit since the last pass gets a second one at the front.
  while (stats_.bytes > options_.max_bytes && !lru_.empty()) {
    entry& oldest = lru_.back();
    if (oldest.referenced_) {
      oldest.referenced_ = false;
      oldest.lru_.unlink();
      lru_.push_front(oldest);
      continue;
    }
    ++stats_.evictions;
    drop(&oldest);
  }
}

}  // namespace uredis::cache
