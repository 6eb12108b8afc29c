#include "uredis/sentinel/switch_master.hpp"

#include "uredis/sentinel/discovery.hpp"

namespace uredis::sentinel {

std::optional<switch_master> parse_switch_master(std::string_view payload) noexcept {
  std::string_view words[5];
  std::size_t count = 0;
  while (!payload.empty()) {
    if (count == 5) return std::nullopt;  // a sixth word
    const std::size_t space = payload.find(' ');
    words[count++] = payload.substr(0, space);
    if (space == std::string_view::npos) break;
    payload.remove_prefix(space + 1);
    if (payload.empty()) return std::nullopt;  // a trailing space
  }
  if (count != 5) return std::nullopt;
  for (const std::string_view w : words)
    if (w.empty()) return std::nullopt;  // two spaces in a row
  switch_master m{words[0], words[1], parse_port(words[2]), words[3], parse_port(words[4])};
  if (m.old_port == 0 || m.new_port == 0) return std::nullopt;
  return m;
}

}  // namespace uredis::sentinel
