#pragma once
// Descriptors for the string commands: GET, SET, GETDEL, GETEX, MGET, MSET, INCR, INCRBY, DECR,
// DECRBY, APPEND, STRLEN. (descriptor.hpp states the contract; arguments.hpp the lifetimes.)
//
// SET is two descriptors, because its reply has two shapes:
//   cmd::set      SET key value [EX..|PX..|EXAT..|PXAT..|KEEPTTL] [NX|XX]      -> cmd::applied
//                 (+OK: true; a null, when NX or XX stopped it: false)
//   cmd::set_get  the same with GET                                            -> the old value
//                 (std::optional<std::string>; a null: there was none)
//
// The expiry is one value, not a field per option, so two expiries at once cannot be written;
// SET's KEEPTTL and GETEX's PERSIST exist only on the expiry type of the command that takes
// them:
//   cmd::set_expiry::after(10s)     EX 10          cmd::set_expiry::after(1500ms)   PX 1500
//   cmd::set_expiry::at(sys_seconds) EXAT t        cmd::set_expiry::at(a ms time)   PXAT t
//   cmd::set_expiry::keep_ttl()     KEEPTTL        cmd::getex_expiry::persist()     PERSIST
// A duration or time point whose type counts whole seconds is sent in seconds (EX, EXAT), any
// other in milliseconds (PX, PXAT). A duration finer than milliseconds does not compile (cast it:
// truncating 500us to "PX 0" would change its meaning); a time point finer than milliseconds
// (system_clock::now()) is floored to the millisecond.
//
//   conn.exec(cmd::set{"k", "v", {.expiry = cmd::set_expiry::after(10s),
//                                 .condition = cmd::set_condition::nx}}, cb);

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "uredis/cmd/applied.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/condition.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

namespace detail {

enum class expiry_kind : std::uint8_t { ex, px, exat, pxat, keep_ttl, persist };

/// An expiry as SET and GETEX write it: a word, and a number except for `Extra` (KEEPTTL for
/// SET, PERSIST for GETEX), the one word only that command takes.
template <expiry_kind Extra>
class basic_expiry {
 public:
  /// Expires `d` from now. (A duration finer than milliseconds, or a floating-point one, does
  /// not convert implicitly to milliseconds and is refused: duration_cast it first.)
  template <class Rep, class Period>
  requires std::is_convertible_v<std::chrono::duration<Rep, Period>, std::chrono::milliseconds>
  static constexpr basic_expiry after(std::chrono::duration<Rep, Period> d) noexcept {
    if constexpr (std::is_convertible_v<std::chrono::duration<Rep, Period>, std::chrono::seconds>) {
      return basic_expiry(expiry_kind::ex, std::chrono::seconds(d).count());
    } else {
      return basic_expiry(expiry_kind::px, std::chrono::milliseconds(d).count());
    }
  }

  /// Expires at `t`.
  template <class Duration>
  static constexpr basic_expiry at(
      std::chrono::time_point<std::chrono::system_clock, Duration> t) noexcept {
    if constexpr (std::is_convertible_v<Duration, std::chrono::seconds>) {
      return basic_expiry(expiry_kind::exat, std::chrono::seconds(t.time_since_epoch()).count());
    } else {
      return basic_expiry(
          expiry_kind::pxat,
          std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
    }
  }

  /// SET's KEEPTTL: keep the key's current time to live.
  static constexpr basic_expiry keep_ttl() noexcept requires(Extra == expiry_kind::keep_ttl) {
    return basic_expiry(expiry_kind::keep_ttl, 0);
  }

  /// GETEX's PERSIST: remove the key's time to live.
  static constexpr basic_expiry persist() noexcept requires(Extra == expiry_kind::persist) {
    return basic_expiry(expiry_kind::persist, 0);
  }

  constexpr expiry_kind kind() const noexcept { return kind_; }
  /// Seconds or milliseconds (relative or since the epoch) as kind() says; 0 for the bare words.
  constexpr std::int64_t value() const noexcept { return value_; }

  /// How many arguments encode() appends.
  constexpr std::size_t size() const noexcept { return has_value() ? 2 : 1; }

  void encode(resp::encoder& e) const {
    switch (kind_) {
      case expiry_kind::ex:
        e.arg("EX");
        break;
      case expiry_kind::px:
        e.arg("PX");
        break;
      case expiry_kind::exat:
        e.arg("EXAT");
        break;
      case expiry_kind::pxat:
        e.arg("PXAT");
        break;
      case expiry_kind::keep_ttl:
        e.arg("KEEPTTL");
        break;
      case expiry_kind::persist:
        e.arg("PERSIST");
        break;
    }
    if (has_value()) e.arg(value_);
  }

 private:
  constexpr basic_expiry(expiry_kind kind, std::int64_t value) noexcept
      : value_(value), kind_(kind) {}

  constexpr bool has_value() const noexcept {
    return kind_ != expiry_kind::keep_ttl && kind_ != expiry_kind::persist;
  }

  std::int64_t value_;
  expiry_kind kind_;
};

}  // namespace detail

/// SET's expiry: EX, PX, EXAT, PXAT or KEEPTTL.
using set_expiry = detail::basic_expiry<detail::expiry_kind::keep_ttl>;
/// GETEX's expiry: EX, PX, EXAT, PXAT or PERSIST.
using getex_expiry = detail::basic_expiry<detail::expiry_kind::persist>;

struct set_options {
  std::optional<set_expiry> expiry{};
  set_condition condition = set_condition::always;
};

namespace detail {

inline void encode_set(resp::encoder& e, std::string_view key, const arg& value,
                       const set_options& options, bool get) {
  e.begin(3 + (options.expiry ? options.expiry->size() : 0) + word_count(options.condition) +
          (get ? 1 : 0));
  e.arg("SET");
  e.arg(key);
  value.encode(e);
  if (options.expiry) options.expiry->encode(e);
  detail::encode(e, options.condition);
  if (get) e.arg("GET");
}

}  // namespace detail

/// GET key -> the value, or nullopt when there is no such key.
struct get {
  std::string_view key{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { e.command("GET", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SET key value [expiry] [NX|XX] -> true when the value was set (false: NX or XX stopped it).
struct set {
  std::string_view key{};
  arg value{};
  set_options options{};

  using response = applied;
  void encode(resp::encoder& e) const { detail::encode_set(e, key, value, options, false); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// SET key value [expiry] [NX|XX] GET -> the old value, or nullopt when there was none. (With NX
/// the value is set only when nullopt comes back; with XX only when a value does.)
struct set_get {
  std::string_view key{};
  arg value{};
  set_options options{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { detail::encode_set(e, key, value, options, true); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// GETDEL key -> the value it deleted, or nullopt.
struct getdel {
  std::string_view key{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { e.command("GETDEL", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// GETEX key [expiry] -> the value, or nullopt; sets or removes (PERSIST) its time to live.
struct getex {
  std::string_view key{};
  std::optional<getex_expiry> expiry{};

  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const {
    e.begin(2 + (expiry ? expiry->size() : 0));
    e.arg("GETEX");
    e.arg(key);
    if (expiry) expiry->encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// MGET key... -> one value or nullopt per key, in order.
struct mget {
  arg_list keys{};

  using response = std::vector<std::optional<std::string>>;
  void encode(resp::encoder& e) const {
    e.begin(1 + keys.size());
    e.arg("MGET");
    keys.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// MSET key value... -> always applied (MSET cannot fail but with an error).
struct mset {
  pair_list pairs{};

  using response = applied;
  void encode(resp::encoder& e) const {
    e.begin(1 + 2 * pairs.size());
    e.arg("MSET");
    pairs.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(pairs, f); }
};

/// INCR key -> the new value.
struct incr {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("INCR", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// INCRBY key increment -> the new value.
struct incrby {
  std::string_view key{};
  std::int64_t increment = 1;

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("INCRBY", key, increment); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// DECR key -> the new value.
struct decr {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("DECR", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// DECRBY key decrement -> the new value.
struct decrby {
  std::string_view key{};
  std::int64_t decrement = 1;

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("DECRBY", key, decrement); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// APPEND key value -> the string's length after the append.
struct append {
  std::string_view key{};
  arg value{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("APPEND");
    e.arg(key);
    value.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

/// STRLEN key -> the string's length (0 when there is no such key).
struct strlen {
  std::string_view key{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("STRLEN", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

}  // namespace uredis::cmd
