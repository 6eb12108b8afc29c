#pragma once
// applied: the answer of a command that replies +OK when it acted and a null when a condition
// stopped it (SET with NX or XX). It converts to bool, so `if (*r)` reads "was it applied?".
// Commands that can only say +OK (MSET, SET without a condition) answer true or an error.
//
// resp::adapter<applied> takes the simple string "OK" as true and a null (RESP2 $-1 or *-1,
// RESP3 _) as false; anything else is errc::type_mismatch, so a reply of another shape is never
// mistaken for success. (resp::adapter<bool> deliberately refuses "OK": see resp/adapter.hpp.)

#include <system_error>

#include "uredis/error.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/type.hpp"

namespace uredis::cmd {

struct applied {
  bool value = false;

  // Implicit: an applied is the bool it holds, with a name that says what the bool means.
  constexpr operator bool() const noexcept { return value; }
};

}  // namespace uredis::cmd

namespace uredis::resp {

template <>
class adapter<cmd::applied> {
 public:
  explicit adapter(cmd::applied& out) noexcept : out_(&out) {}

  void on_node(const node& n, std::error_code& ec) {
    const bool first = !counter_.started();
    counter_.count(n);
    if (!first) return;  // the children of a mismatched aggregate are only counted
    if (n.type == type::null) {
      out_->value = false;
    } else if (n.type == type::simple_string && n.value == "OK") {
      out_->value = true;
    } else {
      ec = is_error(n.type) ? errc::unexpected_server_error : errc::type_mismatch;
    }
  }

  bool done() const noexcept { return counter_.done(); }

 private:
  cmd::applied* out_;
  detail::element_counter counter_;
};

}  // namespace uredis::resp
