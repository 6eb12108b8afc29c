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
  out.command("PING");
  expect(role::ping);
}

handshake_status handshake::fail(result<void> why) {
  status_ = handshake_status::failed;
  failure_ = std::move(why);
  return status_;
}

// The first node of a reply: what it answers, and for the one-node replies, what it says.
void handshake::begin_reply(const resp::node& n, resp::encoder& out) {
  in_reply_ = true;
  if (n.type == resp::type::push && n.depth == 0) {
    reading_ = role::push;
    return;
  }
  assert(head_ < count_ && "a reply before start()");
  reading_ = awaited_[head_++];
  const bool error = resp::is_error(n.type);
  switch (reading_) {
    case role::hello:
      return begin_hello(n, out);
    case role::auth:
    case role::setname:
    case role::select:
      if (error) {
        fail(server_error::parse(n.value));
      } else if (n.type != resp::type::simple_string || n.value != "OK") {
        fail(errc::type_mismatch);
      }
      return;
    case role::ping:  // it asks one thing: is the server still loading? (NOAUTH is not ours)
      if (error && n.value.starts_with("LOADING")) fail(server_error::parse(n.value));
      return;
    case role::ignored:
    case role::push:
      return;
  }
}

void handshake::begin_hello(const resp::node& n, resp::encoder& out) {
  if (resp::is_error(n.type)) {
    server_error e = server_error::parse(n.value);
    if (!means_no_hello(e)) {
      fail(std::move(e));
      return;
    }
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
    return;
  }
  // A map in RESP3; a flat array of pairs if a proxy downgraded it. Both list key, value, ...
  if (n.type != resp::type::map && !(n.type == resp::type::array && n.size % 2 == 0)) {
    fail(errc::type_mismatch);
    return;
  }
  protocol_ = 3;
  hello_elements_ = 0;
}

// A node inside HELLO's map: the keys and values at depth 1 (deeper ones belong to values such
// as "modules", which nobody here needs).
void handshake::on_hello_element(const resp::node& n) {
  if (n.depth != 1) return;
  if (hello_elements_++ % 2 == 0) {
    hello_field_ = n.value == "proto"     ? hello_field::proto
                   : n.value == "version" ? hello_field::version
                   : n.value == "id"      ? hello_field::id
                                          : hello_field::other;
    return;
  }
  switch (hello_field_) {
    case hello_field::proto:
      if (n.type == resp::type::integer) protocol_ = static_cast<int>(n.integer);
      break;
    case hello_field::version:
      server_version_ = util::parse_version(n.value);
      break;
    case hello_field::id:
      if (n.type == resp::type::integer) client_id_ = n.integer;
      break;
    case hello_field::other:
      break;
  }
}

void handshake::end_reply() {
  in_reply_ = false;
  if (reading_ != role::push && head_ == count_) status_ = handshake_status::done;
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
    if (n.in_attribute) continue;  // decorations: nothing here needs them
    if (!in_reply_) {
      begin_reply(n, out);
    } else if (reading_ == role::hello) {
      on_hello_element(n);
    }
    if (status_ == handshake_status::in_progress && parser_.done()) end_reply();
  }
  return status_;
}

}  // namespace uredis::proto
