#include "ocsp_responses.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace uredis::test {

ocsp_responses::ocsp_responses(const test_certificates& certs) : certs_(&certs) {
  const std::string dir = certs.dir();
  {
    std::ofstream ext(dir + "/ocsp_signer.ext");
    ext << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=OCSPSigning\n";
  }
  run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN=uredis OCSP responder' -keyout ocsp_signer.key -out ocsp_signer.csr");
  run("openssl x509 -req -in ocsp_signer.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "-days 3650 -extfile ocsp_signer.ext -out ocsp_signer.crt");
}

std::string ocsp_responses::serial(std::string_view cert) const {
  const std::string command =
      "openssl x509 -noout -serial -in '" + certs_->cert(cert) + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("popen failed");
  char line[256] = {};
  if (std::fgets(line, sizeof line, pipe.get()) == nullptr)
    throw std::runtime_error("no serial for " + std::string(cert));
  std::string s(line);
  s = s.substr(s.find('=') + 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

std::string ocsp_responses::index(const std::vector<std::pair<std::string, cert_status>>& entries,
                                  const std::string& path) const {
  std::ofstream out(path);
  for (const auto& [cert, status] : entries) {
    if (status == cert_status::unknown) continue;  // unknown: not in the database
    // Fields: status, expiry, revocation date, serial, file name, subject (ca(1)'s format).
    out << (status == cert_status::revoked ? "R" : "V") << "\t350101000000Z\t"
        << (status == cert_status::revoked ? "240101000000Z" : "") << "\t" << serial(cert)
        << "\tunknown\t/CN=" << cert << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

std::string ocsp_responses::response(std::string_view cert, cert_status status,
                                     const std::string& path, std::string_view issuer,
                                     std::string_view signed_at) const {
  const std::string db = index({{std::string(cert), status}}, path + ".index");
  std::string command;
  if (!signed_at.empty())
    command = "LD_PRELOAD=" + std::string(faketime_library) + " FAKETIME='@" +
              std::string(signed_at) + "' ";
  // -issuer names the CA whose hashes the response's certificate id carries: another CA's
  // makes a response about a certificate that is not this one.
  command += "openssl ocsp -index '" + db + "' -rsigner '" + signer_cert() + "' -rkey '" +
             signer_key() + "' -CA '" + certs_->cert(issuer) + "' -issuer '" +
             certs_->cert(issuer) + "' -cert '" + certs_->cert(cert) + "' -no_nonce -ndays 1 " +
             "-respout '" + path + "'";
  run(command);
  return path;
}

void ocsp_responses::run(const std::string& command) const {
  const std::string log = certs_->dir() + "/ocsp.log";
  const std::string line = "cd '" + certs_->dir() + "' && " + command + " >" + log + " 2>&1";
  if (std::system(line.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw std::runtime_error("openssl failed: " + command + "\n" + text.str());
  }
}

}  // namespace uredis::test
