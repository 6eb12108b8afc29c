#pragma once
// tls::aes_gcm_offload: TLS record encryption (AES-GCM) done by OpenSSL's libcrypto (AES-NI)
// instead of Debian's wolfSSL, which is built without AES-NI (~15x slower on a 16 KB record).
//
// wolfSSL hands a cipher to a "crypto-callback device" when the context carries the device's
// id (wolfSSL_CTX_SetDevId). This device takes only AES-GCM with a 12-byte nonce and a 16-byte
// tag (what TLS 1.2 and 1.3 records use) and declines everything else (hashes, signatures,
// the random generator), which wolfSSL then does in software as before:
//
//   wolfSSL_write/read ─► wc_AesGcmEncrypt/Decrypt(aes, devId) ─► device ─► EVP (AES-NI)
//                                                      declined ─► wolfCrypt software
//
// The device is process-global and may be called from any thread, so it keeps no state of its
// own: each engine owns a cipher_contexts (one EVP context per wolfCrypt Aes object it uses)
// and installs it for the current thread around its wolfSSL calls with a scope. A call with no
// scope installed is declined, which is always safe: wolfSSL keeps its own key schedule too.
//
// The device reads the raw key from wolfCrypt's struct Aes (devKey, keylen), a layout fixed by
// the wolfSSL build: registration runs a known vector through the device and through software
// and keeps the device only if they agree byte for byte.
//
// This header includes neither wolfSSL's ssl.h nor OpenSSL's headers: the two define the same
// names (wolfSSL's OpenSSL compatibility layer) and cannot share a translation unit.

#include <cstdint>
#include <memory>

namespace uredis::tls::aes_gcm_offload {

/// The value wolfSSL takes as "no device" (INVALID_DEVID).
inline constexpr int no_device = -2;

/// Registers the device once per process (thread-safe) and returns its id, or no_device when
/// libcrypto's AES-GCM is unavailable or disagrees with wolfCrypt's on the self-test.
/// Precondition: wolfSSL is initialized (tls::initialize_library()): wolfSSL_Init empties the
/// device table the first time it runs.
int device_id() noexcept;

/// Runs the self-test again (the registration's): a known key, nonce, AAD and plaintext through
/// the device and through wolfCrypt's software, compared; a tampered tag must be refused by
/// both. True when the device is registered and agrees.
bool self_test() noexcept;

/// One engine's EVP contexts, one per wolfCrypt Aes object seen (a session has two: one per
/// direction; re-keying reuses them, detected by comparing the key on every call). Key copies
/// are cleansed when a slot is re-keyed or dropped. Owner: one tls::engine.
class cipher_contexts {
 public:
  cipher_contexts() noexcept;
  ~cipher_contexts();
  cipher_contexts(const cipher_contexts&) = delete;
  cipher_contexts& operator=(const cipher_contexts&) = delete;

  /// Frees every EVP context and cleanses the keys (the session ended).
  void clear() noexcept;
  /// Records encrypted or decrypted through the device since construction.
  std::uint64_t operations() const noexcept { return operations_; }

  struct table;   // the slots, defined next to the device
  struct device;  // the callback, the only user of the slots

 private:
  std::unique_ptr<table> table_;
  std::uint64_t operations_ = 0;
};

/// Installs `contexts` as this thread's for the device while it lives (restoring the previous
/// one after: engines may nest on one thread).
class scope {
 public:
  explicit scope(cipher_contexts& contexts) noexcept;
  ~scope();
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

 private:
  cipher_contexts* previous_;
};

}  // namespace uredis::tls::aes_gcm_offload
