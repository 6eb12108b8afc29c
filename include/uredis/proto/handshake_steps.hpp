#pragma once
// handshake_steps: the steps every handshake runs (handshake_step.hpp says what a step is), in
// this order, with the registered ones between SELECT and PING:
//
//   hello_step    resp3: HELLO 3 [AUTH user pass] [SETNAME name]   (password only: "default")
//   auth_step     resp2: AUTH [user] pass                           (user only when not default)
//   setname_step  resp2: CLIENT SETNAME name
//   setinfo_step  both:  CLIENT SETINFO LIB-NAME uredis, LIB-VER <version>  (replies ignored:
//                        Redis < 7.2 refuses them)
//   select_step   both:  SELECT db                                  (db != 0)
//   ...           the steps registered with the session (CLIENT TRACKING, resubscribing...)
//   ping_step     both:  PING
//
// AUTH, SETNAME and SELECT must answer +OK; their error reply fails the handshake as that
// server_error (WRONGPASS, NOAUTH, "ERR invalid password", "ERR DB index is out of range"...).
//
// PING is there for a server still loading its dataset after a restart: HELLO, AUTH and SELECT
// succeed then, but every ordinary command gets "-LOADING ...". PING does too, so the handshake
// fails with that server_error (kind loading) before any user command goes out, and the
// connection retries later, as redis-py does with BusyLoadingError. Any other answer to PING
// passes (NOAUTH, say, for a caller who authenticates by hand, as uredis-cli does).
//
// HELLO refused as an unknown command (Redis < 6) or with NOPROTO leaves a working RESP2
// connection: hello_step records the fall-back, and the handshake asks every step again for
// resp2.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "uredis/proto/handshake_step.hpp"
#include "uredis/util/version.hpp"

namespace uredis::proto {

class hello_step final : public handshake_step {
 public:
  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

  /// Forgets what the last HELLO said: a new connect begins.
  void reset() noexcept;
  /// HELLO was refused as unknown (or NOPROTO): the connection stays RESP2.
  bool fell_back() const noexcept { return fell_back_; }
  /// 3 after a successful HELLO (or what its "proto" field said), 2 otherwise.
  int protocol() const noexcept { return protocol_; }
  std::optional<util::version> server_version() const noexcept { return server_version_; }
  std::optional<std::int64_t> client_id() const noexcept { return client_id_; }

 private:
  enum class field : std::uint8_t { other, proto, version, id };

  int protocol_ = 2;
  bool fell_back_ = false;
  std::optional<util::version> server_version_;
  std::optional<std::int64_t> client_id_;
  std::uint64_t elements_ = 0;  // keys and values at depth 1 so far
  field field_ = field::other;
};

/// A step of one command whose reply must be +OK: AUTH, CLIENT SETNAME or SELECT.
class ok_step final : public handshake_step {
 public:
  enum class command : std::uint8_t { auth, setname, select };
  explicit ok_step(command c) noexcept : command_(c) {}

  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

 private:
  command command_;
};

class setinfo_step final : public handshake_step {
 public:
  /// What CLIENT SETINFO reports as LIB-NAME.
  static constexpr std::string_view lib_name = "uredis";
  /// What CLIENT SETINFO reports as LIB-VER: the library's version.
  static std::string_view lib_version() noexcept;

  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node&, std::size_t) override { return {}; }
};

class ping_step final : public handshake_step {
 public:
  std::size_t write(resp::encoder& out, const handshake_params& params,
                    resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;
};

}  // namespace uredis::proto
