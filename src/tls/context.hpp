#pragma once
// tls::context: one wolfSSL context (WOLFSSL_CTX) set up from tls::options for the client side:
// the trusted CAs, the client's certificate and key, verification, the minimum version and the
// suites. Sessions (engine.hpp) are made from it; it must outlive them.
//
// wolfSSL is initialized once per process, on the first context (wolfSSL_Init is not meant to
// be called concurrently; a function-local static makes the first call the only one), and never
// cleaned up: other contexts on other shards may be alive until exit.
//
// Owner: the TLS transport (one context per connection, built on its first open).

#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

#include <system_error>

#include "uredis/result.hpp"
#include "uredis/tls/options.hpp"

namespace uredis::tls {

/// wolfSSL_Init, once per process. Returns false when wolfSSL cannot start.
bool initialize_library() noexcept;

class context {
 public:
  /// A client context from `o`: errc::tls_config_invalid when a file does not load, the key
  /// does not match the certificate, or a cipher list is refused.
  static result<context> client(const options& o);

  /// Takes ownership of `native` (tests make server contexts with wolfSSL's own calls).
  explicit context(WOLFSSL_CTX* native) noexcept : native_(native) {}
  ~context() {
    if (native_ != nullptr) wolfSSL_CTX_free(native_);
  }
  context(context&& other) noexcept : native_(other.native_) { other.native_ = nullptr; }
  context& operator=(context&& other) noexcept {
    std::swap(native_, other.native_);
    return *this;
  }
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  WOLFSSL_CTX* native() const noexcept { return native_; }

 private:
  WOLFSSL_CTX* native_;
};

}  // namespace uredis::tls
