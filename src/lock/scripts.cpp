#include "uredis/lock/scripts.hpp"

#include "uredis/util/key_slot.hpp"

namespace uredis::lock {

const script& acquire_script() {
  static const script code{R"lua(
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return redis.call('INCR', KEYS[2])
end
if holder then return 0 end
if ARGV[2] == '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
else
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
return redis.call('INCR', KEYS[2])
)lua"};
  return code;
}

const script& extend_script() {
  static const script code{R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then return 0 end
local ttl = tonumber(ARGV[2])
if ARGV[3] == '0' then ttl = ttl + pttl end
redis.call('PEXPIRE', KEYS[1], ttl)
return ttl
)lua"};
  return code;
}

const script& release_script() {
  static const script code{R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], '')
return 1
)lua"};
  return code;
}

namespace {

std::string joined(std::string_view a, std::string_view b, std::string_view c) {
  std::string out;
  out.reserve(a.size() + b.size() + c.size());
  out.append(a).append(b).append(c);
  return out;
}

}  // namespace

std::string fence_key(std::string_view name) {
  if (name.empty()) return {};
  const std::uint16_t slot = util::key_slot(name);
  if (std::string key = joined("", name, ":fence"); util::key_slot(key) == slot) return key;
  if (std::string key = joined("{", name, "}:fence"); util::key_slot(key) == slot) return key;
  return {};
}

std::string release_channel(std::string_view name) {
  return joined("uredis:lock:", name, "");
}

}  // namespace uredis::lock
