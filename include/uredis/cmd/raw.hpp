#pragma once
// cmd::raw: any command with any arguments, for what the typed descriptors do not cover. Each
// constructor argument is one part: an argument ("CLIENT", a std::string, 42, 2.5) or a forward
// range of arguments (a vector of keys); the command is all the parts in order:
//
//   cmd::raw{"CLIENT", "INFO"}                     -> resp::reply
//   cmd::raw<std::int64_t>{"SINTERCARD", 2, keys}  -> std::int64_t
//   cmd::raw{words}                                -> the whole command from one range
//
// The reply is adapted into Response (default resp::reply, which holds anything). Parts are kept
// inline (no allocation) as arg_lists, up to max_parts of them; more does not compile: pass the
// arguments as one range instead. Parts view their ranges and strings as arg_list does, so they
// must live until the command is encoded (build the raw in the exec() expression).
//
// A raw command is keyless (descriptor.hpp): which of its arguments are keys depends on the
// command, and guessing (the second word?) would be wrong for many (SINTERCARD numkeys key...,
// XREAD ... STREAMS key..., OBJECT ENCODING key). A cluster router sends it to any node, whose
// MOVED reply, if it is keyed, says where it belongs; a command that needs routing up front
// deserves a typed descriptor.

#include <array>
#include <concepts>
#include <cstddef>
#include <utility>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cmd {

template <class Response = resp::reply>
class raw {
 public:
  /// Enough for every fixed-shape command Redis has; longer ones have a variable part anyway.
  static constexpr std::size_t max_parts = 16;

  using response = Response;
  static constexpr bool keyless = true;  // see the header comment
  // Its name is known only once encoded: the session refuses the commands not answered by one
  // reply (the subscribe family, MONITOR: errc::not_one_reply).
  static constexpr bool any_command = true;

  /// The command made of `parts`, in order. (Implicit, like the aggregates' braces.)
  template <class... Parts>
  requires(sizeof...(Parts) >= 1 && sizeof...(Parts) <= max_parts &&
           (std::constructible_from<arg_list, Parts&&> && ...)) raw(Parts&&... parts)
  noexcept : parts_{arg_list(std::forward<Parts>(parts))...}, count_(sizeof...(Parts)) {}

  /// How many arguments the command has, its name included.
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count_; ++i)
      n += parts_[i].size();
    return n;
  }

  void encode(resp::encoder& e) const {
    e.begin(size());
    for (std::size_t i = 0; i < count_; ++i)
      parts_[i].encode(e);
  }

 private:
  std::array<arg_list, max_parts> parts_;
  std::size_t count_;
};

}  // namespace uredis::cmd
