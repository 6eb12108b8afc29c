#include "uredis/cluster/readonly_step.hpp"

#include "uredis/error.hpp"

namespace uredis::cluster {

std::size_t readonly_step::write(resp::encoder& out, const proto::handshake_params&,
                                 proto::resp_version) {
  out.command("READONLY");
  return 1;
}

result<void> readonly_step::on_node(const resp::node& n, std::size_t) {
  if (resp::is_error(n.type)) return server_error::parse(n.value);
  if (n.depth != 0 || n.type != resp::type::simple_string || n.value != "OK")
    return make_error_code(errc::type_mismatch);
  return {};
}

}  // namespace uredis::cluster
