#pragma once
// Descriptors for Lua scripting and functions: EVAL, EVALSHA, their read-only forms EVAL_RO and
// EVALSHA_RO, FCALL and FCALL_RO, SCRIPT LOAD. (descriptor.hpp states the contract;
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
// only ones: a script (or a function) must name every key it touches there, which is what lets
// Redis Cluster route it; the arguments are never keys. SCRIPT LOAD is keyless.
//
// The _RO forms run a script or function that the server refuses to let write (a write inside
// fails with an error reply); in exchange they are read-only commands: retry::is_read_only
// lists them, so they are resent after a reconnect lost their reply, and a replica takes them.
// client/script.hpp sends EVALSHA (or EVALSHA_RO) and loads the script on NOSCRIPT by itself.

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

/// EVAL_RO script numkeys key... arg... -> as eval, for a script that only reads.
template <class Response = resp::reply>
struct eval_ro {
  std::string_view script{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "EVAL_RO", script, keys, args); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// EVALSHA_RO sha1 numkeys key... arg... -> as evalsha, for a script that only reads.
template <class Response = resp::reply>
struct evalsha_ro {
  std::string_view sha1{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "EVALSHA_RO", sha1, keys, args); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// FCALL function numkeys key... arg... -> the function's reply as a Response (an error reply
/// when no loaded library defines the function: FUNCTION LOAD it first).
template <class Response = resp::reply>
struct fcall {
  std::string_view function{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "FCALL", function, keys, args); }
  constexpr void for_each_key(auto&& f) const { detail::for_each_key_in(keys, f); }
};

/// FCALL_RO function numkeys key... arg... -> as fcall, for a function declared no-writes.
template <class Response = resp::reply>
struct fcall_ro {
  std::string_view function{};
  arg_list keys{};
  arg_list args{};

  using response = Response;
  void encode(resp::encoder& e) const { detail::encode_eval(e, "FCALL_RO", function, keys, args); }
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
eval_ro(std::string_view) -> eval_ro<>;
eval_ro(std::string_view, arg_list) -> eval_ro<>;
eval_ro(std::string_view, arg_list, arg_list) -> eval_ro<>;
evalsha_ro(std::string_view) -> evalsha_ro<>;
evalsha_ro(std::string_view, arg_list) -> evalsha_ro<>;
evalsha_ro(std::string_view, arg_list, arg_list) -> evalsha_ro<>;
fcall(std::string_view) -> fcall<>;
fcall(std::string_view, arg_list) -> fcall<>;
fcall(std::string_view, arg_list, arg_list) -> fcall<>;
fcall_ro(std::string_view) -> fcall_ro<>;
fcall_ro(std::string_view, arg_list) -> fcall_ro<>;
fcall_ro(std::string_view, arg_list, arg_list) -> fcall_ro<>;
// clang-format on

/// SCRIPT LOAD script -> the script's SHA1 digest, for EVALSHA.
struct script_load {
  std::string_view script{};

  using response = std::string;
  void encode(resp::encoder& e) const { e.command("SCRIPT", "LOAD", script); }
  static constexpr bool keyless = true;
};

}  // namespace uredis::cmd
