#include "uredis/cluster/read_router.hpp"

#include <algorithm>

#include "uredis/cache/allow_list.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis::cluster {

void read_router::reset(const slot_map& map) {
  skipped_.assign(map.nodes().size(), 0);
  cursor_.assign(map.shards().size(), 0);
}

std::uint16_t read_router::pick(const shard& sh, std::uint16_t& cursor,
                                read_policy policy) noexcept {
  const std::size_t n = sh.replicas.size();
  if (policy == read_policy::round_robin) {
    // Turn 0 is the primary's, turn i the replica i-1's.
    const std::size_t turn = cursor <= n ? cursor : 0;
    cursor = static_cast<std::uint16_t>(turn == n ? 0 : turn + 1);
    if (turn == 0) return sh.primary;
    const std::uint16_t replica = sh.replicas[turn - 1];
    return skipped(replica) ? sh.primary : replica;
  }
  // prefer_replica: the next replica not skipped, from the cursor on.
  const std::size_t start = cursor < n ? cursor : 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = start + k;
    if (i >= n) i -= n;
    const std::uint16_t replica = sh.replicas[i];
    if (skipped(replica)) continue;
    cursor = static_cast<std::uint16_t>(i + 1 == n ? 0 : i + 1);
    return replica;
  }
  return sh.primary;
}

bool read_router::is_read_only_request(std::string_view request) noexcept {
  const std::string_view name = cache::command_name(request);
  if (name.size() == last_name_size_ && std::equal(name.begin(), name.end(), last_name_))
    return last_read_only_;
  const bool read_only = retry::is_read_only(name);
  if (name.size() <= name_capacity) {
    std::copy(name.begin(), name.end(), last_name_);
    last_name_size_ = static_cast<std::uint8_t>(name.size());
    last_read_only_ = read_only;
  }
  return read_only;
}

}  // namespace uredis::cluster
