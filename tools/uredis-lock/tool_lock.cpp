#include "tool_lock.hpp"

#include "redlock_lock.hpp"
#include "single_server_lock.hpp"

namespace uredis::lock_tool {

std::unique_ptr<tool_lock> make_tool_lock(reactor::reactor& r, const options& o,
                                          std::string& error) {
  lock::lock_options options;
  options.ttl = o.ttl;
  error.clear();
  if (!o.redlock.empty()) return std::make_unique<redlock_lock>(r, o.redlock, o.name, options);
  return std::make_unique<single_server_lock>(r, o.server, o.name, options);
}

}  // namespace uredis::lock_tool
