#include "uredis/proto/role_check.hpp"

#include "uredis/error.hpp"

namespace uredis::proto {

std::size_t role_check::write(resp::encoder& out, const handshake_params&, resp_version) {
  checked_ = false;
  out.command("ROLE");
  return 1;
}

result<void> role_check::on_node(const resp::node& n, std::size_t) {
  if (n.depth == 0) {
    if (resp::is_error(n.type)) return server_error::parse(n.value);
    if (n.type != resp::type::array || n.size == 0) return make_error_code(errc::type_mismatch);
    return {};
  }
  if (checked_ || n.depth != 1) return {};  // the rest of the answer: offsets, replicas...
  checked_ = true;
  if (n.type != resp::type::bulk_string && n.type != resp::type::simple_string)
    return make_error_code(errc::type_mismatch);
  static constexpr std::string_view known[] = {"master", "slave", "sentinel"};
  found_ = "unknown";
  for (const std::string_view k : known)
    if (n.value == k) found_ = k;
  if (n.value != expected_) return make_error_code(errc::role_mismatch);
  return {};
}

}  // namespace uredis::proto
