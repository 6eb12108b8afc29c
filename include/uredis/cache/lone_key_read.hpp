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

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
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
    // *2\r\n$<n>\r\n<name>\r\n$ as constant words: a few stores, no loop.
    static constexpr head_bytes head = head_of(name);
    constexpr std::size_t fixed = head.size + 2 + 2 + 2;  // two digits, two CRLFs
    static_assert(capacity - fixed >= 70 && capacity - fixed < 100);
    const std::string_view key = command.key;
    if (key.size() > capacity - fixed) return;  // empty: the general path takes it
    word_writer out{words_.data()};
    for (std::size_t i = 0; i < head.size; i += 8)
      out.put(head.words[i / 8], std::min<std::size_t>(8, head.size - i));
    const std::size_t length = key.size();
    if (length >= 10) {
      out.put(digit(length / 10) | digit(length % 10) << 8 | crlf << 16, 4);
    } else {
      out.put(digit(length) | crlf << 8, 3);
    }
    const char* k = key.data();
    std::size_t left = length;
    for (; left >= 8; left -= 8, k += 8)
      out.put(load(k, 8), 8);
    if (left > 0) out.put(load(k, left), left);
    out.put(crlf, 2);
    out.finish();
    size_ = fixed - (length >= 10 ? 0 : 1) + length;
  }

  /// The bytes; empty when the key did not fit.
  std::string_view bytes() const noexcept {
    return {reinterpret_cast<const char*>(words_.data()), size_};
  }

 private:
  // Words are read and written little-endian: byte i of the request is byte i % 8 of word i / 8.
  static_assert(std::endian::native == std::endian::little);

  static constexpr std::uint64_t crlf = '\r' | '\n' << 8;

  struct head_bytes {
    std::array<char, 24> bytes{};
    std::size_t size = 0;
    std::array<std::uint64_t, 3> words{};  // the bytes as words, zero after size
  };

  // Writes the request as whole 8-byte words, each stored once. The lookup hashes the bytes
  // right after with 8-byte loads, and a load that spans two stores (a memcpy of the key, a
  // digit, a CRLF) cannot be forwarded from the store buffer: it waits for them to reach the
  // cache (perf: about 30% of the lookup's samples sat on its first loads).
  class word_writer {
   public:
    explicit word_writer(std::uint64_t* out) noexcept : out_(out) {}
    // Appends the low `count` bytes (1 to 8) of `bytes`, whose other bytes are zero. Inlined:
    // with the head's constant counts most of it folds away.
    [[gnu::always_inline]] void put(std::uint64_t bytes, std::size_t count) noexcept {
      word_ |= bytes << (8 * fill_);
      if (fill_ + count >= 8) {
        *out_++ = word_;
        word_ = fill_ == 0 ? 0 : bytes >> (8 * (8 - fill_));  // what did not fit
      }
      fill_ = (fill_ + count) % 8;
    }
    // Stores the last, partial word (zero after the request's end).
    [[gnu::always_inline]] void finish() noexcept {
      if (fill_ != 0) *out_ = word_;
    }

   private:
    std::uint64_t* out_;
    std::uint64_t word_ = 0;  // the word being filled: fill_ bytes so far
    std::size_t fill_ = 0;
  };

  static constexpr std::uint64_t digit(std::size_t d) noexcept { return '0' + d; }

  // The `count` bytes (1 to 8) at p as the low bytes of a word, reading none after them: two
  // loads that may overlap (the overlapping bytes are equal, so or-ing them is harmless).
  [[gnu::always_inline]] static std::uint64_t load(const char* p, std::size_t count) noexcept {
    if (count >= 4) {
      if (count == 8) return load_as<std::uint64_t>(p);
      return load_as<std::uint32_t>(p) | load_as<std::uint32_t>(p + count - 4) << (8 * (count - 4));
    }
    if (count >= 2)
      return load_as<std::uint16_t>(p) | load_as<std::uint16_t>(p + count - 2) << (8 * (count - 2));
    return static_cast<unsigned char>(*p);
  }
  template <class Word>
  static std::uint64_t load_as(const char* p) noexcept {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }

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
    for (std::size_t i = 0; i < h.size; ++i)
      h.words[i / 8] |= std::uint64_t{static_cast<unsigned char>(h.bytes[i])} << (8 * (i % 8));
    return h;
  }

  static_assert(capacity % 8 == 0);
  std::array<std::uint64_t, capacity / 8> words_;  // written up to size_ (rounded up) only
  std::size_t size_ = 0;
};

}  // namespace uredis::cache
