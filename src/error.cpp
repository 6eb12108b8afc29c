#include "uredis/error.hpp"

namespace uredis {
namespace {

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uredis"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_type_byte:
        return "invalid RESP type byte";
      case errc::invalid_integer:
        return "invalid RESP integer";
      case errc::invalid_length:
        return "invalid RESP length (not a number, or negative other than -1)";
      case errc::invalid_double:
        return "invalid RESP double";
      case errc::invalid_boolean:
        return "invalid RESP boolean (expected 't' or 'f')";
      case errc::invalid_null:
        return "invalid RESP null (it carries a payload)";
      case errc::invalid_big_number:
        return "invalid RESP big number";
      case errc::invalid_verbatim:
        return "invalid RESP verbatim string (missing the 'fmt:' prefix)";
      case errc::missing_crlf:
        return "expected CRLF";
      case errc::line_too_long:
        return "RESP line longer than the configured limit";
      case errc::bulk_too_large:
        return "bulk length above the configured limit";
      case errc::aggregate_too_large:
        return "aggregate size above the configured limit";
      case errc::nesting_too_deep:
        return "aggregates nested deeper than the configured limit";
      case errc::unexpected_reply:
        return "reply received with no command waiting for it";
      case errc::type_mismatch:
        return "reply type does not match the requested C++ type";
      case errc::unexpected_null:
        return "unexpected null reply (read it into an optional)";
      case errc::unexpected_server_error:
        return "server error inside an aggregate reply";
      case errc::incomplete_reply:
        return "incomplete reply: more bytes needed";
      case errc::connection_refused:
        return "connection refused";
      case errc::connection_reset:
        return "connection reset by peer";
      case errc::connection_closed:
        return "connection closed";
      case errc::not_connected:
        return "not connected";
      case errc::timeout:
        return "operation timed out";
      case errc::io_uring_unsupported:
        return "io_uring is not supported by this kernel";
      case errc::io_uring_disabled:
        return "io_uring is disabled (sysctl kernel.io_uring_disabled, or a seccomp filter "
               "forbids it)";
      case errc::io_uring_memlock_limit:
        return "not enough locked memory for io_uring (RLIMIT_MEMLOCK)";
      case errc::handshake_failed:
        return "the connection handshake was refused (HELLO, AUTH or SELECT failed)";
      case errc::invalid_url:
        return "invalid Redis URL";
      case errc::invalid_shard_count:
        return "invalid shard count: a runtime runs 1 to one-per-core shards";
      case errc::tls_unavailable:
        return "TLS was asked for (rediss:// or tls = true), but TLS is not available here: "
               "nothing was sent";
      case errc::outcome_unknown:
        return "the command was sent but its outcome is unknown (it may or may not have "
               "executed)";
      case errc::queue_full:
        return "too many commands waiting for the connection to come back";
      case errc::server_loading:
        return "the server is loading its dataset in memory";
      case errc::not_one_reply:
        return "this command is not answered by one reply: subscribe with pubsub::subscriber; "
               "MONITOR needs a connection of its own";
      case errc::reset_refused:
        return "RESET would undo this connection's setup (protocol, credentials, database, name, "
               "tracking): close() and connect() the connection instead";
      case errc::subscriber_only:
        return "this RESP2 connection carries subscriptions: it accepts only (P|S)(UN)SUBSCRIBE, "
               "PING and QUIT (send other commands on another connection, or use RESP3)";
      case errc::watch_conflict:
        return "a WATCHed key changed before EXEC: the transaction did not run";
      case errc::watch_lost:
        return "the connection was replaced after WATCH, so the watches are gone: the "
               "transaction was not sent";
      case errc::runtime_stopped:
        return "the runtime is stopping and takes no more work for its shards";
      case errc::lock_not_owned:
        return "the lock is not held by this owner (never acquired, released, or its key "
               "expired or changed hands)";
      case errc::tls_config_invalid:
        return "the TLS options cannot be applied (a CA, certificate or key file that does not "
               "load, a key that does not match its certificate, or an unusable cipher list)";
      case errc::tls_handshake_failed:
        return "the TLS handshake failed (no protocol version or cipher could be agreed, or the "
               "server's handshake messages were malformed)";
      case errc::tls_certificate_untrusted:
        return "the server's TLS certificate is not signed by a trusted CA (check ca_file / "
               "ssl_ca_certs)";
      case errc::tls_certificate_expired:
        return "the server's TLS certificate has expired or is not yet valid";
      case errc::tls_host_name_mismatch:
        return "the server's TLS certificate does not name the host connected to (check the "
               "host, server_name, or check_hostname)";
      case errc::tls_certificate_rejected:
        return "the server's TLS certificate failed verification";
      case errc::tls_peer_alert:
        return "the server ended the TLS session with a fatal alert (does it require a client "
               "certificate, or refuse ours?)";
      case errc::tls_record_invalid:
        return "a TLS record from the server did not decrypt or parse";
      case errc::tls_peer_not_tls:
        return "the server does not speak TLS: it answered the TLS handshake in plaintext (is "
               "this the server's plaintext port?)";
      case errc::credentials_expired:
        return "no valid credentials: the token expired and no replacement arrived";
      case errc::credentials_rejected:
        return "the server refused the new credentials on a live connection (it stays "
               "authenticated as before)";
      case errc::tls_certificate_revoked:
        return "the server's TLS certificate is revoked (an OCSP response from its CA says so)";
      case errc::ocsp_response_invalid:
        return "the OCSP response for the server's certificate cannot be trusted (not signed by "
               "its issuer or a delegated responder, about another certificate, or stale)";
      case errc::ocsp_staple_missing:
        return "the server sent no OCSP staple that says its certificate is good, and one is "
               "required (ocsp_mode::must_staple)";
      case errc::ocsp_responder_unavailable:
        return "the OCSP responder for the server's certificate could not be reached or did not "
               "answer in time (the connection fails closed)";
      case errc::cluster_topology_invalid:
        return "the cluster node's CLUSTER SLOTS reply could not be read as a slot map";
      case errc::cluster_cross_slot:
        return "the command's keys hash to different cluster slots (refused before sending; "
               "give them one hash tag)";
      case errc::cluster_too_many_redirects:
        return "the command was redirected or retried too many times (the cluster topology "
               "does not settle)";
      case errc::cluster_slot_unserved:
        return "no cluster node is known to serve the command's hash slot";
      case errc::sentinel_unreachable:
        return "no Sentinel of the list answered";
      case errc::sentinel_service_unknown:
        return "the Sentinels monitor no service of that name (SENTINEL get-master-addr-by-name "
               "answered null)";
      case errc::sentinel_reply_invalid:
        return "a Sentinel answered with a reply that is not the documented shape";
      case errc::role_mismatch:
        return "the server's ROLE is not the expected one (a primary named by the Sentinels is "
               "a replica now)";
      case errc::primary_switched:
        return "the primary changed (a Sentinel failover): the connection moved to the new one";
    }
    return "unknown uredis error";
  }

  // The transport codes that have an errno twin map onto the generic condition, so
  // `ec == std::errc::connection_refused` holds whether ec came from the kernel or from uredis.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::connection_refused:
        return std::errc::connection_refused;
      case errc::connection_reset:
        return std::errc::connection_reset;
      case errc::not_connected:
        return std::errc::not_connected;
      case errc::timeout:
        return std::errc::timed_out;
      case errc::invalid_shard_count:
        return std::errc::invalid_argument;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const error_category_impl instance;
  return instance;
}

bool is_protocol_error(const std::error_code& ec) noexcept {
  return ec.category() == category() && ec.value() >= static_cast<int>(errc::invalid_type_byte) &&
         ec.value() <= static_cast<int>(errc::unexpected_reply);
}

}  // namespace uredis
