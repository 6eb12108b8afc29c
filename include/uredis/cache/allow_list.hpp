#pragma once
// allow_list: which commands the client-side cache keeps replies of, by default.
//
// redis-py's default allow-list (its cache.py), read-only commands whose reply depends only on
// their keys' values, less XREAD: a read that can block, and whose keys follow STREAMS, is not
// one a MULTI ... EXEC wrapper can run unchanged. The list:
//
//   strings     GET MGET GETRANGE SUBSTR STRLEN GETBIT BITCOUNT BITPOS BITFIELD_RO LCS
//   keys        EXISTS TYPE
//   hashes      HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN
//   lists       LRANGE LINDEX LLEN LPOS
//   sets        SMEMBERS SISMEMBER SMISMEMBER SCARD SDIFF SINTER SINTERCARD SUNION
//   sorted sets ZRANGE ZRANGEBYLEX ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYLEX ZREVRANGEBYSCORE
//               ZRANK ZREVRANK ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZDIFF ZINTER ZINTERCARD
//               ZUNION
//   geo         GEODIST GEOHASH GEOPOS GEORADIUS_RO GEORADIUSBYMEMBER_RO GEOSEARCH
//   streams     XLEN XRANGE XREVRANGE XPENDING
//   others      SORT_RO, and the modules' JSON.GET JSON.MGET JSON.TYPE JSON.STRLEN JSON.ARRLEN
//               JSON.ARRINDEX JSON.OBJKEYS JSON.OBJLEN JSON.RESP TS.GET TS.INFO TS.RANGE
//               TS.REVRANGE
//
// A reply is keyed by the whole command (name and every argument), so GET k and MGET k are two
// entries, both dropped when k is invalidated. Per call, exec_options::cache skips the cache for
// a listed command or takes a command that is not listed (the caller's word that it only reads
// the keys its descriptor names).

#include <string_view>

namespace uredis::cache {

/// True when `name` (any case) is on the list above.
bool on_allow_list(std::string_view name) noexcept;

/// True when `name` (any case) changes what every key reads on the connection: FLUSHALL,
/// FLUSHDB, SWAPDB, SELECT. Entries are not keyed by database, and the server's null
/// invalidation after a flush arrives after its reply, if at all.
bool changes_every_key(std::string_view name) noexcept;

/// The command name a request starts with (its first bulk string); empty when `request` is not
/// a RESP array of bulk strings.
std::string_view command_name(std::string_view request) noexcept;

}  // namespace uredis::cache
