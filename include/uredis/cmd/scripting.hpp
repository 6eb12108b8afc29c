#pragma once
// Descriptors for Lua scripting: EVAL, EVALSHA, SCRIPT LOAD. (descriptor.hpp states the contract;
// arguments.hpp the lifetimes.)
//
// A script's reply has whatever shape the script returns, so the caller names the response
// type; it defaults to resp::reply, which holds anything:
//
//   cmd::eval{"return redis.call('GET', KEYS[1])", {"k"}}             -> resp::reply
//   cmd::eval<std::int64_t>{"return #ARGV", {}, {"a", "b", 3}}       -> std::int64_t
//   cmd::evalsha<std::optional<std::string>>{sha, keys, args}        -> std::optional<std::string>
//
// Keys and arguments are arg_lists (one, a braced list, or any forward range); numkeys is
// computed from the keys. The keys are the command's keys (descriptor.hpp), in order, and the
// only ones: a script must name every key it touches there, which is what lets Redis Cluster
// route it; the arguments are never keys. SCRIPT LOAD is keyless.

#include <string>
#include <string_view>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cmd {

namespace detail {

inline void encode_eval(resp::encoder& e, std::string_view name, std::string_view script,
                        const arg_list& keys, const arg_list& args) {
  e.begin(3 + keys.size() + args.size());
  e.arg(name);
  e.arg(script);
  e.arg(keys.size());
  keys.encode(e);
  args.encode(e);
}

}  // namespace detail

/// EVAL script numkeys key... arg... -> the script's reply as a Response.
template <class Response = resp::reply>
struct eval {
  std::string_view script{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "EVAL", script, keys, args); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// EVALSHA sha1 numkeys key... arg... -> the script's reply as a Response (a NOSCRIPT server
/// error when the server does not have the script: SCRIPT LOAD it, or EVAL it, and retry).
template <class Response = resp::reply>
struct evalsha {
  std::string_view sha1{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "EVALSHA", sha1, keys, args); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

// cmd::eval{...} without a template argument means eval<>: the guides spell that out for the
// compilers that do not deduce an aggregate's arguments (Clang 14). (clang-format 14 would read
// them as expressions.)
// clang-format off
eval(std::string_view) -> eval<>;
eval(std::string_view, arg_list) -> eval<>;
eval(std::string_view, arg_list, arg_list) -> eval<>;
evalsha(std::string_view) -> evalsha<>;
evalsha(std::string_view, arg_list) -> evalsha<>;
evalsha(std::string_view, arg_list, arg_list) -> evalsha<>;
// clang-format on

/// SCRIPT LOAD script -> the script's SHA1 digest, for EVALSHA.
struct script_load {
  std::string_view script{};

  using response = std::string;
  void encode(resp::encoder& e) const { e.command("SCRIPT", "LOAD", script); }
  static constexpr bool keyless = true;
};

}  // namespace uredis::cmd
