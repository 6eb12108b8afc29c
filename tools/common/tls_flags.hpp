#pragma once
// tls_flags: redis-cli's and redis-benchmark's TLS flags, shared by the tools, with the same
// meaning, plus --ocsp:
//
//   --tls                    speak TLS (as -u rediss://... does)
//   --sni HOST               the name sent as SNI, and the name the certificate must carry
//   --cacert FILE            PEM CAs to trust (default: the system's store)
//   --cacertdir DIR          a directory of hashed PEM CAs to trust
//   --cert FILE, --key FILE  the client's certificate and key (tls-auth-clients yes)
//   --insecure               do not verify the server's certificate (still encrypted)
//   --tls-ciphers LIST       TLS 1.2 ciphers, OpenSSL syntax
//   --tls-ciphersuites LIST  TLS 1.3 suites
//   --ocsp MODE              stapling | must-staple | responder (tls::ocsp_mode)
//
// One difference from redis-cli, on purpose: the certificate must also name the host (or the
// --sni name); redis-cli only checks the chain. --insecure turns both checks off.

#include <string>
#include <string_view>

#include "uredis/client/config.hpp"
#include "uredis/tls/options.hpp"

namespace uredis::tools {

/// The TLS part of a tool's command line.
struct tls_flags {
  bool enabled = false;  // --tls, or a rediss:// URL
  uredis::tls::options options;
};

enum class flag_match {
  not_tls,  // argv[i] is not a TLS flag: the caller's parser goes on with it
  applied,  // applied; i now indexes its last argument (the value, if it took one)
  error,    // a TLS flag with a missing or bad value; `error` says which
};

/// Looks at argv[i]; a TLS flag is applied to `out`, its value consumed.
flag_match apply_tls_flag(int argc, const char* const* argv, int& i, tls_flags& out,
                          std::string& error);

/// A -u URL's TLS part: rediss:// turns TLS on, and its ssl_* parameters set the options they
/// name (flags given after -u still override them).
void apply_url_tls(const connection_config& url, tls_flags& out);

/// Copies the TLS settings into a connection's config.
void apply_to(const tls_flags& flags, connection_config& config);

/// Lays the flags over a config that may already say TLS (a rediss:// URL): --tls turns it on,
/// and each option the flags set replaces the config's; the rest is left as the URL said.
void overlay(const tls_flags& flags, connection_config& config);

/// The checks a parsed command line must pass: --cert and --key go together. Empty: fine.
std::string check_tls_flags(const tls_flags& flags);

/// The usage lines of the flags, aligned at `column`, each ending in a newline.
std::string tls_usage(std::size_t column);

}  // namespace uredis::tools
