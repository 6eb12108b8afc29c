#pragma once
// redirect_state: what a cluster client does next with one command whose answer was not its
// final reply, as a small sans-I/O value each routed command carries (2 bytes). Fed the error
// reply's text and the bytes the command went out as; answers with a verdict:
//
//   "MOVED 3999 10.0.0.2:6381"   follow_moved: repoint slot 3999, send the command there
//   "ASK 3999 10.0.0.2:6381"     follow_ask: send ASKING + the command (one batch, nothing
//                                between them) to 10.0.0.2:6381; the map is left alone
//   "TRYAGAIN ...", "CLUSTERDOWN ..."
//                                retry_later: route it again after a backoff (a multi-key
//                                command in a migrating slot; a cluster without quorum)
//   its node gone before sending (its bytes came back: pipeline::fail_all)
//                                retry_later, the same way, once the topology was read again
//   anything else                deliver: the reply is the command's answer
//
// Every verdict but deliver counts; past max_redirects (16) the verdict is give_up and the
// caller gets errc::cluster_too_many_redirects, so a topology that never settles cannot keep a
// command (and its caller) forever. The verdict's `command` is the command's own bytes, without
// the ASKING a follow_ask put in front of them, ready to be sent again as they are.

#include <cstdint>
#include <string_view>

#include "uredis/cluster/redirect.hpp"

namespace uredis::cluster {

/// ASKING, as it goes out in front of a command sent after an ASK redirect.
inline constexpr std::string_view asking_request = "*1\r\n$6\r\nASKING\r\n";

struct redirect_verdict {
  enum class action : std::uint8_t {
    deliver,       // the reply is the command's answer
    follow_moved,  // repoint where.slot to where.target and send `command` there
    follow_ask,    // send asking_request + `command` to where.target; the map stays
    retry_later,   // route `command` again after a backoff (redirects() for its count)
    give_up,       // too many redirects: errc::cluster_too_many_redirects
  };
  action what = action::deliver;
  redirect where;            // follow_moved, follow_ask
  std::string_view command;  // the command's own bytes (a view of the bytes given)
};

class redirect_state {
 public:
  static constexpr std::uint8_t max_redirects = 16;

  /// Judges the error reply `error_text` (without its '-') that answered `sent` (the bytes the
  /// command went out as: asking_request in front after a follow_ask). `replying_host` fills in
  /// a redirect's empty endpoint.
  redirect_verdict on_error_reply(std::string_view error_text, std::string_view sent,
                                  std::string_view replying_host);
  /// The command's node failed before the command reached it; `sent` as above.
  redirect_verdict on_unsent(std::string_view sent) noexcept;

  /// Redirects and retries so far.
  std::uint8_t redirects() const noexcept { return redirects_; }
  /// The command goes out (or went out) behind ASKING: the last verdict was follow_ask.
  bool asking() const noexcept { return asking_; }
  /// A follow_ask whose target could not be reached is routed by slot instead: no ASKING.
  void forget_ask() noexcept { asking_ = false; }

  /// A cheap first look at an error reply: true when it may be one of the four a cluster
  /// client handles (the rest are delivered without parsing).
  static bool may_redirect(std::string_view error_text) noexcept {
    return !error_text.empty() && (error_text[0] == 'M' || error_text[0] == 'A' ||
                                   error_text[0] == 'T' || error_text[0] == 'C');
  }

 private:
  std::string_view own_bytes(std::string_view sent) const noexcept;
  redirect_verdict count(redirect_verdict v) noexcept;

  std::uint8_t redirects_ = 0;
  bool asking_ = false;
};

}  // namespace uredis::cluster
