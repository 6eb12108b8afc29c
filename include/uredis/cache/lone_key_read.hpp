#pragma once
// lone_key_read: the cacheable reads that name one key and nothing else (GET k, STRLEN k,
// LLEN k, HGETALL k, SMEMBERS k), known by descriptor type at compile time. A hit of one needs
// neither the encoder nor the allow-list: the cache writes the request's bytes itself, on the
// stack, from the name stated here and the descriptor's key, and looks them up.
//
//   lone_key_request r{cmd::get{"k"}};
//   r.bytes();   // "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", or empty: the key is too long for the stack
//
// The keying rule stays one: the store keys every entry by its request's bytes (store.hpp), and
// these are exactly the bytes the descriptor's encode() writes, so an entry stored by a read of
// the general path is a hit here and the other way round. tests/cache/lone_key_read_test.cpp
// checks, for every descriptor listed, the bytes against encode() and the name against the
// allow-list (allow_list.hpp).

#include <array>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "uredis/cmd/hashes.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/sets.hpp"
#include "uredis/cmd/strings.hpp"

namespace uredis::cache {

/// The command name of a lone-key read, as its encode() writes it; empty for every other
/// descriptor.
template <class D>
inline constexpr std::string_view lone_key_read_name{};
template <>
inline constexpr std::string_view lone_key_read_name<cmd::get> = "GET";
template <>
inline constexpr std::string_view lone_key_read_name<cmd::strlen> = "STRLEN";
template <>
inline constexpr std::string_view lone_key_read_name<cmd::llen> = "LLEN";
template <>
inline constexpr std::string_view lone_key_read_name<cmd::hgetall> = "HGETALL";
template <>
inline constexpr std::string_view lone_key_read_name<cmd::smembers> = "SMEMBERS";

/// A descriptor that is one of the reads above: a listed name and a `key`.
template <class D>
concept lone_key_read = !lone_key_read_name<D>.empty() && requires(const D& d) {
  { d.key } -> std::convertible_to<std::string_view>;
};

/// The request bytes of a lone-key read, written on the stack.
class lone_key_request {
 public:
  /// Room for the request of any listed name and a key of 70 bytes or more (most keys); a
  /// key that fits has a length of at most two digits, which the writer below relies on.
  static constexpr std::size_t capacity = 96;

  template <lone_key_read D>
  [[gnu::always_inline]] explicit lone_key_request(const D& command) noexcept {
    constexpr std::string_view name = lone_key_read_name<D>;
    static_assert(name.size() < 10, "one digit for the name's length");
    // *2\r\n$<n>\r\n<name>\r\n$ as one constant: a few stores, no loop.
    static constexpr head_bytes head = head_of(name);
    constexpr std::size_t fixed = head.size + 2 + 2 + 2;  // two digits, two CRLFs
    static_assert(capacity - fixed >= 70 && capacity - fixed < 100);
    const std::string_view key = command.key;
    if (key.size() > capacity - fixed) return;  // empty: the general path takes it
    char* p = buffer_.data();
    std::memcpy(p, head.bytes.data(), head.size);
    p += head.size;
    if (key.size() >= 10) *p++ = static_cast<char>('0' + key.size() / 10);
    *p++ = static_cast<char>('0' + key.size() % 10);
    *p++ = '\r';
    *p++ = '\n';
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    *p++ = '\r';
    *p++ = '\n';
    size_ = static_cast<std::size_t>(p - buffer_.data());
  }

  /// The bytes; empty when the key did not fit.
  std::string_view bytes() const noexcept { return {buffer_.data(), size_}; }

 private:
  struct head_bytes {
    std::array<char, 24> bytes{};
    std::size_t size = 0;
  };

  static constexpr head_bytes head_of(std::string_view name) {
    head_bytes h;
    const auto put = [&h](char c) { h.bytes[h.size++] = c; };
    for (const char c : std::string_view("*2\r\n$"))
      put(c);
    put(static_cast<char>('0' + name.size()));
    put('\r');
    put('\n');
    for (const char c : name)
      put(c);
    put('\r');
    put('\n');
    put('$');
    return h;
  }

  std::array<char, capacity> buffer_;  // written up to size_ only
  std::size_t size_ = 0;
};

}  // namespace uredis::cache
