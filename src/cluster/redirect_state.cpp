#include "uredis/cluster/redirect_state.hpp"

#include "uredis/error.hpp"

namespace uredis::cluster {

std::string_view redirect_state::own_bytes(std::string_view sent) const noexcept {
  if (asking_ && sent.starts_with(asking_request)) sent.remove_prefix(asking_request.size());
  return sent;
}

redirect_verdict redirect_state::count(redirect_verdict v) noexcept {
  if (redirects_ >= max_redirects) {
    v.what = redirect_verdict::action::give_up;
    return v;
  }
  ++redirects_;
  asking_ = v.what == redirect_verdict::action::follow_ask;
  return v;
}

redirect_verdict redirect_state::on_error_reply(std::string_view error_text, std::string_view sent,
                                                std::string_view replying_host) {
  redirect_verdict v;
  v.command = own_bytes(sent);
  if (!may_redirect(error_text)) return v;
  const server_error error = server_error::parse(error_text);
  switch (error.kind) {
    case server_error_kind::moved:
    case server_error_kind::ask: {
      const std::optional<redirect> r = parse_redirect(error, replying_host);
      if (!r) return v;  // malformed: the plain error it is
      v.where = *r;
      v.what = r->type == redirect::kind::moved ? redirect_verdict::action::follow_moved
                                                : redirect_verdict::action::follow_ask;
      return count(v);
    }
    case server_error_kind::tryagain:
    case server_error_kind::clusterdown:
      v.what = redirect_verdict::action::retry_later;
      return count(v);
    default:
      return v;
  }
}

redirect_verdict redirect_state::on_unsent(std::string_view sent) noexcept {
  redirect_verdict v;
  v.command = own_bytes(sent);
  v.what = redirect_verdict::action::retry_later;
  return count(v);
}

}  // namespace uredis::cluster
