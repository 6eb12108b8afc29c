#include "test_certificates.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace uredis::test {
namespace {

constexpr const char* new_ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// `openssl ca` is the one openssl 3.0 command that sets arbitrary validity dates (the expired
// certificate); it wants a database and a policy.
constexpr const char* ca_config = R"([ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
[ server_ext ]
subjectAltName = IP:127.0.0.1,DNS:localhost
basicConstraints = CA:FALSE
)";

void write(const std::string& path, std::string_view text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

test_certificates::test_certificates() {
  char dir_template[] = "/tmp/uredis-certs-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  write(dir_ + "/ca.cnf", ca_config);
  write(dir_ + "/index.txt", "");
  write(dir_ + "/serial", "1000\n");
  write(dir_ + "/server.ext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth,clientAuth\n");
  write(dir_ + "/client.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  write(dir_ + "/intermediate.ext",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
  write(dir_ + "/wrong_host.ext",
        "subjectAltName=DNS:wrong.example.invalid\nbasicConstraints=CA:FALSE\n");

  const auto make_ca = [&](std::string_view name, std::string_view cn) {
    run("openssl req -x509 " + std::string(new_ec_key) + " -days 3650 -subj '/CN=" +
        std::string(cn) + "' -addext basicConstraints=critical,CA:TRUE -addext " +
        "keyUsage=critical,keyCertSign,cRLSign -keyout " + key(name) + " -out " + cert(name));
  };
  const auto make_leaf = [&](std::string_view name, std::string_view cn, std::string_view ca,
                             std::string_view ext) {
    const std::string csr = dir_ + "/" + std::string(name) + ".csr";
    run("openssl req -new " + std::string(new_ec_key) + " -subj '/CN=" + std::string(cn) +
        "' -keyout " + key(name) + " -out " + csr);
    run("openssl x509 -req -in " + csr + " -CA " + cert(ca) + " -CAkey " + key(ca) +
        " -CAcreateserial -days 3650 -extfile " + dir_ + "/" + std::string(ext) + ".ext -out " +
        cert(name));
  };
  make_ca("ca", "uredis test CA");
  make_ca("other_ca", "uredis other CA");
  make_leaf("server", "localhost", "ca", "server");
  make_leaf("client", "uredis client", "ca", "client");
  make_leaf("wrong_host", "wrong.example.invalid", "ca", "wrong_host");
  make_leaf("other_server", "localhost", "other_ca", "server");
  make_leaf("intermediate_1", "uredis intermediate 1", "ca", "intermediate");
  make_leaf("intermediate_2", "uredis intermediate 2", "intermediate_1", "intermediate");
  make_leaf("deep_server", "localhost", "intermediate_2", "server");
  std::string chain;
  for (const char* name : {"deep_server", "intermediate_2", "intermediate_1"}) {
    std::ifstream in(cert(name));
    chain.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  write(cert("deep_server_chain"), chain);
  // Its own issuer, for 127.0.0.1 and localhost: the certificate a server makes for itself.
  run("openssl req -x509 " + std::string(new_ec_key) + " -days 3650 -subj '/CN=localhost' " +
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + key("self_signed") + " -out " +
      cert("self_signed"));
  run("openssl req -new " + std::string(new_ec_key) + " -subj '/CN=localhost' -keyout " +
      key("expired") + " -out expired.csr");
  run("openssl ca -batch -config ca.cnf -cert " + cert("ca") + " -keyfile " + key("ca") +
      " -in expired.csr -out " + cert("expired") +
      " -startdate 20200101000000Z -enddate 20200131000000Z -extensions server_ext -notext");
}

test_certificates::~test_certificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string test_certificates::cert(std::string_view name) const {
  return dir_ + "/" + std::string(name) + ".crt";
}

std::string test_certificates::key(std::string_view name) const {
  return dir_ + "/" + std::string(name) + ".key";
}

void test_certificates::run(const std::string& command) const {
  const std::string log = dir_ + "/openssl.log";
  const std::string line = "cd '" + dir_ + "' && " + command + " >" + log + " 2>&1";
  if (std::system(line.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw std::runtime_error("openssl failed: " + command + "\n" + text.str());
  }
}

}  // namespace uredis::test
