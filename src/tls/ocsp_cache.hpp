#pragma once
// ocsp_cache: the OCSP responses a shard has fetched from responders, by the request they
// answer (the DER request names the certificate: its issuer's hashes and its serial number),
// so that the connections of a shard ask a responder once per certificate, not once per
// connect.
//
// An entry is kept as long as it checks: every use verifies it again (ocsp_verifier), which
// refuses it once it is past its nextUpdate; the user then drops it and asks the responder. A
// response with no nextUpdate is never kept: its responder always has newer information.
// Bounded: when full, the whole cache is dropped (responses are cheap to fetch again, and a
// shard talks to a handful of servers).
//
// One per shard: this_shard() is thread-local, and a shard is one thread, so nothing is shared
// and nothing is locked. Owner: the shard's thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "tls/ocsp_verifier.hpp"
#include "uredis/error.hpp"

namespace uredis::tls {

class ocsp_cache {
 public:
  static constexpr std::size_t max_entries = 256;

  /// The calling shard's cache.
  static ocsp_cache& this_shard() {
    thread_local ocsp_cache cache;
    return cache;
  }

  /// The response stored for `request`, or null.
  const std::string* find(const std::string& request) const {
    const auto it = entries_.find(request);
    return it == entries_.end() ? nullptr : &it->second;
  }
  void store(const std::string& request, std::string_view response) {
    if (!ocsp_verifier::names_next_update(response)) return;
    if (entries_.size() >= max_entries && !entries_.contains(request)) entries_.clear();
    entries_.insert_or_assign(request, std::string(response));
  }
  void erase(const std::string& request) { entries_.erase(request); }
  void clear() noexcept { entries_.clear(); }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::string> entries_;
};

/// What `cache` says of the certificate `verifier` checks: the verdict of an answer it holds
/// that still checks (good: no error; revoked: tls_certificate_revoked), or nullopt when there
/// is none, in which case a stale answer has been dropped and the responder must be asked.
inline std::optional<std::error_code> cached_verdict(ocsp_cache& cache, ocsp_verifier& verifier) {
  const std::string* cached = cache.find(verifier.request());
  if (cached == nullptr) return std::nullopt;
  const std::error_code ec = verifier.check(*cached);
  if (!ec || ec == make_error_code(errc::tls_certificate_revoked)) return ec;
  cache.erase(verifier.request());
  return std::nullopt;
}

}  // namespace uredis::tls
