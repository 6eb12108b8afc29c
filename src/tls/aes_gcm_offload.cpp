// The device side: wolfCrypt's crypto callback, answered with OpenSSL EVP. Only wolfCrypt's
// headers here (never wolfssl/ssl.h: its OpenSSL compatibility names clash with OpenSSL's).
#include "tls/aes_gcm_offload.hpp"

#include <wolfssl/options.h>  // must precede every other wolfSSL header: it fixes struct Aes
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <cstring>
#include <new>

#if !defined(WOLF_CRYPTO_CB) || !defined(HAVE_AESGCM)
#error "the AES-GCM offload needs a wolfSSL built with crypto callbacks and AES-GCM"
#endif

namespace uredis::tls::aes_gcm_offload {

static_assert(no_device == INVALID_DEVID);

namespace {

// Any id but INVALID_DEVID; wolfSSL only uses it to find the callback.
constexpr int registered_id = 0x55AE;
// TLS records: a 12-byte nonce (RFC 5288 3, RFC 8446 5.3) and a 16-byte tag. Anything else
// (one-shot wolfCrypt users with other sizes) stays in software.
constexpr word32 record_nonce_size = 12;
constexpr word32 record_tag_size = 16;
constexpr int max_key_size = 32;  // AES-256

thread_local cipher_contexts* current = nullptr;

// Fetched once: EVP_aes_128_gcm() would fetch the implementation from the provider on every
// key change (about twice the cost of a re-key with a fetched cipher).
struct ciphers {
  EVP_CIPHER* by_size[3] = {nullptr, nullptr, nullptr};  // 128, 192, 256 bits
  bool complete() const noexcept {
    return by_size[0] != nullptr && by_size[1] != nullptr && by_size[2] != nullptr;
  }
  const EVP_CIPHER* for_key(int size) const noexcept {
    switch (size) {
      case 16:
        return by_size[0];
      case 24:
        return by_size[1];
      case 32:
        return by_size[2];
      default:
        return nullptr;
    }
  }
};

// Never freed: the device stays registered until the process exits.
const ciphers& fetched() noexcept {
  static const ciphers c = [] {
    ciphers f;
    f.by_size[0] = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    f.by_size[1] = EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr);
    f.by_size[2] = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return f;
  }();
  return c;
}

}  // namespace

// One wolfCrypt Aes object's contexts. A session uses two Aes objects (one per direction), and
// wolfSSL may replace them (a new key schedule, TLS 1.3's handshake then traffic keys), so a
// few slots, reused oldest first.
struct cipher_contexts::table {
  struct slot {
    const Aes* aes = nullptr;
    EVP_CIPHER_CTX* context[2] = {nullptr, nullptr};  // [0] decrypt, [1] encrypt
    unsigned char key[max_key_size] = {};
    int key_size = 0;
    unsigned long last_use = 0;

    void drop() noexcept {
      for (EVP_CIPHER_CTX*& c : context) {
        EVP_CIPHER_CTX_free(c);  // cleanses its key schedule
        c = nullptr;
      }
      OPENSSL_cleanse(key, sizeof key);
      key_size = 0;
      aes = nullptr;
    }
  };
  static constexpr std::size_t slot_count = 4;  // two directions, and their replacements
  std::array<slot, slot_count> slots;
  unsigned long uses = 0;

  ~table() { clear(); }
  void clear() noexcept {
    for (slot& s : slots)
      s.drop();
  }

  // The context for `aes` in this direction, keyed with its current key; null when libcrypto
  // cannot make one (the call is then declined).
  EVP_CIPHER_CTX* context_for(const Aes* aes, bool encrypt) noexcept {
    const int size = aes->keylen;
    const EVP_CIPHER* cipher = fetched().for_key(size);
    if (cipher == nullptr) return nullptr;
    const auto* key = reinterpret_cast<const unsigned char*>(aes->devKey);
    slot* found = nullptr;
    slot* oldest = &slots[0];
    for (slot& s : slots) {
      if (s.aes == aes) found = &s;
      if (s.last_use < oldest->last_use) oldest = &s;
    }
    if (found == nullptr) {
      found = oldest;
      found->drop();
      found->aes = aes;
    }
    found->last_use = ++uses;
    // The same object re-keyed (TLS 1.3 KeyUpdate) or a freed one's address reused.
    if (found->key_size != size || CRYPTO_memcmp(found->key, key, size) != 0) {
      for (EVP_CIPHER_CTX* c : found->context)
        if (c != nullptr) EVP_CIPHER_CTX_reset(c);
      std::memcpy(found->key, key, size);
      found->key_size = size;
      for (int d = 0; d < 2; ++d)
        if (found->context[d] != nullptr &&
            EVP_CipherInit_ex(found->context[d], cipher, nullptr, key, nullptr, d) != 1) {
          found->drop();
          return nullptr;
        }
    }
    EVP_CIPHER_CTX*& c = found->context[encrypt ? 1 : 0];
    if (c == nullptr) {
      c = EVP_CIPHER_CTX_new();
      if (c == nullptr || EVP_CipherInit_ex(c, cipher, nullptr, key, nullptr, encrypt) != 1) {
        found->drop();
        return nullptr;
      }
    }
    return c;
  }
};

struct cipher_contexts::device {
  static bool takes(const Aes* aes, word32 size, word32 nonce_size, word32 tag_size) noexcept {
    return aes != nullptr && nonce_size == record_nonce_size && tag_size == record_tag_size &&
           size <= static_cast<word32>(INT_MAX) && fetched().for_key(aes->keylen) != nullptr;
  }

  static EVP_CIPHER_CTX* context_for(cipher_contexts& owner, const Aes* aes, bool encrypt) {
    if (!owner.table_) {
      owner.table_.reset(new (std::nothrow) table());
      if (!owner.table_) return nullptr;
    }
    return owner.table_->context_for(aes, encrypt);
  }

  static int encrypt(cipher_contexts& owner, decltype(wc_CryptoInfo::cipher.aesgcm_enc)& a) {
    if (!takes(a.aes, a.sz, a.ivSz, a.authTagSz)) return CRYPTOCB_UNAVAILABLE;
    EVP_CIPHER_CTX* c = context_for(owner, a.aes, true);
    if (c == nullptr) return CRYPTOCB_UNAVAILABLE;  // nothing written yet: software can do it
    int n = 0;
    // From here on `out` may alias `in`: a failure cannot fall back to software any more.
    if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, a.iv) != 1 ||
        (a.authInSz != 0 &&
         EVP_EncryptUpdate(c, nullptr, &n, a.authIn, static_cast<int>(a.authInSz)) != 1) ||
        (a.sz != 0 && EVP_EncryptUpdate(c, a.out, &n, a.in, static_cast<int>(a.sz)) != 1) ||
        EVP_EncryptFinal_ex(c, a.out + a.sz, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(a.authTagSz), a.authTag) != 1)
      return WC_HW_E;
    ++owner.operations_;
    return 0;
  }

  static int decrypt(cipher_contexts& owner, decltype(wc_CryptoInfo::cipher.aesgcm_dec)& a) {
    if (!takes(a.aes, a.sz, a.ivSz, a.authTagSz)) return CRYPTOCB_UNAVAILABLE;
    EVP_CIPHER_CTX* c = context_for(owner, a.aes, false);
    if (c == nullptr) return CRYPTOCB_UNAVAILABLE;
    int n = 0;
    if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, a.iv) != 1 ||
        (a.authInSz != 0 &&
         EVP_DecryptUpdate(c, nullptr, &n, a.authIn, static_cast<int>(a.authInSz)) != 1) ||
        (a.sz != 0 && EVP_DecryptUpdate(c, a.out, &n, a.in, static_cast<int>(a.sz)) != 1) ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, static_cast<int>(a.authTagSz),
                            const_cast<byte*>(a.authTag)) != 1)
      return WC_HW_E;
    unsigned char no_output[16];  // GCM's final writes nothing; the tag is checked here
    if (EVP_DecryptFinal_ex(c, no_output, &n) != 1) {
      // As wolfCrypt: unauthenticated plaintext is not left behind.
      if (a.sz != 0) OPENSSL_cleanse(a.out, a.sz);
      return AES_GCM_AUTH_E;
    }
    ++owner.operations_;
    return 0;
  }

  static int callback(int, wc_CryptoInfo* info, void*) {
    cipher_contexts* owner = current;
    if (owner == nullptr || info == nullptr || info->algo_type != WC_ALGO_TYPE_CIPHER ||
        info->cipher.type != WC_CIPHER_AES_GCM)
      return CRYPTOCB_UNAVAILABLE;  // wolfCrypt does it in software
    return info->cipher.enc ? encrypt(*owner, info->cipher.aesgcm_enc)
                            : decrypt(*owner, info->cipher.aesgcm_dec);
  }
};

namespace {

// One AES-GCM operation through wolfCrypt with `device` (or none): 0 or wolfCrypt's error.
struct gcm_vector {
  // Arbitrary but fixed; the comparison is device against software, not a published answer.
  unsigned char key[32];
  unsigned char nonce[record_nonce_size];
  unsigned char aad[13];        // a TLS 1.2 record's additional data is 13 bytes
  unsigned char plaintext[67];  // not a block multiple: the partial last block is covered
  gcm_vector() noexcept {
    for (std::size_t i = 0; i < sizeof key; ++i)
      key[i] = static_cast<unsigned char>(0x3c ^ (i * 7));
    for (std::size_t i = 0; i < sizeof nonce; ++i)
      nonce[i] = static_cast<unsigned char>(0xa0 + i);
    for (std::size_t i = 0; i < sizeof aad; ++i)
      aad[i] = static_cast<unsigned char>(i * 13 + 1);
    for (std::size_t i = 0; i < sizeof plaintext; ++i)
      plaintext[i] = static_cast<unsigned char>(i * 31 + 5);
  }
};

struct sealed {
  unsigned char ciphertext[sizeof gcm_vector::plaintext];
  unsigned char tag[record_tag_size];
};

int seal(const gcm_vector& v, int key_size, int device, sealed& out) noexcept {
  Aes aes;
  if (wc_AesInit(&aes, nullptr, device) != 0) return BAD_STATE_E;
  int r = wc_AesGcmSetKey(&aes, v.key, static_cast<word32>(key_size));
  if (r == 0)
    r = wc_AesGcmEncrypt(&aes, out.ciphertext, v.plaintext, sizeof v.plaintext, v.nonce,
                         sizeof v.nonce, out.tag, sizeof out.tag, v.aad, sizeof v.aad);
  wc_AesFree(&aes);
  return r;
}

int open(const gcm_vector& v, int key_size, int device, const sealed& in,
         unsigned char* plaintext) noexcept {
  Aes aes;
  if (wc_AesInit(&aes, nullptr, device) != 0) return BAD_STATE_E;
  int r = wc_AesGcmSetKey(&aes, v.key, static_cast<word32>(key_size));
  if (r == 0)
    r = wc_AesGcmDecrypt(&aes, plaintext, in.ciphertext, sizeof in.ciphertext, v.nonce,
                         sizeof v.nonce, in.tag, sizeof in.tag, v.aad, sizeof v.aad);
  wc_AesFree(&aes);
  return r;
}

// Device and software agree on every key size, both ways, and both refuse a bad tag. The
// device must actually have run (a wolfSSL without it would pass by doing everything itself).
bool device_agrees_with_software(int device) noexcept {
  const gcm_vector v;
  cipher_contexts contexts;
  const scope installed(contexts);
  for (const int key_size : {16, 24, 32}) {
    sealed by_device{};
    sealed by_software{};
    unsigned char plaintext[sizeof v.plaintext];
    if (seal(v, key_size, device, by_device) != 0 ||
        seal(v, key_size, INVALID_DEVID, by_software) != 0 ||
        std::memcmp(&by_device, &by_software, sizeof by_device) != 0)
      return false;
    if (open(v, key_size, device, by_software, plaintext) != 0 ||
        std::memcmp(plaintext, v.plaintext, sizeof plaintext) != 0)
      return false;
    sealed tampered = by_software;
    tampered.tag[0] ^= 1;
    if (open(v, key_size, device, tampered, plaintext) != AES_GCM_AUTH_E ||
        open(v, key_size, INVALID_DEVID, tampered, plaintext) != AES_GCM_AUTH_E)
      return false;
  }
  constexpr std::uint64_t expected = 3 * 2;  // per key size: a seal and an open (not the refused)
  return contexts.operations() == expected;
}

int register_device() noexcept {
  // Counted: if wolfSSL_Init has not run yet, this makes its own initialization a no-op that
  // keeps the table (the first wolfCrypt_Init is the one that empties it).
  if (wolfCrypt_Init() != 0) return INVALID_DEVID;
  if (!fetched().complete()) return INVALID_DEVID;
  if (wc_CryptoCb_RegisterDevice(registered_id, &cipher_contexts::device::callback, nullptr) != 0)
    return INVALID_DEVID;
  if (!device_agrees_with_software(registered_id)) {
    wc_CryptoCb_UnRegisterDevice(registered_id);
    return INVALID_DEVID;
  }
  return registered_id;
}

}  // namespace

int device_id() noexcept {
  static const int id = register_device();
  return id;
}

bool self_test() noexcept {
  const int id = device_id();
  return id != INVALID_DEVID && device_agrees_with_software(id);
}

cipher_contexts::cipher_contexts() noexcept = default;
cipher_contexts::~cipher_contexts() = default;

void cipher_contexts::clear() noexcept {
  if (table_) table_->clear();
}

scope::scope(cipher_contexts& contexts) noexcept : previous_(current) {
  current = &contexts;
}
scope::~scope() {
  current = previous_;
}

}  // namespace uredis::tls::aes_gcm_offload
