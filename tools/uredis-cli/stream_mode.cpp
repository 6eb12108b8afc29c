#include "stream_mode.hpp"

#include <strings.h>

#include <memory>
#include <system_error>

#include "raw_connection.hpp"
#include "uredis/resp/format.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cli {
namespace {

bool same(const std::string& a, const char* b) noexcept {
  return ::strcasecmp(a.c_str(), b) == 0;
}

bool subscribes(std::span<const std::string> args) noexcept {
  return !args.empty() &&
         (same(args[0], "subscribe") || same(args[0], "psubscribe") || same(args[0], "ssubscribe"));
}

}  // namespace

bool starts_stream(std::span<const std::string> args) noexcept {
  return subscribes(args) || (!args.empty() && same(args[0], "monitor"));
}

stream_end run_stream(session& s, std::span<const std::string> args, std::FILE* out, std::FILE* err,
                      std::optional<cluster::redirect>* redirect, bool asking) {
  auto lost = [&](const std::error_code& ec) {
    std::fflush(out);
    std::fprintf(err, "Error: %s\n", s.error_text(ec).c_str());
    return stream_end::connection_lost;
  };
  std::error_code ec;
  const std::unique_ptr<raw_connection> c = raw_connection::open(s.server(), s.setup(), ec);
  if (!c) return lost(ec);

  std::string request = asking ? "*1\r\n$6\r\nASKING\r\n" : "";
  request += "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    request.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  if ((ec = c->write_all(request))) return lost(ec);
  // redis-cli prints this once the command is sent, before any reply.
  if (subscribes(args)) std::fputs("Reading messages... (press Ctrl-C to quit)\n", out);
  std::fflush(out);

  std::string text;
  for (bool skip = asking;; skip = false) {
    resp::reply r;
    if ((ec = c->read_reply(r))) return lost(ec);
    if (skip && !r.is_error()) continue;  // ASKING's +OK; redis-cli prints nothing for it
    if (redirect != nullptr && r.is_error()) {
      if (auto to = cluster::parse_redirect(server_error::parse(r.text()), s.server().host)) {
        *redirect = std::move(to);
        return stream_end::redirected;
      }
    }
    text.clear();
    resp::format(r, text);
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
    if (resp::is_error(r.type())) return stream_end::error_reply;
  }
}

}  // namespace uredis::cli
