#pragma once
// keys_of: what a Redis Cluster router asks of a command before sending it, answered from the
// keys its descriptor lists (descriptor.hpp), never from the encoded bytes: its first key, the
// hash slot of that key, and whether all its keys hash to that one slot, as a cluster requires
// of a multi-key command (a node answers -CROSSSLOT otherwise).
//
//   slot_of(cmd::get{"{user1}:name"})                    -> util::key_slot("user1")
//   check_slots(cmd::mget{{"{user1}:a", "{user1}:b"}})   -> {one_slot, util::key_slot("user1")}
//   check_slots(cmd::del{{"a", "b"}})                    -> {cross_slot, util::key_slot("a")}
//   check_slots(cmd::ping{}), check_slots(cmd::del{})    -> {no_keys, 0}
//
// Slots are util::key_slot's (CRC16 mod 16384, hash tags honoured). Nothing here allocates, and
// everything is constexpr for descriptors whose keys are std::string_view members or a single
// inline argument. Each function walks every key the descriptor lists (the contract has no
// early exit), hashing each at most once.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "uredis/cmd/descriptor.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cmd {

/// A command's key, as first_key() answers it: the bytes themselves when short, else a view of
/// the descriptor's argument. (A view alone would dangle for a key given as a number,
/// cmd::del{42}: its text exists only while the key is listed; every number's text is short.)
/// view() is valid while both this key_text and the descriptor's arguments are.
class key_text {
 public:
  /// The longest text of a number argument: a double such as -2.2250738585072014e-308 (sign,
  /// 17 digits, point, "e-308"); an int64 needs 20.
  static constexpr std::size_t inline_capacity = 24;

  constexpr explicit key_text(std::string_view bytes) noexcept : size_(bytes.size()) {
    if (size_ <= inline_capacity) {
      std::copy(bytes.begin(), bytes.end(), copy_.begin());
    } else {
      long_ = bytes;
    }
  }

  constexpr std::string_view view() const noexcept {
    return size_ <= inline_capacity ? std::string_view(copy_.data(), size_) : long_;
  }

  friend constexpr bool operator==(const key_text& key, std::string_view bytes) noexcept {
    return key.view() == bytes;
  }

 private:
  std::array<char, inline_capacity> copy_{};
  std::string_view long_{};
  std::size_t size_;
};

/// Where a command's keys hash, as check_slots() answers it.
struct slot_check {
  enum class outcome : std::uint8_t {
    no_keys,     // keyless, or no key listed: any node takes it
    one_slot,    // every key hashes to `slot`
    cross_slot,  // two slots or more: a cluster refuses it, so do not send it
  };

  outcome result = outcome::no_keys;
  std::uint16_t slot = 0;  // one_slot: the slot; cross_slot: the first key's; no_keys: 0

  /// Takes in the slot of one more key: how check_slots() and a cluster's check of a batch's
  /// keys (a transaction's, a script's) both accumulate.
  constexpr void add(std::uint16_t key_slot) noexcept {
    if (result == outcome::no_keys) {
      *this = {outcome::one_slot, key_slot};
    } else if (key_slot != slot) {
      result = outcome::cross_slot;
    }
  }

  friend constexpr bool operator==(const slot_check&, const slot_check&) = default;
};

/// The command's first key; nullopt when it names none (keyless, or an empty key list).
template <descriptor D>
constexpr std::optional<key_text> first_key(const D& command) {
  std::optional<key_text> first;
  if constexpr (keyed<D>) {
    command.for_each_key([&first](std::string_view key) {
      if (!first) first.emplace(key);
    });
  }
  return first;
}

/// The hash slot of the command's first key; nullopt when it names no key.
template <descriptor D>
constexpr std::optional<std::uint16_t> slot_of(const D& command) {
  std::optional<std::uint16_t> slot;
  if constexpr (keyed<D>) {
    command.for_each_key([&slot](std::string_view key) {
      if (!slot) slot = util::key_slot(key);
    });
  }
  return slot;
}

/// Whether the command's keys hash to one slot, and which.
template <descriptor D>
constexpr slot_check check_slots(const D& command) {
  slot_check check;
  if constexpr (keyed<D>) {
    command.for_each_key([&check](std::string_view key) {
      if (check.result != slot_check::outcome::cross_slot) check.add(util::key_slot(key));
    });
  }
  return check;
}

/// True unless the command's keys span two slots or more (a command with no key is in one).
template <descriptor D>
constexpr bool same_slot(const D& command) {
  return check_slots(command).result != slot_check::outcome::cross_slot;
}

}  // namespace uredis::cmd
