#include "session_setup.hpp"

#include <strings.h>

#include <charconv>

#include "uredis/error.hpp"

namespace uredis::cli {
namespace {

bool same(const std::string& a, const char* b) noexcept {
  return ::strcasecmp(a.c_str(), b) == 0;
}

}  // namespace

std::vector<std::vector<std::string>> session_setup::commands() const {
  std::vector<std::vector<std::string>> out;
  if (password) {
    std::vector<std::string>& auth = out.emplace_back();
    auth.emplace_back("AUTH");
    if (user) auth.push_back(*user);
    auth.push_back(*password);
  }
  if (db != 0) out.push_back({"SELECT", std::to_string(db)});
  if (resp3) out.push_back({"HELLO", "3"});
  return out;
}

bool session_setup::changes_setup(std::span<const std::string> args) noexcept {
  if (args.empty()) return false;
  const std::string& c = args[0];
  if (same(c, "select")) return args.size() == 2;
  if (same(c, "auth")) return args.size() == 2 || args.size() == 3;
  // HELLO [protover [AUTH user pass] [SETNAME name]]: only the version is tracked; credentials
  // given there are tracked too, as AUTH's.
  if (same(c, "hello")) return args.size() >= 2;
  return false;
}

bool session_setup::apply(std::span<const std::string> args) {
  if (!changes_setup(args)) return false;
  const std::string& c = args[0];
  if (same(c, "select")) {
    int n = 0;
    const auto [p, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), n);
    if (ec == std::errc{} && p == args[1].data() + args[1].size()) db = n;
  } else if (same(c, "auth")) {
    user = args.size() == 3 ? std::optional<std::string>(args[1]) : std::nullopt;
    password = args.back();
  } else {  // hello
    resp3 = args[1] == "3";
    for (std::size_t i = 2; i + 2 < args.size(); ++i) {
      if (same(args[i], "auth")) {
        user = args[i + 1];
        password = args[i + 2];
        break;
      }
    }
  }
  return true;
}

std::size_t replay_step::write(resp::encoder& out, const proto::handshake_params&,
                               proto::resp_version) {
  const std::vector<std::vector<std::string>> commands = setup_.commands();
  for (const std::vector<std::string>& c : commands) {
    out.begin(c.size());
    out.args(c);
  }
  return commands.size();
}

result<void> replay_step::on_node(const resp::node& n, std::size_t) {
  // Only a top-level error matters: HELLO's map has nodes below it.
  if (n.depth == 0 && resp::is_error(n.type)) return server_error::parse(n.value);
  return {};
}

}  // namespace uredis::cli
