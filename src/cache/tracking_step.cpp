#include "uredis/cache/tracking_step.hpp"

#include "uredis/error.hpp"

namespace uredis::cache {

std::size_t tracking_step::write(resp::encoder& out, const proto::handshake_params&,
                                 proto::resp_version protocol) {
  active_ = false;
  const bool redirected = protocol == proto::resp_version::resp2;
  if (redirected && !redirect_) return 0;  // nowhere for invalidations to go: no tracking

  std::size_t argc = 3;  // CLIENT TRACKING ON
  if (redirected) argc += 2;
  switch (config_.mode) {
    case tracking_mode::optin:
      argc += 1;
      break;
    case tracking_mode::tracked:
      break;
    case tracking_mode::bcast:
      argc += 1 + 2 * config_.prefixes.size();
      break;
  }
  out.begin(argc);
  out.arg("CLIENT");
  out.arg("TRACKING");
  out.arg("ON");
  if (redirected) {
    out.arg("REDIRECT");
    out.arg(*redirect_);
  }
  switch (config_.mode) {
    case tracking_mode::optin:
      out.arg("OPTIN");
      break;
    case tracking_mode::tracked:
      break;
    case tracking_mode::bcast:
      out.arg("BCAST");
      for (const std::string& prefix : config_.prefixes) {
        out.arg("PREFIX");
        out.arg(prefix);
      }
      break;
  }
  return 1;
}

result<void> tracking_step::on_node(const resp::node& n, std::size_t) {
  if (resp::is_error(n.type)) return server_error::parse(n.value);
  if (n.depth != 0 || n.type != resp::type::simple_string || n.value != "OK")
    return make_error_code(errc::type_mismatch);
  active_ = true;
  return {};
}

}  // namespace uredis::cache
