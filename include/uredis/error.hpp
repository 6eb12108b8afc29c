#pragma once
// The uredis error model: three channels, never mixed (see DESIGN.md).
//
//  1. Transport, protocol, timeout and kernel failures are std::error_code values. Codes the
//     library raises itself come from `uredis::errc` in `uredis::category()`; errno values are
//     converted to errc once, at the io boundary.
//  2. A server error reply (`-WRONGTYPE ...`) is a value: `server_error{kind, message}`. It never
//     tears a connection down.
//  3. Programming errors are assertions.
//
// The blocking API maps both kinds of error onto an exception tree (exceptions.hpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace uredis {

enum class errc : int {
  // 0 is reserved: a std::error_code with value 0 means success.

  // Malformed or hostile RESP bytes (the parser). Each is fatal for the connection.
  invalid_type_byte = 1,  // the first byte of an element is not a RESP type marker
  invalid_integer,        // ':' payload is not a signed 64-bit decimal integer
  invalid_length,         // a length or count is not a number, or negative other than -1
  invalid_double,         // ',' payload is not a RESP3 double
  invalid_boolean,        // '#' payload is neither 't' nor 'f'
  invalid_null,           // '_' carries a payload
  invalid_big_number,     // '(' payload is not [+-]digits
  invalid_verbatim,       // '=' payload lacks the "fmt:" prefix
  missing_crlf,           // a bulk payload is not followed by CRLF, or a line ends in a bare LF
  line_too_long,          // no CRLF within limits::max_line_length bytes
  bulk_too_large,         // bulk length above limits::max_bulk_length
  aggregate_too_large,    // element count above limits::max_aggregate_size
  nesting_too_deep,       // aggregates nested deeper than limits::max_depth
  unexpected_reply,       // a reply arrived that no command was waiting for (keep last here)

  // A well-formed reply that does not fit the C++ type the caller asked for (the adapters), or
  // input that ends before one whole reply (read_reply over a complete byte string).
  type_mismatch,
  unexpected_null,
  unexpected_server_error,  // a server error nested inside an aggregate read as a typed value
  incomplete_reply,         // the bytes end in the middle of a reply

  // Connection and transport (the io and client layers). connection_refused, connection_reset,
  // not_connected and timeout compare equal to the matching std::errc conditions
  // (`ec == std::errc::timed_out`), so callers can test one condition for both sources.
  connection_refused,
  connection_reset,
  connection_closed,  // the peer closed the stream (EOF); no errno names this
  not_connected,
  timeout,
  handshake_failed,  // the server refused HELLO, AUTH or SELECT (connect() reports its error)
  // io_uring could not be set up (the io layer, creating a ring). Each names the cause, since
  // the fix differs: a newer kernel, a sysctl or seccomp policy, or a higher memlock limit.
  io_uring_unsupported,    // io_uring_setup failed with ENOSYS
  io_uring_disabled,       // ... with EPERM
  io_uring_memlock_limit,  // ... with ENOMEM (kernels before 5.12 charge rings to memlock)

  // Configuration (the client layer).
  invalid_url,          // a connection URL parse_url() cannot read (client/config.hpp says why)
  invalid_shard_count,  // runtime_options::shards is 0 or more than there are usable cores
  tls_unavailable,      // TLS asked for where a transport cannot provide it. uredis itself no
                        // longer raises it (the client and every tool mode speak TLS); kept
                        // so code that checks for it keeps compiling

  // Retry (retry/retry_policy.hpp). A command not marked idempotent failed after its bytes
  // were written: it may or may not have executed, so it was not sent again.
  outcome_unknown,

  // The connection is down and reconnecting, and the queue of commands waiting for it is full
  // (connection_config::max_queued_while_disconnected).
  queue_full,
  // The server answered the handshake with LOADING: it is still loading its dataset after a
  // restart. Retried like a connection error.
  server_loading,

  // Pub/Sub (pubsub/subscriber.hpp). A RESP2 connection that carries subscriptions accepts only
  // the (P|S)(UN)SUBSCRIBE family, PING and QUIT: any other command is refused unsent.
  subscriber_only,
  // A command sent with exec() (cmd::raw) that is not answered by one reply: the (P|S)(UN)
  // SUBSCRIBE family (confirmation pushes: use pubsub::subscriber) and MONITOR (an endless
  // stream). Refused unsent, since its answers would be taken for other commands' replies.
  not_one_reply,
  // RESET sent with exec() (cmd::raw): refused unsent, as it would undo what the connection set
  // up (protocol, credentials, database, name, client-side cache tracking) behind its back.
  // close() and connect() start over cleanly.
  reset_refused,

  // Transactions (client/transaction.hpp). Nothing in the transaction ran: retrying it whole
  // is safe (client/optimistic.hpp does).
  watch_conflict,  // EXEC answered null: a key the connection WATCHed changed meanwhile
  watch_lost,      // the connection was replaced after WATCH: its watches are gone, so the
                   // transaction was not sent (it would have run unguarded)

  // The runtime (reactor/runtime.hpp) is in the last phase of shutdown and takes no more
  // cross-shard work: an invoke_on() that could not be handed to its shard.
  runtime_stopped,

  // Locks (lock/distributed_lock.hpp): a release or extend of a lock this owner does not hold
  // (never acquired, already released, or its key expired or changed hands), and the reason a
  // held lock is reported lost when the server answered that the key is no longer ours.
  lock_not_owned,

  // TLS (tls/options.hpp, the TLS transport). Certificate problems are named one by one, since
  // each has a different fix (the CA file, the clock or the certificate's dates, the host name);
  // none is retried by the default policy: asking again gets the same certificate.
  tls_config_invalid,         // tls::options cannot be applied: a CA, certificate or key file
                              // that does not load, a key that does not match, a cipher list
                              // with no usable suite
  tls_handshake_failed,       // the TLS handshake failed: no version or suite could be agreed,
                              // or the peer's handshake messages were malformed (a close
                              // mid-handshake is connection_closed: retried like any drop)
  tls_certificate_untrusted,  // the server's certificate does not lead to a trusted CA
  tls_certificate_expired,    // the server's certificate has expired or is not yet valid
  tls_host_name_mismatch,     // the server's certificate is for another host name or address
  tls_certificate_rejected,   // the server's certificate failed verification for another reason
  tls_peer_alert,             // the server ended the session with a fatal alert (for instance
                              // it requires a client certificate, or refused ours)
  tls_record_invalid,         // a record after the handshake did not decrypt or parse
  tls_peer_not_tls,           // the server answered the ClientHello with bytes that cannot
                              // start a TLS record: a plaintext server on this port

  // Authentication (auth/). A provider with no valid credentials fails a connect at once with
  // credentials_expired instead of letting it wait (a token that expired with no replacement);
  // a live connection whose re-authentication the server refused reports credentials_rejected
  // (event::reauth_failed) and stays authenticated as before.
  credentials_expired,
  credentials_rejected,
  // OCSP (tls::ocsp_mode): the server certificate's revocation status. Like the certificate
  // codes, none is retried by the default policy.
  tls_certificate_revoked,     // an OCSP response signed for the server's CA says: revoked
  ocsp_response_invalid,       // an OCSP response that cannot be trusted: its signature is not
                               // the issuer's (or its delegated responder's), it is about another
                               // certificate, or it is stale (past its nextUpdate)
  ocsp_staple_missing,         // must_staple: no staple came in the handshake, or it did not say
                               // "good" (wolfSSL reports both the same way)
  ocsp_responder_unavailable,  // ocsp_mode::responder: the responder could not be reached, did
                               // not answer in time, or answered with an error (fail closed)
  // Redis Cluster (cluster/). A CLUSTER SLOTS reply that is not one: the node is not a cluster
  // node speaking the documented shape, so its topology cannot be used.
  cluster_topology_invalid,
  // A multi-key command whose keys hash to several slots, refused before it was sent (a node
  // would answer CROSSSLOT). MGET, MSET, DEL, EXISTS, UNLINK and TOUCH are split instead.
  cluster_cross_slot,
  // A command was redirected (MOVED, ASK), or retried (TRYAGAIN, CLUSTERDOWN, its node gone)
  // more than cluster_config::max_redirects times: the topology does not settle.
  cluster_too_many_redirects,
  // No node is known to serve the command's slot (no topology yet, or a slot left unserved),
  // and no refresh found one before the command's retries ran out.
  cluster_slot_unserved,

  // Redis Sentinel (sentinel/). Finding the primary of a service, and following it.
  sentinel_unreachable,      // no Sentinel of the list answered (retried: they may come back)
  sentinel_service_unknown,  // the Sentinels that answered monitor no service of that name (a
                             // typo or a missing `sentinel monitor`: not retried)
  sentinel_reply_invalid,    // a Sentinel's answer is not the documented shape (that Sentinel
                             // counts as failed; the next one is asked)
  role_mismatch,             // the server's ROLE is not what its address provider promised (a
                             // Sentinel's "primary" that is a replica now): retried, which asks
                             // the Sentinels again
  primary_switched,          // the connection was moved to a new primary (a failover announced
                             // by +switch-master, or a -READONLY reply): the cause its pending
                             // commands are judged by, as for any lost socket
};

/// The category of every `uredis::errc`; its name is "uredis".
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/// True for the codes that mean the server sent bytes that are not valid RESP (or exceed a
/// configured limit): the connection cannot be trusted any more.
bool is_protocol_error(const std::error_code& ec) noexcept;

/// The kind of a server error reply, parsed from its first word (see server_error::parse). The
/// match is exact and case-sensitive, as the server spells its prefixes in upper case.
enum class server_error_kind : std::uint8_t {
  err,  // "ERR": the generic kind
  wrongtype,
  moved,
  ask,
  noscript,
  busy,
  busykey,
  notbusy,
  loading,
  readonly,
  noauth,
  wrongpass,
  noperm,
  noproto,
  oom,
  execabort,
  tryagain,
  crossslot,
  clusterdown,
  masterdown,
  noreplicas,
  busygroup,
  nogroup,
  misconf,
  unblocked,
  other,  // a first word uredis does not know (module errors, for instance), or no first word
};

/// A server error reply as a value. Owning: it outlives the read buffer it was parsed from.
/// `kind` and `message` are independent fields; parse() keeps them consistent. The first word is
/// everything before the first space (redis-py splits the same way), so "ERR" alone is a code with
/// an empty detail and " ERR x" has an empty code.
struct server_error {
  server_error_kind kind = server_error_kind::err;
  std::string message;  // the whole text as sent, e.g. "WRONGTYPE Operation against a key ..."

  /// Classifies `text` (a simple or bulk error payload, without the '-' or '!'): the kind from the
  /// first word (`other` if it is not a known prefix, including an empty first word), the message
  /// is the whole text.
  static server_error parse(std::string_view text);

  /// The first word of the message ("WRONGTYPE"), or the whole message if it has one word.
  std::string_view code() const noexcept;
  /// The message after the first word and its space ("" if there is none).
  std::string_view detail() const noexcept;

  friend bool operator==(const server_error&, const server_error&) = default;
};

/// The canonical spelling of a kind's prefix ("WRONGTYPE"; "" for `other`).
std::string_view to_string(server_error_kind kind) noexcept;

}  // namespace uredis

template <>
struct std::is_error_code_enum<uredis::errc> : std::true_type {};
