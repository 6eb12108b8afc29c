#pragma once
// Certificates for the TLS tests, made with the openssl command in a temporary directory when
// the object is built (EC P-256 keys: quick to make) and removed with it:
//
//   ca            the CA the tests trust
//   server        signed by ca, for 127.0.0.1 and localhost (subjectAltName IP and DNS)
//   client        signed by ca, for servers with tls-auth-clients yes
//   expired       signed by ca, for 127.0.0.1 and localhost, valid in January 2020 only
//   wrong_host    signed by ca, for wrong.example.invalid only
//   other_ca      a second CA nobody trusts, and other_server, signed by it, for 127.0.0.1
//   self_signed   its own issuer, for 127.0.0.1 and localhost
//   deep_server   for 127.0.0.1 and localhost, two intermediates below ca: ca signs
//                 intermediate_1, which signs intermediate_2, which signs deep_server;
//                 deep_server_chain.crt is the chain a server sends (leaf, intermediate_2,
//                 intermediate_1)
//
// Each pair is <name>.crt and <name>.key in dir(). Throws std::runtime_error (with openssl's
// output) when openssl is missing or fails.

#include <string>
#include <string_view>

namespace uredis::test {

class test_certificates {
 public:
  test_certificates();
  ~test_certificates();
  test_certificates(const test_certificates&) = delete;
  test_certificates& operator=(const test_certificates&) = delete;

  const std::string& dir() const noexcept { return dir_; }
  /// dir()/<name>.crt and dir()/<name>.key.
  std::string cert(std::string_view name) const;
  std::string key(std::string_view name) const;

 private:
  void run(const std::string& command) const;

  std::string dir_;
};

}  // namespace uredis::test
