#pragma once
// tls::could_start_record: whether the first bytes a server sends could begin a TLS record, so
// that a plaintext server on the port (redis answers a ClientHello with "-ERR ...", or closes)
// fails the connect at once with errc::tls_peer_not_tls instead of a vague handshake error.
//
// A record begins with its content type and the protocol's major version (RFC 8446 5.1, RFC
// 5246 6.2.1):
//
//   byte 0: 20 change_cipher_spec · 21 alert · 22 handshake · 23 application_data · 24 heartbeat
//   byte 1: 3 (SSL 3.0 to TLS 1.3 all have major version 3)
//
// Nothing printable is among these, so a text reply ('-', '+', '$', '*', ':', letters) never
// passes. Only a peer that says something is judged: a silent one is left to the connect timeout.

#include <string_view>

namespace uredis::tls {

/// False when `first_bytes` (the start of what the server sent, possibly only one byte) cannot
/// be the start of a TLS record; true when it can, or when there is nothing to judge yet.
constexpr bool could_start_record(std::string_view first_bytes) noexcept {
  constexpr unsigned char first_content_type = 20;  // change_cipher_spec
  constexpr unsigned char last_content_type = 24;   // heartbeat (RFC 6520)
  constexpr unsigned char major_version = 3;
  if (first_bytes.empty()) return true;
  const auto type = static_cast<unsigned char>(first_bytes[0]);
  if (type < first_content_type || type > last_content_type) return false;
  return first_bytes.size() < 2 || static_cast<unsigned char>(first_bytes[1]) == major_version;
}

}  // namespace uredis::tls
