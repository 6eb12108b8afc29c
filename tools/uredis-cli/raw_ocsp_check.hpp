#pragma once
// check_with_responder: ocsp_mode::responder for raw_tls_stream, after its handshake, the same
// check the session's transport makes on the reactor (io/tls_transport.cpp), done blocking:
// the tool has nothing else to do meanwhile.
//
// The session has just checked the same server's certificate on this thread, so the answer is
// normally in the thread's OCSP cache (tls/ocsp_cache.hpp) and no query is made; otherwise one
// HTTP POST to the responder, waited for with poll() up to options.ocsp_responder_timeout.

#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

#include <system_error>

#include "uredis/tls/options.hpp"

namespace uredis::cli {

/// {} when the responder says the certificate `ssl`'s peer presented is good; else
/// tls_certificate_revoked, ocsp_response_invalid or ocsp_responder_unavailable.
std::error_code check_with_responder(WOLFSSL* ssl, const tls::options& options);

}  // namespace uredis::cli
