#include "tool_lock.hpp"

#include "redlock_lock.hpp"
#include "single_server_lock.hpp"

namespace uredis::lock_tool {

std::unique_ptr<tool_lock> make_tool_lock(reactor::reactor& r, const options& o,
                                          std::string& error) {
  lock::lock_options options;
  options.ttl = o.ttl;
  if (!o.redlock.empty()) {
#ifdef UREDIS_LOCK_TOOL_HAS_REDLOCK
    error.clear();
    return std::make_unique<redlock_lock>(r, o.redlock, o.name, options);
#else
    // This library has no lock/redlock.hpp yet: redlock_lock.hpp builds once it does.
    error = "--redlock is not built yet: this uredis-lock supports one server (-u, -h, -p, -s)";
    return nullptr;
#endif
  }
  return std::make_unique<single_server_lock>(r, o.server, o.name, options);
}

}  // namespace uredis::lock_tool
