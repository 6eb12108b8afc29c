#pragma once
// token: an expiring credential (an identity provider's access token, a short-lived ACL
// password) as a token manager hands it around: who to authenticate as, the secret, and when
// it stops being valid.
//
// Times are the steady clock's (util::clock), like every deadline in the library: a source that
// learns an absolute expiry (a JWT's exp) converts it once, when it answers.

#include <chrono>
#include <string>

#include "uredis/auth/secret.hpp"
#include "uredis/util/clock.hpp"

namespace uredis::auth {

struct token {
  using time_point = util::clock::time_point;

  /// ACL user the token authenticates as; empty: the default user.
  std::string username;
  /// The secret, sent as AUTH's password. Wiped when the token ends.
  std::string value;
  /// When it stops being valid; time_point::max(): never (it is then never refreshed).
  time_point expires_at = time_point::max();

  // An aggregate still; the declared destructor makes moves copy, so no moved-from buffer
  // keeps the secret (see credentials).
  ~token() { wipe(value); }
};

}  // namespace uredis::auth
