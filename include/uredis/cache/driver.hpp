#pragma once
// driver: a connection's client-side cache, from the connection's side: it looks cacheable reads
// up in the store (store.hpp), sends the misses wrapped with their keys' PTTL
// (wrapped_read.hpp), feeds the store the replies and the server's invalidations, and answers
// hits and waiters with the typed result the uncached call would give.
//
//   connection_config config;
//   config.cache.max_bytes = 64 << 20;        // or ?cache_max_bytes=67108864 in a URL
//   connection c{reactor, config};            // the connection makes its driver
//   c.exec(cmd::get{"k"}, callback);          // a miss: sent, its reply stored
//   c.exec(cmd::get{"k"}, callback);          // a hit: the callback runs before exec returns
//   c.cache()->stats().hits;
//
// A command on a cached connection is, by its name (allow_list.hpp) and exec_options::cache:
//   a read     looked up. hit: the handler completes before exec() returns, from the stored
//              bytes, as if the server had just sent them (a coroutine does not suspend).
//              pending: a read of the same command is in flight; the handler waits for its
//              reply (single flight). miss: sent as a wrapped read, which is idempotent (safe
//              to resend after a reconnect).
//   a write    (any other command naming keys: a script, a transaction) drops its keys'
//              entries before it is sent (store::written: read your writes on this connection).
//   keyless    passed through (PING, PUBLISH), uncached; a raw command or a batch entry
//              that is not a listed read is a write whose keys cannot be told from its other
//              arguments: every argument's entries are dropped.
// The cache serves nothing while the connection is not ready or tracking is off: reads are then
// sent uncached.
//
// Invalidations: RESP3 in band, as pushes on this connection. RESP2 (config.protocol) has no
// pushes: the cache opens an invalidation channel, a second connection to the server subscribed
// to __redis__:invalidate, and tracks with CLIENT TRACKING ... REDIRECT to it; while the channel
// is down the cache is flushed and serves nothing, and when it is back (a new client id) the
// connection's tracking is switched over to it. Redirected invalidations can overtake replies,
// so the store's redirected rule applies (store.hpp).
//
// The contract a user gets (README "Client-side caching"):
//   - Eventual consistency, bounded by one push delivery: another client's write is seen once
//     the server's invalidation has been processed by this shard.
//   - Read your writes on this connection (above).
//   - A connection that lost its socket (so may have missed invalidations) serves nothing from
//     the cache again before it is flushed: the flush is the first thing the next handshake
//     does, and nothing is served until that handshake has turned tracking on.
//   - An entry never outlives its key's TTL (nor config.max_ttl); a missing key is cached only
//     with max_ttl.
//   - Memory: config.max_bytes, least recently used out first; a reply larger than
//     config.max_value_bytes is never stored.
//
// Views: a callback whose response holds views (std::string_view) gets, on a hit, views of
// the cache's entry: valid during the callback, until the callback itself sends a write to one
// of the read's keys (which drops the entry). Copy first, as with any view.
//
// Allocation: a hit allocates nothing (the typed result may: a std::string longer than its
// small buffer, as the uncached call's does). A miss allocates its entry (one block, plus one
// for the reply, and a node in each of the store's two indexes); a caller waiting on a read in
// flight allocates its waiter; a miss whose callback is too large to share the pipeline's slot
// with the cache's two pointers (proto::pending::capacity) keeps the callback on the heap.
//
// Threads: the driver belongs to its connection's shard thread.

#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "uredis/cache/allow_list.hpp"
#include "uredis/cache/cache_config.hpp"
#include "uredis/cache/lone_key_read.hpp"
#include "uredis/cache/store.hpp"
#include "uredis/cache/tracking_step.hpp"
#include "uredis/cache/wrapped_read.hpp"
#include "uredis/client/config.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/error.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/proto/session.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::cache {

class invalidation_channel;  // src/cache/invalidation_channel.hpp

/// A command whose keys cannot be listed: cmd::raw (any command) and a batch's entries.
template <class C>
concept keys_unknown = requires {
  C::any_command;
}
|| requires {
  C::keys_unknown;
};

/// How a cached read ended, for whoever asked for it.
struct read_end {
  std::error_code error;     // no reply: the connection failed, the read timed out...
  std::string_view reply;    // else the reply as RESP bytes (a single error node included)
  std::string_view request;  // the read's request bytes
};

namespace detail {

/// Completes a queued handler (proto/pending.hpp) with the whole reply `single`, one node that
/// is not an error reply, as the pipeline would have.
template <class H>
void deliver_single(H&& queued, const resp::node& single, std::string_view request) {
  // A handler that can take the lone node whole skips its active form (callback_handler, the
  // coroutine's awaiter): the typed result is built in one place.
  if constexpr (requires { queued.on_single(single); }) {
    queued.on_single(single);
  } else {
    typename std::decay_t<H>::active active(std::move(queued));
    proto::reply_outcome done;
    done.request = request;
    active.on_node(single);
    active.on_complete(done);
  }
}

/// The lone node of a reply of `shape` (not reply_shape::other) whose value is `value`.
inline resp::node single_node(reply_shape shape, std::string_view value) noexcept {
  resp::node n;
  n.type = shape == reply_shape::bulk_string ? resp::type::bulk_string : resp::type::null;
  n.value = value;
  return n;
}

/// Completes a queued handler (proto/pending.hpp) with `end`, as the pipeline would have.
template <class H>
void deliver(H&& queued, const read_end& end) {
  if (end.error) return queued.on_complete(proto::reply_outcome::failed(end.error));
  std::string_view value;
  if (const reply_shape shape = lone_value(end.reply, value); shape != reply_shape::other)
    return deliver_single(std::move(queued), single_node(shape, value), end.request);
  typename std::decay_t<H>::active active(std::move(queued));
  resp::parser parser;
  resp::node n;
  std::string_view rest = end.reply;
  proto::reply_outcome outcome;
  outcome.request = end.request;
  for (bool first = true; !rest.empty(); first = false) {
    const resp::step s = parser.next(rest, n);
    if (s.status != resp::outcome::node) {  // bytes this library wrote: never
      return active.on_complete(
          proto::reply_outcome::failed(make_error_code(errc::incomplete_reply)));
    }
    rest.remove_prefix(s.consumed);
    if (first && n.depth == 0 && resp::is_error(n.type)) {
      outcome.error_reply = &n;
      break;
    }
    active.on_node(n);
  }
  active.on_complete(outcome);
}

/// Completes a queued handler with a hit's stored entry `e`, the reply to `request`: its
/// value as fill() decoded it, without reading RESP, when it is a lone bulk string or null.
// Inlined into serve_hit(): a lone value's delivery is a few stores, cheaper than the call.
template <class H>
[[gnu::always_inline]] inline void deliver_hit(H&& queued, const store::entry* e,
                                               std::string_view request) {
  if (const reply_shape shape = store::shape(e); shape != reply_shape::other)
    return deliver_single(std::move(queued), single_node(shape, store::value(e)), request);
  deliver(std::move(queued), read_end{{}, store::reply(e), request});
}

/// A caller waiting for a read in flight; completed (and freed) by deliver().
class waiter {
 public:
  waiter* next = nullptr;
  virtual void deliver(const read_end& end) = 0;  // and frees this

 protected:
  ~waiter() = default;
};

template <class H>
class waiter_of final : public waiter {
 public:
  explicit waiter_of(H&& h) noexcept : handler_(std::move(h)) {}

  static waiter* make(H&& h) {
    void* p = mi_malloc(sizeof(waiter_of));
    if (p == nullptr) throw std::bad_alloc();
    return ::new (p) waiter_of(std::move(h));
  }

  void deliver(const read_end& end) override {
    H handler = std::move(handler_);
    this->~waiter_of();
    mi_free(this);
    detail::deliver(std::move(handler), end);
  }

 private:
  H handler_;
};

/// A queued handler kept on the heap, for one too large to share the pipeline's slot with the
/// cache's pointers. A reply handler itself: it hands its nodes and outcome to the one it holds.
template <class H>
class boxed {
 public:
  explicit boxed(H&& h) : held_(::new (allocate()) H(std::move(h))) {}
  boxed(boxed&& other) noexcept : held_(std::exchange(other.held_, nullptr)) {}
  boxed& operator=(boxed&&) = delete;
  ~boxed() {
    if (held_ != nullptr) release();
  }

  void on_complete(const proto::reply_outcome& o) { take().on_complete(o); }

  struct active {
    typename H::active inner;
    explicit active(boxed&& b) : inner(b.take()) {}
    void on_node(const resp::node& n) { inner.on_node(n); }
    void on_complete(const proto::reply_outcome& o) { inner.on_complete(o); }
  };

 private:
  static void* allocate() {
    void* p = mi_malloc(sizeof(H));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void release() noexcept {
    held_->~H();
    mi_free(std::exchange(held_, nullptr));
  }
  H take() {
    H h = std::move(*held_);
    release();
    return h;
  }

  H* held_;
};

}  // namespace detail

class driver final : public proto::handshake_step, private proto::invalidation_hook {
 public:
  using time_point = store::time_point;
  using enqueued = proto::session::enqueued;

  /// Tells the connection a command was queued outside one of its own calls.
  using kick_function = util::inline_function<void(), 16>;

  /// The cache of `session`'s connection to `config`'s server, as config.cache says; registers
  /// its handshake step and its invalidation hook there. `r` is the connection's reactor, whose
  /// clock entries expire by; with config.protocol RESP2 the cache opens its invalidation
  /// channel there. `kick` schedules the connection's flush.
  driver(proto::session& session, const connection_config& config, reactor::reactor& r,
         kick_function kick);
  ~driver();
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  /// The connection's hook for every command it sends: takes a cacheable read (a hit, a wait or
  /// a wrapped read: the result says what the session did, `refused` when the handler has
  /// already completed), or returns nullopt to have the command sent as usual (after dropping
  /// a write's keys).
  template <class Command, class Handler>
  std::optional<enqueued> take(const Command& command, Handler& handler,
                               const proto::exec_options& options);

  /// take()'s hit of a lone-key read (lone_key_read.hpp), alone: when `command` is a hit now,
  /// completes `handler` from the stored entry and returns true; else does nothing (counts
  /// nothing) and returns false, and take() decides. The coroutine's awaiter asks this before
  /// it would suspend, so that a hit needs neither connection::enqueue() nor take(), whose
  /// calls cost a hit as much as its lookup (client/exec_awaiter.hpp).
  template <lone_key_read Command, class Handler>
  [[gnu::always_inline]] bool serve_hit(const Command& command, Handler&& handler,
                                        const proto::exec_options& options) {
    if (options.cache == proto::cache_use::skip || !serving()) return false;
    const lone_key_request r(command);
    if (r.bytes().empty()) return false;  // a key too long for the stack: take() encodes it
    const store::entry* e = store_.fresh(r.bytes(), *clock_);
    if (e == nullptr) return false;
    detail::deliver_hit(std::forward<Handler>(handler), e, r.bytes());
    return true;
  }

  /// Whether hits are served now: the connection is ready and tracking is on (RESP2: and its
  /// invalidation channel is up).
  bool serving() const noexcept {
    return session_->ready() && tracking_.active() && (channel_ == nullptr || channel_up_);
  }
  const store_stats& stats() const noexcept { return store_.stats(); }
  const cache_config& config() const noexcept { return tracking_.config(); }
  /// Drops every entry (as a server's FLUSHALL would).
  void flush() noexcept;

  // The handshake step: flushes (a new socket may have missed invalidations), then CLIENT
  // TRACKING (tracking_step.hpp).
  std::size_t write(resp::encoder& out, const proto::handshake_params& params,
                    proto::resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

 private:
  template <class H>
  struct read_handler;

  struct tracking_reply;

  void on_invalidate(std::string_view key) override;
  void on_invalidate_all() override;
  // RESP2: the invalidation channel came up (as client `id`) or went down.
  void channel_up(std::int64_t id);
  void channel_down();
  // RESP2, on a ready connection: CLIENT TRACKING OFF, then ON ... REDIRECT to the channel.
  void send_tracking();
  void flush_for(event::cache_flush_reason reason) noexcept;

  // take()'s cacheable read, encoded in request_: a hit, a wait or a wrapped read.
  template <class Command, class Handler>
  enqueued read(const Command& command, Handler& handler, const proto::exec_options& options);
  // Whether request_'s command is on the allow-list. A shard mostly repeats a few commands:
  // the verdict is remembered for the last request's head (*<argc>\r\n$<len>\r\n<name>\r\n,
  // when it fits 16 bytes), which two masked 8-byte comparisons recognize without reading the
  // name out; else allowed(name) below.
  bool same_head() const noexcept {
    const std::string_view r = request_.data();
    if (r.size() < sizeof head_) return false;
    std::array<std::uint64_t, 2> words;
    std::memcpy(words.data(), r.data(), sizeof words);
    return ((words[0] ^ head_[0]) & head_mask_[0]) == 0 &&
           ((words[1] ^ head_[1]) & head_mask_[1]) == 0;
  }
  bool allowed_request() noexcept { return same_head() ? head_allowed_ : allowed_new_head(); }
  // allowed_request() for a head other than the last: reads the name, remembers the head.
  bool allowed_new_head() noexcept;
  // on_allow_list(name), remembering the last name asked about: the comparison is cheaper than
  // the search.
  bool allowed(std::string_view name) noexcept {
    if (!same_as_last(name)) {
      if (name.size() > last_name_.size()) return on_allow_list(name);
      std::char_traits<char>::copy(last_name_.data(), name.data(), name.size());
      last_name_size_ = name.size();
      last_allowed_ = on_allow_list(name);
    }
    return last_allowed_;
  }
  bool same_as_last(std::string_view name) const noexcept {
    if (name.size() != last_name_size_) return false;
    for (std::size_t i = 0; i < name.size(); ++i)  // a few bytes: no call into the library
      if (name[i] != last_name_[i]) return false;
    return true;
  }
  // Encodes `command` into request_.
  template <class Command>
  void encode(const Command& command);
  // Copies `command`'s keys, distinct, into keys_.
  template <class Command>
  void list_keys(const Command& command);
  // Whether the server tells this cache about writes to every key of `command`: always, but in
  // BCAST mode with prefixes, where only keys under one of them are announced. A read of any
  // other key is not cached: nothing would ever invalidate it.
  template <class Command>
  bool announced(const Command& command) const;
  void written_keys();
  // request_'s arguments after its name, each as if it were a key written.
  void written_arguments();
  // Whether a command of request_ changes every key (changes_every_key): the command itself,
  // or, for a transaction, any command between its MULTI and EXEC.
  bool changes_every_key_request() const;
  // request_ changes every key: as if each were written.
  void written_everything() noexcept;
  // A wrapped read ended: stores or cancels its entry and answers its waiters.
  read_end settle(store::entry* e, const wrapped_reply* reply, std::error_code error);
  std::uint32_t replies_for(const store::entry* e) const noexcept {
    return wrapped_read{{}, {}, config().mode == tracking_mode::optin}.replies() +
           static_cast<std::uint32_t>(store::key_count(e));
  }
  void note_evictions(std::uint64_t before) noexcept;

  proto::session* session_;
  const util::clock* clock_;
  kick_function kick_;
  store store_;
  tracking_step tracking_;
  std::unique_ptr<invalidation_channel> channel_;  // RESP2 only
  std::optional<event::listener<event::connected>> connected_;
  std::optional<event::listener<event::reconnected>> reconnected_;
  util::byte_buffer tracking_request_;
  bool channel_up_ = false;
  util::byte_buffer request_;  // the command being looked up
  util::byte_buffer reply_;    // the reply of the wrapped read being read
  std::string key_bytes_;      // keys_ point here
  std::vector<std::string_view> keys_;
  std::vector<std::size_t> key_ends_;
  // The last head allowed_request() read (see there), as two words and the mask of its bytes:
  // at first a head no request has (a request starts with '*').
  std::array<std::uint64_t, 2> head_{0, 0};
  std::array<std::uint64_t, 2> head_mask_{~std::uint64_t{0}, 0};
  bool head_allowed_ = false;
  std::array<char, 24> last_name_{};
  std::size_t last_name_size_ = 0;  // no name asked about yet
  bool last_allowed_ = false;
};

// ---- Implementation ----

// A wrapped read's handler: the caller's, and where its reply goes. Small (two pointers more
// than the caller's), so that the queued form fits the pipeline's slot.
template <class H>
struct driver::read_handler {
  H inner;
  driver* owner;
  store::entry* entry;

  void on_complete(const proto::reply_outcome& o) {
    const read_end end = owner->settle(entry, nullptr, o.error);
    detail::deliver(std::move(inner), end);
  }

  struct active {
    H inner;
    driver* owner;
    store::entry* entry;
    wrapped_reply reply;

    explicit active(read_handler&& q) noexcept
        : inner(std::move(q.inner)),
          owner(q.owner),
          entry(q.entry),
          reply(q.owner->replies_for(q.entry),
                static_cast<std::uint32_t>(store::key_count(q.entry)), q.owner->reply_) {}
    void on_node(const resp::node& n) { reply.on_node(n); }
    void on_complete(const proto::reply_outcome& o) {
      const std::error_code error = o.error ? o.error : reply.error();
      read_end end = owner->settle(entry, error ? nullptr : &reply, error);
      detail::deliver(std::move(inner), end);
    }
  };
};

template <class Command>
void driver::encode(const Command& command) {
  request_.clear();
  resp::encoder e{request_};
  command.encode(e);
}

template <class Command>
void driver::list_keys(const Command& command) {
  key_bytes_.clear();
  key_ends_.clear();
  command.for_each_key([this](std::string_view key) {
    key_bytes_.append(key);
    key_ends_.push_back(key_bytes_.size());
  });
  keys_.clear();
  std::size_t begin = 0;
  for (const std::size_t end : key_ends_) {
    const std::string_view key(key_bytes_.data() + begin, end - begin);
    begin = end;
    bool seen = false;
    for (const std::string_view k : keys_)
      seen = seen || k == key;
    if (!seen) keys_.push_back(key);
  }
}

template <class Command>
bool driver::announced(const Command& command) const {
  const std::vector<std::string>& prefixes = config().prefixes;
  if (config().mode != tracking_mode::bcast || prefixes.empty()) return true;
  bool all = true;
  command.for_each_key([&](std::string_view key) {
    bool under = false;
    for (const std::string& p : prefixes)
      under = under || key.starts_with(p);
    all = all && under;
  });
  return all;
}

template <class Command, class Handler>
std::optional<driver::enqueued> driver::take(const Command& command, Handler& handler,
                                             const proto::exec_options& options) {
  if constexpr (keys_unknown<Command>) {
    // A raw command or a batch entry: a write drops every argument's entries, which covers its
    // keys (and costs a lookup per argument, only while the cache holds anything).
    if (store_.stats().entries > 0) {
      encode(command);
      if (changes_every_key_request()) {
        written_everything();
      } else if (!allowed_request()) {
        written_arguments();
      }
    }
    return std::nullopt;
  } else if constexpr (!cmd::keyed<Command>) {
    return std::nullopt;
  } else if constexpr (lone_key_read<Command>) {
    // Listed, by its type: neither the allow-list nor, for a hit, the encoder is asked.
    if (serve_hit(command, std::move(handler), options)) return enqueued::refused;
    if (options.cache == proto::cache_use::skip || !serving() || !announced(command))
      return std::nullopt;
    encode(command);
    return read(command, handler, options);
  } else {
    encode(command);
    const bool listed = allowed_request();
    const bool cacheable = options.cache == proto::cache_use::always ||
                           (options.cache == proto::cache_use::automatic && listed);
    if (!cacheable) {
      if (!listed) {  // a write, as far as the cache can tell
        list_keys(command);
        written_keys();
      }
      return std::nullopt;
    }
    if (!serving() || !announced(command)) return std::nullopt;
    return read(command, handler, options);
  }
}

template <class Command, class Handler>
driver::enqueued driver::read(const Command& command, Handler& handler,
                              const proto::exec_options& options) {
  using H = std::decay_t<Handler>;
  const std::string_view request = request_.data();
  const store::found f = store_.lookup(request, *clock_);
  switch (f.kind) {
    case store::found_kind::hit:
      if (f.shape != reply_shape::other) {
        detail::deliver_single(std::move(handler), detail::single_node(f.shape, f.value), request);
      } else {
        detail::deliver(std::move(handler), read_end{{}, f.reply, request});
      }
      return enqueued::refused;
    case store::found_kind::pending: {
      detail::waiter* w = detail::waiter_of<H>::make(std::move(handler));
      void*& head = store::waiters(f.pending);
      w->next = static_cast<detail::waiter*>(head);
      head = w;
      return enqueued::refused;
    }
    case store::found_kind::miss:
      break;
  }
  list_keys(command);
  store::entry* e = store_.begin_read(request, keys_, clock_->now());
  const wrapped_read wrapped{request, keys_, config().mode == tracking_mode::optin};
  proto::exec_options o = options;
  o.idempotent = true;  // MULTI, PTTLs, a read, EXEC: safe to run again
  // A callback that fills the pipeline's slot leaves no room for the cache's two pointers: its
  // miss keeps it on the heap instead.
  if constexpr (sizeof(read_handler<H>) <= proto::pending::capacity) {
    return session_->enqueue(wrapped, read_handler<H>{std::move(handler), this, e}, o);
  } else {
    using boxed = detail::boxed<H>;
    return session_->enqueue(wrapped, read_handler<boxed>{boxed(std::move(handler)), this, e}, o);
  }
}

}  // namespace uredis::cache
