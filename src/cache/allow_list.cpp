#include "uredis/cache/allow_list.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace uredis::cache {
namespace {

// Sorted, upper case: looked up by binary search on every cached call.
constexpr std::array<std::string_view, 73> allowed = {
    "BITCOUNT",
    "BITFIELD_RO",
    "BITPOS",
    "EXISTS",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GET",
    "GETBIT",
    "GETRANGE",
    "HEXISTS",
    "HGET",
    "HGETALL",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HSTRLEN",
    "HVALS",
    "JSON.ARRINDEX",
    "JSON.ARRLEN",
    "JSON.GET",
    "JSON.MGET",
    "JSON.OBJKEYS",
    "JSON.OBJLEN",
    "JSON.RESP",
    "JSON.STRLEN",
    "JSON.TYPE",
    "LCS",
    "LINDEX",
    "LLEN",
    "LPOS",
    "LRANGE",
    "MGET",
    "SCARD",
    "SDIFF",
    "SINTER",
    "SINTERCARD",
    "SISMEMBER",
    "SMEMBERS",
    "SMISMEMBER",
    "SORT_RO",
    "STRLEN",
    "SUBSTR",
    "SUNION",
    "TS.GET",
    "TS.INFO",
    "TS.RANGE",
    "TS.REVRANGE",
    "TYPE",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREVRANGE",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZINTER",
    "ZINTERCARD",
    "ZLEXCOUNT",
    "ZMSCORE",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANK",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCORE",
    "ZUNION",
};

static_assert(std::is_sorted(allowed.begin(), allowed.end()));

constexpr std::size_t longest_name = 20;  // GEORADIUSBYMEMBER_RO

}  // namespace

bool on_allow_list(std::string_view name) noexcept {
  if (name.empty() || name.size() > longest_name) return false;
  std::array<char, longest_name> upper{};
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    upper[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string_view key(upper.data(), name.size());
  return std::binary_search(allowed.begin(), allowed.end(), key);
}

bool changes_every_key(std::string_view name) noexcept {
  const auto is = [name](std::string_view upper) {
    if (name.size() != upper.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      if ((c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c) != upper[i]) return false;
    }
    return true;
  };
  return is("FLUSHALL") || is("FLUSHDB") || is("SWAPDB") || is("SELECT");
}

std::string_view command_name(std::string_view request) noexcept {
  // *<argc>\r\n$<len>\r\n<name>\r\n, read with short loops: on every cached call, where a
  // library search for the first LF costs more than the few digits it skips.
  const std::size_t size = request.size();
  if (size < 4 || request[0] != '*') return {};
  std::size_t i = 1;
  while (i < size && request[i] >= '0' && request[i] <= '9')
    ++i;
  if (i + 3 > size || request[i] != '\r' || request[i + 1] != '\n' || request[i + 2] != '$')
    return {};
  std::size_t length = 0;
  for (i += 3; i < size && request[i] >= '0' && request[i] <= '9'; ++i)
    length = length * 10 + static_cast<std::size_t>(request[i] - '0');
  if (i + 2 > size || request[i] != '\r' || request[i + 1] != '\n') return {};
  i += 2;
  if (length > size - i) return {};
  return request.substr(i, length);
}

}  // namespace uredis::cache
