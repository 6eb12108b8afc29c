#include "uredis/proto/handshake_steps.hpp"

#ifndef UREDIS_VERSION
#error "UREDIS_VERSION must be defined by the build (src/meson.build passes the project version)"
#endif

namespace uredis::proto {
namespace {

// HELLO refused because the server does not have it (Redis < 6 answers "ERR unknown command
// 'HELLO'" or "ERR unknown command `HELLO`, with args beginning with: ..."), or because it will
// not speak RESP3 (NOPROTO): both leave a working RESP2 connection behind.
bool means_no_hello(const server_error& e) noexcept {
  return e.kind == server_error_kind::noproto ||
         (e.kind == server_error_kind::err && e.detail().starts_with("unknown command"));
}

}  // namespace

// HELLO 3 [AUTH user pass] [SETNAME name]: the RESP3 way, one command for three things.

std::size_t hello_step::write(resp::encoder& out, const handshake_params& p,
                              resp_version protocol) {
  if (protocol != resp_version::resp3) return 0;
  const bool named = !p.client_name.empty();
  out.begin(2 + (p.authenticate ? 3 : 0) + (named ? 2 : 0));
  out.arg("HELLO");
  out.arg("3");
  if (p.authenticate) {
    out.arg("AUTH");
    // HELLO's AUTH always names a user; a password alone belongs to "default".
    out.arg(p.username.empty() ? std::string_view{"default"} : p.username);
    out.arg(p.password);
  }
  if (named) {
    out.arg("SETNAME");
    out.arg(p.client_name);
  }
  return 1;
}

void hello_step::reset() noexcept {
  protocol_ = 2;
  fell_back_ = false;
  server_version_.reset();
  client_id_.reset();
  elements_ = 0;
  field_ = field::other;
}

result<void> hello_step::on_node(const resp::node& n, std::size_t) {
  if (n.depth == 0) {
    if (resp::is_error(n.type)) {
      server_error e = server_error::parse(n.value);
      if (!means_no_hello(e)) return e;
      fell_back_ = true;
      return {};
    }
    // A map in RESP3; a flat array of pairs if a proxy downgraded it. Both list key, value...
    if (n.type != resp::type::map && !(n.type == resp::type::array && n.size % 2 == 0))
      return make_error_code(errc::type_mismatch);
    protocol_ = 3;
    elements_ = 0;
    return {};
  }
  // The keys and values at depth 1 (deeper ones belong to values such as "modules", which
  // nobody here needs).
  if (n.depth != 1) return {};
  if (elements_++ % 2 == 0) {
    field_ = n.value == "proto"     ? field::proto
             : n.value == "version" ? field::version
             : n.value == "id"      ? field::id
                                    : field::other;
    return {};
  }
  switch (field_) {
    case field::proto:
      if (n.type == resp::type::integer) protocol_ = static_cast<int>(n.integer);
      break;
    case field::version:
      server_version_ = util::parse_version(n.value);
      break;
    case field::id:
      if (n.type == resp::type::integer) client_id_ = n.integer;
      break;
    case field::other:
      break;
  }
  return {};
}

// AUTH, CLIENT SETNAME and SELECT: one command each, +OK expected.

std::size_t ok_step::write(resp::encoder& out, const handshake_params& p, resp_version protocol) {
  switch (command_) {
    case command::auth:
      // In RESP3 HELLO carries it.
      if (protocol != resp_version::resp2 || !p.authenticate) return 0;
      // "AUTH pass" authenticates the default user on every version; "AUTH user pass" needs
      // ACLs (Redis >= 6), so the user is named only when it is not the default one.
      if (p.username.empty() || p.username == "default") {
        out.command("AUTH", p.password);
      } else {
        out.command("AUTH", p.username, p.password);
      }
      return 1;
    case command::setname:
      if (protocol != resp_version::resp2 || p.client_name.empty()) return 0;
      out.command("CLIENT", "SETNAME", p.client_name);
      return 1;
    case command::select:
      if (p.db == 0) return 0;
      out.command("SELECT", p.db);
      return 1;
  }
  return 0;
}

result<void> ok_step::on_node(const resp::node& n, std::size_t) {
  if (resp::is_error(n.type)) return server_error::parse(n.value);
  if (n.depth != 0 || n.type != resp::type::simple_string || n.value != "OK")
    return make_error_code(errc::type_mismatch);
  return {};
}

// CLIENT SETINFO: what the server's CLIENT LIST shows as lib-name and lib-ver.

std::string_view setinfo_step::lib_version() noexcept {
  return UREDIS_VERSION;
}

std::size_t setinfo_step::write(resp::encoder& out, const handshake_params&, resp_version) {
  out.command("CLIENT", "SETINFO", "LIB-NAME", lib_name);
  out.command("CLIENT", "SETINFO", "LIB-VER", lib_version());
  return 2;
}

// PING: asks one thing, whether the server is still loading (NOAUTH is not ours).

std::size_t ping_step::write(resp::encoder& out, const handshake_params&, resp_version) {
  out.command("PING");
  return 1;
}

result<void> ping_step::on_node(const resp::node& n, std::size_t) {
  if (n.depth == 0 && resp::is_error(n.type) && n.value.starts_with("LOADING"))
    return server_error::parse(n.value);
  return {};
}

}  // namespace uredis::proto
