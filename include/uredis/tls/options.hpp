#pragma once
// tls::options: how a connection that asks for TLS (connection_config::tls, rediss:// URLs)
// sets up its TLS session: whom to trust, who to be, what to check, which suites to offer.
//
// The defaults are the safe ones: the server's certificate is verified (against ca_file /
// ca_path, or the system's CA store when neither is given) and must name the host connected
// to, and nothing older than TLS 1.2 is spoken. Turning verify_peer off ("insecure") still
// encrypts, but anyone on the path can pose as the server.
//
// The files are read when a connection opens its first TLS stream; one that does not load
// fails that connect with errc::tls_config_invalid. wolfSSL provides the TLS (see
// src/tls/engine.hpp).

#include <chrono>
#include <cstdint>
#include <string>

namespace uredis::tls {

enum class protocol_version : std::uint8_t { tls1_2, tls1_3 };

/// How the server certificate's revocation status is checked (OCSP, RFC 6960).
enum class ocsp_mode : std::uint8_t {
  off,          // not checked
  stapling,     // ask for a staple in the handshake and verify one when it comes
  must_staple,  // as stapling, but a missing staple refuses the connection
  responder,    // the staple if one comes, else ask the certificate's OCSP responder
};

struct options {
  /// PEM file of CA certificates to trust (redis-py's ssl_ca_certs).
  std::string ca_file;
  /// Directory of PEM CA certificates, OpenSSL hashed names (ssl_ca_path).
  std::string ca_path;
  /// The client's own certificate (chain), PEM, for servers with tls-auth-clients yes
  /// (ssl_certfile). Needs key_file.
  std::string cert_file;
  /// The private key of cert_file, PEM, unencrypted (ssl_keyfile).
  std::string key_file;
  /// Verify the server's certificate chain (ssl_cert_reqs=required). Off: encrypted but
  /// unauthenticated, for tests and private networks only.
  bool verify_peer = true;
  /// The certificate must name the host (a DNS name, or an IP address in its subjectAltName)
  /// (ssl_check_hostname). Ignored when verify_peer is off.
  bool check_hostname = true;
  /// The name sent as SNI and checked against the certificate; empty: the connection's host.
  /// No SNI is sent for an IP address (RFC 6066 forbids it), but the address is still checked.
  std::string server_name;
  /// TLS 1.2 cipher list, OpenSSL syntax ("ECDHE-RSA-AES128-GCM-SHA256:..."); empty: wolfSSL's
  /// default.
  std::string ciphers;
  /// TLS 1.3 suites ("TLS_AES_128_GCM_SHA256:..."); empty: wolfSSL's default.
  std::string ciphersuites;
  /// Resume the last TLS session on a reconnect (a TLS 1.3 ticket, or a TLS 1.2 ticket or
  /// session id), which skips the certificate exchange and its signatures. A server that
  /// refuses the offer gets a full handshake. Off: every connect is a full handshake.
  bool session_resumption = true;
  /// The oldest protocol version offered; TLS 1.0 and 1.1 are never spoken.
  protocol_version min_version = protocol_version::tls1_2;
  /// Revocation checking. Every mode but off refuses a revoked certificate. The default checks
  /// a staple when the server sends one and costs nothing when it does not (README,
  /// Decisions). Needs verify_peer: a staple is trusted through the certificate's issuer.
  ocsp_mode ocsp = ocsp_mode::stapling;
  /// The responder asked in ocsp_mode::responder ("http://host:port/path"); empty: the one the
  /// certificate's Authority Information Access names.
  std::string ocsp_responder_url;
  /// How long ocsp_mode::responder waits for the responder's answer (connect included) before
  /// refusing the connection with errc::ocsp_responder_unavailable (not retried). Shorter than
  /// connect_timeout's default, which bounds the whole setup: a check that setup deadline cuts
  /// short fails as errc::timeout instead, and is retried like one.
  std::chrono::milliseconds ocsp_responder_timeout{2000};
  /// Encrypt and decrypt the records' AES-GCM with OpenSSL's libcrypto (AES-NI) instead of
  /// wolfSSL's own code, which Debian builds without AES-NI (about 15x slower on a full
  /// record). Everything else (handshake, certificates, other ciphers) stays wolfSSL's. When
  /// libcrypto fails a self-test at first use, wolfSSL's code is used as if this were off.
  bool aes_offload = true;

  friend bool operator==(const options&, const options&) = default;
};

}  // namespace uredis::tls
