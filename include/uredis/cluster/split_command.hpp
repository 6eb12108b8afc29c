#pragma once
// split_command: a multi-key command whose keys span slots, cut into one command per slot,
// sent in parallel through a cluster client and merged into the one reply the caller expects:
//
//   MGET a b c       -> MGET a c (slot 1), MGET b (slot 2)  -> values put back in key order
//   DEL, EXISTS, UNLINK, TOUCH                              -> the parts' counts summed
//   MSET a 1 b 2     -> MSET a 1, MSET b 2                  -> applied when every part was
//
// Not atomic: each part is its own command on its own node. Another client may see some parts
// applied and not others, and when a part fails the others stay applied; the caller gets the
// first error (a part's own redirects are followed as for any command). A key given twice lands
// in one part (same slot), so EXISTS counts it twice as Redis does.
//
// The merge state (the callback, the parts' positions, the merged value) is allocated once per
// split command and freed when its last part completes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/cmd/keys_of.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster::detail {

/// The multi-key commands a cluster client splits per slot instead of refusing.
template <class C>
concept splittable = std::is_same_v<C, cmd::mget> || std::is_same_v<C, cmd::mset> ||
    std::is_same_v<C, cmd::del> || std::is_same_v<C, cmd::exists> ||
    std::is_same_v<C, cmd::unlink> || std::is_same_v<C, cmd::touch>;

// The slot of an argument's bytes as sent (a number key hashes its text).
inline std::uint16_t slot_of_arg(const cmd::arg& a) noexcept {
  char scratch[resp::max_number_text];
  return util::key_slot(a.bytes(std::span<char, resp::max_number_text>(scratch)));
}

template <class Command, class Callback>
class split_command {
  using response = typename Command::response;
  static constexpr bool is_mget = std::is_same_v<Command, cmd::mget>;
  static constexpr bool is_mset = std::is_same_v<Command, cmd::mset>;
  using part_item = std::conditional_t<is_mset, cmd::arg_pair, cmd::arg>;

  struct merge {
    explicit merge(Callback&& c) : callback(std::move(c)) {}
    Callback callback;
    response merged{};
    std::vector<std::vector<std::uint32_t>> positions;  // MGET: each part's keys' places
    std::optional<result<response>> failure;            // the first part that failed
    std::size_t remaining = 0;
  };

 public:
  template <class Client>
  static void start(Client& client, const Command& command, Callback callback,
                    const proto::exec_options& options) {
    // Group the keys by slot, parts in the order their first key appears.
    std::vector<std::uint16_t> slots;
    std::vector<std::vector<part_item>> parts;
    auto merged = std::make_unique<merge>(std::move(callback));
    std::uint32_t position = 0;
    const auto place = [&](std::uint16_t slot) -> std::size_t {
      for (std::size_t i = slots.size(); i > 0; --i)  // recent parts first: tagged keys cluster
        if (slots[i - 1] == slot) return i - 1;
      slots.push_back(slot);
      parts.emplace_back();
      if constexpr (is_mget) merged->positions.emplace_back();
      return slots.size() - 1;
    };
    if constexpr (is_mset) {
      command.pairs.for_each([&](const cmd::arg& key, const cmd::arg& value) {
        parts[place(slot_of_arg(key))].push_back(cmd::arg_pair{key, value});
      });
      merged->merged = cmd::applied{true};
    } else {
      command.keys.for_each([&](const cmd::arg& key) {
        const std::size_t p = place(slot_of_arg(key));
        parts[p].push_back(key);
        if constexpr (is_mget) merged->positions[p].push_back(position);
        ++position;
      });
      if constexpr (is_mget) merged->merged.resize(position);
    }

    merge* state = merged.release();
    state->remaining = parts.size();
    for (std::size_t p = 0; p < parts.size(); ++p) {
      const auto on_part = [state, p](result<response> r) { finish_part(*state, p, std::move(r)); };
      if constexpr (is_mset) {
        const cmd::mset part{cmd::pair_list(parts[p])};
        client.route(part, cmd::check_slots(part), on_part, options);
      } else {
        const Command part{cmd::arg_list(parts[p])};
        client.route(part, cmd::check_slots(part), on_part, options);
      }
    }
  }

 private:
  static void finish_part(merge& m, std::size_t part, result<response> r) {
    if (!r.has_value()) {
      if (!m.failure) m.failure.emplace(std::move(r));
    } else if constexpr (is_mget) {
      std::vector<std::optional<std::string>>& values = *r;
      const std::vector<std::uint32_t>& where = m.positions[part];
      for (std::size_t i = 0; i < values.size() && i < where.size(); ++i)
        m.merged[where[i]] = std::move(values[i]);
    } else if constexpr (is_mset) {
      m.merged = cmd::applied{m.merged.value && r->value};
    } else {
      m.merged += *r;
    }
    if (--m.remaining > 0) return;
    std::unique_ptr<merge> done(&m);
    if (done->failure) {
      done->callback(std::move(*done->failure));
    } else {
      done->callback(result<response>(std::move(done->merged)));
    }
  }
};

}  // namespace uredis::cluster::detail
