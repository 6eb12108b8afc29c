#include "redirect_follower.hpp"

#include <string_view>
#include <utility>

namespace uredis::cli {
namespace {

// redis-cli prints its connection's error text, which is empty when the connection is fine but
// a set-up step or ASKING was refused.
constexpr std::string_view empty_context_error = "Error: \n";

}  // namespace

void redirect_follower::issue(const std::vector<std::string>& args, long repeat) {
  for (int redirects = 0;; ++redirects) {
    if (!ready_to_send()) return;
    printer_.hold_redirects(redirects < max_redirects);
    std::optional<cluster::redirect> to;
    for (long i = 0; i < repeat && !to && !printer_.stopped(); ++i) {
      printer_.send(args);
      printer_.wait_until_in_flight(0);
      to = printer_.take_redirect();
    }
    if (!to) return;
    follow(std::move(*to));
  }
}

stream_end redirect_follower::stream(const std::vector<std::string>& args, std::FILE* out) {
  for (int redirects = 0;; ++redirects) {
    if (!connected()) return stream_end::error_reply;
    std::optional<cluster::redirect> to;
    const stream_end end =
        run_stream(session_, args, out, err_, redirects < max_redirects ? &to : nullptr,
                   std::exchange(asking_, false));
    if (end != stream_end::redirected) return end;
    follow(std::move(*to));
    printer_.flush();
  }
}

void redirect_follower::follow(cluster::redirect to) {
  if (announce_) {
    printer_.print("-> Redirected to slot [" + std::to_string(to.slot) + "] located at " +
                   to.target.host + ":" + std::to_string(to.target.port) + "\n");
  }
  reconnect_to_ = std::move(to.target);
  asking_ = to.type == cluster::redirect::kind::ask;
}

bool redirect_follower::connected() {
  if (reconnect_to_) {
    printer_.flush();  // what came before, before what goes to stderr
    const session::opened outcome = session_.move_to(reconnect_to_->host, reconnect_to_->port);
    if (outcome == session::opened::unreachable) {
      printer_.fail();
      return false;
    }
    reconnect_to_.reset();
    if (outcome == session::opened::refused) {
      std::fwrite(empty_context_error.data(), 1, empty_context_error.size(), err_);
      printer_.fail();
      return false;
    }
  }
  return true;
}

bool redirect_follower::ready_to_send() {
  if (!connected()) return false;
  if (asking_) {
    asking_ = false;
    const std::string asking[] = {"ASKING"};
    const result<resp::reply> r = session_.call(asking);
    if (r.has_error()) {
      std::fprintf(err_, "Error: %s\n", session_.error_text(r.error()).c_str());
      printer_.fail();
      return false;
    }
    if (r.has_server_error()) {
      std::fprintf(err_, "ASKING failed: %s\n", r.server_error().message.c_str());
      std::fwrite(empty_context_error.data(), 1, empty_context_error.size(), err_);
      printer_.fail();
      return false;
    }
  }
  return true;
}

}  // namespace uredis::cli
