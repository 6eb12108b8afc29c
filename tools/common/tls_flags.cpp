#include "tls_flags.hpp"

namespace uredis::tools {
namespace {

bool takes_value(std::string_view arg) {
  static constexpr std::string_view with_value[] = {
      "--sni", "--cacert",      "--cacertdir",        "--cert",
      "--key", "--tls-ciphers", "--tls-ciphersuites", "--ocsp"};
  for (std::string_view f : with_value)
    if (arg == f) return true;
  return false;
}

bool parse_ocsp(std::string_view v, uredis::tls::ocsp_mode& out) {
  using uredis::tls::ocsp_mode;
  if (v == "off") {
    out = ocsp_mode::off;
  } else if (v == "stapling") {
    out = ocsp_mode::stapling;
  } else if (v == "must-staple") {
    out = ocsp_mode::must_staple;
  } else if (v == "responder") {
    out = ocsp_mode::responder;
  } else {
    return false;
  }
  return true;
}

}  // namespace

flag_match apply_tls_flag(int argc, const char* const* argv, int& i, tls_flags& out,
                          std::string& error) {
  const std::string_view arg = argv[i];
  if (arg == "--tls") {
    out.enabled = true;
    return flag_match::applied;
  }
  if (arg == "--insecure") {
    out.options.verify_peer = false;
    return flag_match::applied;
  }
  if (!takes_value(arg)) return flag_match::not_tls;
  if (i + 1 >= argc) {
    error = "option '" + std::string(arg) + "' needs a value";
    return flag_match::error;
  }
  const std::string_view v = argv[++i];
  uredis::tls::options& t = out.options;
  if (arg == "--sni") {
    t.server_name = v;
  } else if (arg == "--cacert") {
    t.ca_file = v;
  } else if (arg == "--cacertdir") {
    t.ca_path = v;
  } else if (arg == "--cert") {
    t.cert_file = v;
  } else if (arg == "--key") {
    t.key_file = v;
  } else if (arg == "--tls-ciphers") {
    t.ciphers = v;
  } else if (arg == "--tls-ciphersuites") {
    t.ciphersuites = v;
  } else if (!parse_ocsp(v, t.ocsp)) {  // --ocsp
    error = "--ocsp '" + std::string(v) + "' is not off, stapling, must-staple or responder";
    return flag_match::error;
  }
  return flag_match::applied;
}

void apply_url_tls(const connection_config& url, tls_flags& out) {
  if (!url.tls) return;
  out.enabled = true;
  const uredis::tls::options& u = url.tls_options;
  uredis::tls::options& t = out.options;
  // Only what the URL names: a default field must not undo an earlier flag.
  if (!u.ca_file.empty()) t.ca_file = u.ca_file;
  if (!u.ca_path.empty()) t.ca_path = u.ca_path;
  if (!u.cert_file.empty()) t.cert_file = u.cert_file;
  if (!u.key_file.empty()) t.key_file = u.key_file;
  if (!u.verify_peer) t.verify_peer = false;
  if (!u.check_hostname) t.check_hostname = false;
}

void apply_to(const tls_flags& flags, connection_config& config) {
  config.tls = flags.enabled;
  config.tls_options = flags.options;
}

void overlay(const tls_flags& flags, connection_config& config) {
  if (flags.enabled) config.tls = true;
  const uredis::tls::options& f = flags.options;
  uredis::tls::options& t = config.tls_options;
  const uredis::tls::options defaults;
  auto take = [](const std::string& from, std::string& to) {
    if (!from.empty()) to = from;
  };
  take(f.ca_file, t.ca_file);
  take(f.ca_path, t.ca_path);
  take(f.cert_file, t.cert_file);
  take(f.key_file, t.key_file);
  take(f.server_name, t.server_name);
  take(f.ciphers, t.ciphers);
  take(f.ciphersuites, t.ciphersuites);
  if (f.verify_peer != defaults.verify_peer) t.verify_peer = f.verify_peer;
  if (f.ocsp != defaults.ocsp) t.ocsp = f.ocsp;
}

std::string check_tls_flags(const tls_flags& flags) {
  const uredis::tls::options& t = flags.options;
  if (t.cert_file.empty() != t.key_file.empty()) return "--cert and --key go together";
  return {};
}

std::string tls_usage(std::size_t column) {
  static constexpr std::string_view lines[][2] = {
      {"--tls", "speak TLS (as -u rediss://... does)"},
      {"--sni <host>", "server name indication; the certificate must name it"},
      {"--cacert <file>", "CA certificate file to verify with"},
      {"--cacertdir <dir>", "directory of trusted CA certificates (hashed names); with"},
      {"", "neither, the system's trusted CAs"},
      {"--cert <file>", "client certificate to authenticate with (needs --key)"},
      {"--key <file>", "private key of --cert"},
      {"--insecure", "skip verifying the server's certificate (still encrypted)"},
      {"--tls-ciphers <list>", "TLS 1.2 ciphers, OpenSSL syntax"},
      {"--tls-ciphersuites <list>", "TLS 1.3 cipher suites"},
      {"--ocsp <mode>", "certificate revocation: stapling, must-staple or responder"},
  };
  std::string out;
  for (const auto& [flag, text] : lines) {
    out.append("  ").append(flag);
    const std::size_t used = 2 + flag.size();
    // A flag too long for the column gets its text on the next line.
    if (used >= column)
      out.append("\n").append(column, ' ');
    else
      out.append(column - used, ' ');
    out.append(text).append("\n");
  }
  return out;
}

}  // namespace uredis::tools
