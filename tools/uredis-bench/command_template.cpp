#include "command_template.hpp"

#include <algorithm>
#include <cstring>

#include "split_args.hpp"

namespace uredis::bench {
namespace {

constexpr std::string_view key_placeholder = "__key__";
constexpr std::string_view data_placeholder = "__data__";

}  // namespace

std::optional<command_template> command_template::parse(std::string_view text, std::string& error) {
  command_template t;
  t.text_ = std::string{text};
  std::vector<std::string> words;
  if (!cli::split_args(t.text_, words)) {
    error = "invalid quoting in --command";
    return std::nullopt;
  }
  if (words.empty()) {
    error = "--command has no command";
    return std::nullopt;
  }
  for (const std::string& w : words) {
    const std::string_view word = w;
    argument a{t.parts_.size(), 0};
    std::size_t at = 0;
    while (at < word.size()) {
      const std::size_t key_at = word.find(key_placeholder, at);
      const std::size_t data_at = word.find(data_placeholder, at);
      const std::size_t next = std::min(key_at, data_at);
      if (next > at) t.parts_.push_back({part_kind::text, std::string{word.substr(at, next - at)}});
      if (next == std::string_view::npos) break;
      if (next == key_at) {
        t.parts_.push_back({part_kind::key, {}});
        t.uses_key_ = true;
        at = next + key_placeholder.size();
      } else {
        t.parts_.push_back({part_kind::data, {}});
        at = next + data_placeholder.size();
      }
    }
    if (t.parts_.size() == a.first_part) t.parts_.push_back({part_kind::text, {}});  // ""
    a.part_count = t.parts_.size() - a.first_part;
    t.arguments_.push_back(a);
  }
  return t;
}

std::size_t command_template::scratch_size(std::size_t key_size,
                                           std::size_t data_size) const noexcept {
  std::size_t longest = 0;
  for (const argument& a : arguments_) {
    if (a.part_count == 1) continue;  // viewed, not assembled
    std::size_t size = 0;
    for (std::size_t i = a.first_part; i < a.first_part + a.part_count; ++i) {
      switch (parts_[i].kind) {
        case part_kind::text:
          size += parts_[i].text.size();
          break;
        case part_kind::key:
          size += key_size;
          break;
        case part_kind::data:
          size += data_size;
          break;
      }
    }
    longest = std::max(longest, size);
  }
  return longest;
}

std::string_view command_template::part_text(const part& p, std::string_view key,
                                             std::string_view data) const noexcept {
  switch (p.kind) {
    case part_kind::key:
      return key;
    case part_kind::data:
      return data;
    case part_kind::text:
      break;
  }
  return p.text;
}

std::string_view command_template::assemble(const argument& a, std::string_view key,
                                            std::string_view data, char* scratch) const noexcept {
  if (a.part_count == 1) return part_text(parts_[a.first_part], key, data);
  std::size_t size = 0;
  for (std::size_t i = a.first_part; i < a.first_part + a.part_count; ++i) {
    const std::string_view s = part_text(parts_[i], key, data);
    if (!s.empty()) std::memcpy(scratch + size, s.data(), s.size());
    size += s.size();
  }
  return {scratch, size};
}

void command_template::encode(resp::encoder& e, std::string_view key, std::string_view data,
                              char* scratch) const {
  e.begin(arguments_.size());
  for (const argument& a : arguments_)
    e.arg(assemble(a, key, data, scratch));
}

}  // namespace uredis::bench
