#include "uredis/proto/handshake.hpp"

#include <cassert>
#include <utility>

#ifndef UREDIS_VERSION
#error "UREDIS_VERSION must be defined by the build (src/meson.build passes the project version)"
#endif

namespace uredis::proto {
namespace {

bool has_credentials(const connection_config& c) noexcept {
  return c.password.has_value() || !c.username.empty();
}

bool has_name(const connection_config& c) noexcept {
  return c.client_name.has_value() && !c.client_name->empty();
}

// HELLO refused because the server does not have it (Redis < 6 answers "ERR unknown command
// 'HELLO'" or "ERR unknown command `HELLO`, with args beginning with: ..."), or because it will
// not speak RESP3 (NOPROTO): both leave a working RESP2 connection behind.
bool means_no_hello(const server_error& e) noexcept {
  return e.kind == server_error_kind::noproto ||
         (e.kind == server_error_kind::err && e.detail().starts_with("unknown command"));
}

bool is_ok(const resp::reply& r) noexcept {
  return r.type() == resp::type::simple_string && r.text() == "OK";
}

}  // namespace

std::string_view handshake::lib_version() noexcept {
  return UREDIS_VERSION;
}

handshake::handshake(const connection_config& config, const resp::limits& limits) noexcept
    : config_(&config), parser_(limits) {}

void handshake::expect(role r) noexcept {
  assert(count_ < max_awaited);
  awaited_[count_++] = r;
}

void handshake::write_auth(resp::encoder& out) {
  const std::string_view password = config_->password ? *config_->password : std::string_view{};
  // "AUTH pass" authenticates the default user on every version; "AUTH user pass" needs ACLs
  // (Redis >= 6), so the user is named only when it is not the default one.
  if (config_->username.empty() || config_->username == "default") {
    out.command("AUTH", password);
  } else {
    out.command("AUTH", config_->username, password);
  }
  expect(role::auth);
}

void handshake::write_setname(resp::encoder& out) {
  if (!has_name(*config_)) return;
  out.command("CLIENT", "SETNAME", *config_->client_name);
  expect(role::setname);
}

void handshake::write_select(resp::encoder& out) {
  if (config_->db == 0) return;
  out.command("SELECT", config_->db);
  expect(role::select);
}

void handshake::start(resp::encoder& out) {
  assert(count_ == 0 && "start() twice");
  if (config_->protocol == resp_version::resp3) {
    std::size_t argc = 2;
    if (has_credentials(*config_)) argc += 3;
    if (has_name(*config_)) argc += 2;
    out.begin(argc);
    out.arg("HELLO");
    out.arg("3");
    if (has_credentials(*config_)) {
      out.arg("AUTH");
      // HELLO's AUTH always names a user; a password alone belongs to "default".
      out.arg(config_->username.empty() ? std::string_view{"default"}
                                        : std::string_view{config_->username});
      out.arg(config_->password ? std::string_view{*config_->password} : std::string_view{});
    }
    if (has_name(*config_)) {
      out.arg("SETNAME");
      out.arg(*config_->client_name);
    }
    expect(role::hello);
  } else {
    if (has_credentials(*config_)) write_auth(out);
    write_setname(out);
  }
  out.command("CLIENT", "SETINFO", "LIB-NAME", lib_name);
  expect(role::ignored);
  out.command("CLIENT", "SETINFO", "LIB-VER", lib_version());
  expect(role::ignored);
  write_select(out);
}

handshake_status handshake::fail(result<void> why) {
  status_ = handshake_status::failed;
  failure_ = std::move(why);
  return status_;
}

handshake_status handshake::next_or_done() noexcept {
  if (head_ == count_) status_ = handshake_status::done;
  return status_;
}

handshake_status handshake::on_hello(const resp::reply& r, resp::encoder& out) {
  if (r.is_error()) {
    server_error e = server_error::parse(r.text());
    if (!means_no_hello(e)) return fail(std::move(e));
    // Everything else in the first batch ran unauthenticated and in RESP2: skip its replies,
    // then redo what HELLO would have done. The server answers in order, so these replies
    // follow the skipped ones.
    fell_back_ = true;
    protocol_ = 2;
    for (std::size_t i = head_; i < count_; ++i)
      awaited_[i] = role::ignored;
    if (has_credentials(*config_)) write_auth(out);
    write_setname(out);
    write_select(out);
    return next_or_done();
  }
  // A map in RESP3; a flat array of pairs if a proxy downgraded it. Both flatten the same way.
  if (r.type() != resp::type::map &&
      !(r.type() == resp::type::array && r.elements().size() % 2 == 0))
    return fail(errc::type_mismatch);
  protocol_ = 3;
  const auto& e = r.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    const std::string_view key = e[i].text();
    const resp::reply& value = e[i + 1];
    if (key == "proto" && value.type() == resp::type::integer) {
      protocol_ = static_cast<int>(value.integer());
    } else if (key == "version") {
      server_version_ = util::parse_version(value.text());
    } else if (key == "id" && value.type() == resp::type::integer) {
      client_id_ = value.integer();
    }
  }
  return next_or_done();
}

handshake_status handshake::on_reply(const resp::reply& r, resp::encoder& out) {
  if (status_ != handshake_status::in_progress) return status_;
  if (r.type() == resp::type::push) return status_;
  assert(head_ < count_ && "a reply before start()");
  const role answered = awaited_[head_++];
  switch (answered) {
    case role::hello:
      return on_hello(r, out);
    case role::ignored:
      return next_or_done();
    case role::auth:
    case role::setname:
    case role::select:
      if (r.is_error()) return fail(server_error::parse(r.text()));
      if (!is_ok(r)) return fail(errc::type_mismatch);
      return next_or_done();
  }
  return status_;
}

handshake_status handshake::on_bytes(std::string_view bytes, std::size_t& consumed,
                                     resp::encoder& out) {
  consumed = 0;
  while (status_ == handshake_status::in_progress) {
    resp::node n;
    const resp::step s = parser_.next(bytes.substr(consumed), n);
    if (s.status == resp::outcome::need_more) break;
    if (s.status == resp::outcome::error) return fail(parser_.error());
    consumed += s.consumed;
    builder_.on_node(n);
    if (parser_.done()) {
      const resp::reply r = std::move(current_);
      current_ = resp::reply{};
      builder_.reset();
      on_reply(r, out);
    }
  }
  return status_;
}

}  // namespace uredis::proto
