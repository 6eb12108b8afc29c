#include "tool_lock.hpp"

#include "single_server_lock.hpp"

namespace uredis::lock_tool {

std::unique_ptr<tool_lock> make_tool_lock(reactor::reactor& r, const options& o,
                                          std::string& error) {
  if (!o.redlock.empty()) {
    // The Redlock (lock/redlock.hpp) is being written; its tool_lock plugs in here.
    error = "--redlock is not built yet: this uredis-lock supports one server (-u, -h, -p, -s)";
    return nullptr;
  }
  lock::lock_options options;
  options.ttl = o.ttl;
  return std::make_unique<single_server_lock>(r, o.server, o.name, options);
}

}  // namespace uredis::lock_tool
