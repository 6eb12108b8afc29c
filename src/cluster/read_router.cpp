#include "uredis/cluster/read_router.hpp"

#include <cstring>

#include "uredis/cache/allow_list.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis::cluster {

void read_router::reset(const slot_map& map) {
  skipped_.assign(map.nodes().size(), 0);
  cursor_.assign(map.shards().size(), 0);
}

bool read_router::look_up(std::string_view request) noexcept {
  const std::string_view name = cache::command_name(request);
  const bool read_only = retry::is_read_only(name);
  // The head ends where the name does (its CRLF included): the next command with the same
  // argument count and name shares it.
  const std::size_t head =
      name.empty() ? 0 : static_cast<std::size_t>(name.data() - request.data()) + name.size() + 2;
  if (head != 0 && head <= head_capacity && head <= request.size()) {
    std::memcpy(last_head_, request.data(), head);
    last_head_size_ = static_cast<std::uint8_t>(head);
    last_read_only_ = read_only;
  }
  return read_only;
}

}  // namespace uredis::cluster
