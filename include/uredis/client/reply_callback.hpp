#pragma once
// reply_callback: what the callback API takes, checked where the user can read the check.
//
// Every exec() and run() comes in two forms: `co_await c.exec(cmd, options)` and
// `c.exec(cmd, callback, options)`. A bare template parameter would let the callback form
// swallow an exec_options however it is spelt (`exec_options{...}`, a non-const variable) and
// fail far away, inside the handler, with "awaitable type 'void' is not a structure".
// not_exec_options keeps exec_options out of the callback position, so every spelling picks
// the awaitable; reply_callback is asserted with a message that says what a callback must be.

#include <concepts>
#include <type_traits>

#include "uredis/proto/exec_options.hpp"
#include "uredis/result.hpp"

namespace uredis {

/// Callable once, on the shard's thread, as `callback(uredis::result<Response>)`.
template <class Callback, class Response>
concept reply_callback = std::invocable < std::decay_t<Callback>
&, result < Response >> ;

/// Anything but exec_options: what may stand where a callback goes.
template <class T>
concept not_exec_options = !std::same_as<std::remove_cvref_t<T>, proto::exec_options>;

}  // namespace uredis
