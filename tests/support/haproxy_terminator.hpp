#pragma once
// A real TLS terminator that staples OCSP responses: haproxy (Debian's package) in TCP mode on
// a free loopback port, decrypting and passing the bytes on to a plaintext backend port (a
// redis_server's), in its own temporary directory, stopped when the object dies.
//
//   client ──TLS (+ staple)──► haproxy 127.0.0.1:port() ──plaintext──► 127.0.0.1:backend
//
// haproxy staples <pem>.ocsp when that file sits beside the certificate, with <pem>.issuer to
// compute the certificate id; it refuses to load a response that is stale or names another id
// at start-up, so a test that needs one runs haproxy under libfaketime (fake_time) or hands it
// an issuer file that matches the response rather than the certificate.
//
// The child gets PR_SET_PDEATHSIG, so a crashed test never leaves haproxy behind.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace uredis::test {

struct haproxy_options {
  std::string cert_file;
  std::string key_file;
  /// DER OCSP response to staple; empty: no staple.
  std::string ocsp_response_file;
  /// The issuer certificate haproxy computes the staple's certificate id with.
  std::string issuer_file;
  /// Set: haproxy believes it is this date ("2020-01-05 12:00:00", libfaketime), so it loads a
  /// response valid then and staples it now.
  std::string fake_time;
  std::uint16_t backend_port = 0;
};

class haproxy_terminator {
 public:
  /// Starts haproxy and waits until it accepts; throws std::runtime_error (with its log) if it
  /// does not come up.
  explicit haproxy_terminator(const haproxy_options& options);
  ~haproxy_terminator();
  haproxy_terminator(const haproxy_terminator&) = delete;
  haproxy_terminator& operator=(const haproxy_terminator&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// haproxy's output so far (its warnings say why a staple was not loaded).
  std::string log() const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace uredis::test
