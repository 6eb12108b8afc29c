#pragma once
// script: a Lua script run by its SHA-1, loaded into the server only when the server says it
// does not have it. The digest is computed once, when the script is made (util/sha1.hpp);
// every call sends EVALSHA (EVALSHA_RO for a script declared read-only) with the call's keys
// and arguments:
//
//   uredis::script bump{"return redis.call('INCRBY', KEYS[1], ARGV[1])"};
//   auto n = co_await client.run<std::int64_t>(bump, "counter", 5);       // client.hpp
//   conn.run<std::int64_t>(bump, {"counter"}, {5}, [](result<std::int64_t> n) { ... });
//
// (Several keys in a coroutine: name the list first, `const cmd::arg keys[] = {"a", "b"};`, as
// GCC 12 rejects a braced list inside a co_await expression: command_helpers.hpp.)
//
// NOSCRIPT (a server that never saw the script, was restarted, or ran SCRIPT FLUSH): the call
// sends SCRIPT LOAD and the same EVALSHA again, once, as one two-reply batch
// (proto/pipeline.hpp: nothing lands between them), and the caller sees only the second
// answer (the batch gets the call's exec_options again, its timeout counted afresh). A script
// the server cannot load (a compile error) completes with SCRIPT LOAD's error
// reply ("ERR Error compiling script ..."), not with a second NOSCRIPT: no loop, a clear error.
//
// Resending after a reconnect follows the command's name (session.hpp): EVALSHA is a write, so
// a written call completes with errc::outcome_unknown unless exec_options::idempotent says
// otherwise; EVALSHA_RO is read-only (retry::is_read_only) and is resent. The reload batch is
// resent on the same terms (read-only script or idempotent call).
//
// Costs: in steady state (the script loaded) a call is one EVALSHA encoded straight into the
// request buffer and allocates nothing beyond what its Response needs. The reload path
// allocates only for an error reply's text.
//
// Ownership: the script owns its source. It must outlive every call made with it (a call keeps
// a pointer to it until it completes, to load the source on NOSCRIPT). Keys and arguments are
// arg_lists viewed until the call is encoded: build them in the call's expression.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "uredis/client/connection.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/scripting.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/pending.hpp"
#include "uredis/proto/typed_reply.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"
#include "uredis/util/sha1.hpp"

namespace uredis {

/// Whether a script may write. A read-only one is sent as EVALSHA_RO: the server refuses its
/// writes, and the call is resent after a reconnect like any read.
enum class script_access : std::uint8_t { writes, read_only };

class script {
 public:
  explicit script(std::string source, script_access access = script_access::writes)
      : source_(std::move(source)), sha1_(util::sha1_hex(source_)), access_(access) {}

  std::string_view source() const noexcept { return source_; }
  /// 40 lower-case hex digits, as SCRIPT LOAD answers.
  std::string_view sha1() const noexcept { return {sha1_.data(), sha1_.size()}; }
  bool read_only() const noexcept { return access_ == script_access::read_only; }

 private:
  std::string source_;
  util::sha1::hex_digest sha1_;
  script_access access_;
};

namespace detail {

/// One call of a script: EVALSHA (or EVALSHA_RO) with its keys and arguments.
struct script_call {
  const script* code;
  cmd::arg_list keys{};
  cmd::arg_list args{};

  void encode(resp::encoder& e) const {
    cmd::detail::encode_eval(e, code->read_only() ? "EVALSHA_RO" : "EVALSHA", code->sha1(), keys,
                             args);
  }
  constexpr void for_each_key(auto&& f) const { cmd::detail::for_each_key_in(keys, f); }
};

/// The reload batch: SCRIPT LOAD, then the call's own EVALSHA bytes again (its
/// reply_outcome::request), as one command with two replies.
struct script_reload {
  std::string_view source;
  std::string_view call;  // the EVALSHA as it was sent

  void encode(resp::encoder& e) const {
    // `call` may view the very buffer encoded into (the request bytes of the call that met
    // NOSCRIPT): encoding SCRIPT LOAD may move them, at the same offset from data().
    util::byte_buffer& out = e.buffer();
    const std::string_view before = out.data();
    const bool own = !before.empty() && call.data() >= before.data() &&
                     call.data() < before.data() + before.size();
    const std::size_t offset = own ? static_cast<std::size_t>(call.data() - before.data()) : 0;
    e.command("SCRIPT", "LOAD", source);
    out.append(own ? out.data().substr(offset, call.size()) : call);
  }
  static constexpr std::uint32_t replies() noexcept { return 2; }
};

inline bool is_noscript(const proto::reply_outcome& o) noexcept {
  return o.error_reply != nullptr && o.error_reply->value.starts_with("NOSCRIPT");
}

/// The reload batch's options: the call's own, resendable when the script is read-only.
inline proto::exec_options reload_options(proto::exec_options o, const script& s) noexcept {
  o.idempotent = o.idempotent || s.read_only();
  return o;
}

/// Reads a script call's reply into a Response: the EVALSHA's one reply on a first attempt, or
/// the reload batch's two (SCRIPT LOAD's, which only matters as an error, then EVALSHA's).
/// Never moves (its adapter points into it).
template <class Response>
class script_reader {
 public:
  explicit script_reader(bool reloading) noexcept : reloading_(reloading) {}
  script_reader(const script_reader&) = delete;
  script_reader& operator=(const script_reader&) = delete;

  void on_node(const resp::node& n) {
    if (reloading_ && !load_counter_.done()) {  // SCRIPT LOAD's reply
      load_counter_.count(n);
      if (n.depth == 0 && resp::is_error(n.type))
        error_reply_.emplace(server_error::parse(n.value));
      return;
    }
    if (n.depth == 0 && resp::is_error(n.type)) {  // the batch's EVALSHA refused
      if (!error_reply_) error_reply_.emplace(server_error::parse(n.value));  // LOAD's first
      return;
    }
    reply_.on_node(n);
  }

  /// The call's result, once its last reply is read (or it failed): a refusal inside the
  /// reload batch ranks with the server's error reply (proto/typed_reply.hpp).
  result<Response> finish(const proto::reply_outcome& o) {
    if (!o.error && o.error_reply == nullptr && error_reply_)
      return result<Response>(std::move(*error_reply_));
    return reply_.finish(o);
  }

 private:
  proto::typed_reply<Response> reply_;
  std::optional<server_error> error_reply_;
  resp::detail::element_counter load_counter_;
  bool reloading_;
};

/// The reply handler behind connection::run: holds the callback until the reply, reads it with
/// a script_reader, and on a first NOSCRIPT queues the reload batch with itself as its handler.
template <class Response, class Callback>
class script_handler {
  static_assert(proto::detail::views_are_safe<Response>,
                "a string_view inside an aggregate reply may dangle: read it into std::string");

 public:
  static void start(connection& conn, const script& code, const cmd::arg_list& keys,
                    const cmd::arg_list& args, Callback callback,
                    const proto::exec_options& options) {
    conn.enqueue(script_call{&code, keys, args},
                 script_handler(std::move(callback), code, conn, options), options);
  }

  /// The reply never began.
  void on_complete(const proto::reply_outcome& o) { callback_(result<Response>(o.error)); }

  class active {
   public:
    explicit active(script_handler&& queued) noexcept
        : queued_(std::move(queued)), reader_(queued_.reloading_) {}
    active(const active&) = delete;
    active& operator=(const active&) = delete;

    void on_node(const resp::node& n) { reader_.on_node(n); }

    void on_complete(const proto::reply_outcome& o) {
      if (!queued_.reloading_ && is_noscript(o)) {
        queued_.reloading_ = true;
        const script& code = *queued_.script_;
        const proto::exec_options options = reload_options(queued_.options(), code);
        queued_.conn_->enqueue(script_reload{code.source(), o.request}, std::move(queued_),
                               options);
        return;
      }
      queued_.callback_(reader_.finish(o));
    }

   private:
    script_handler queued_;
    script_reader<Response> reader_;
  };

  script_handler(script_handler&&) noexcept = default;

 private:
  script_handler(Callback callback, const script& code, connection& conn,
                 const proto::exec_options& options) noexcept
      : callback_(std::move(callback)),
        script_(&code),
        conn_(&conn),
        timeout_ms_(static_cast<std::int32_t>(std::clamp<std::int64_t>(
            options.timeout.count(), -1, std::numeric_limits<std::int32_t>::max()))),
        idempotent_(options.idempotent) {}

  // The call's options, kept in 8 bytes rather than exec_options' 16, to leave the callback
  // 32 of the queued handler's 56 (proto/pending.hpp).
  proto::exec_options options() const noexcept {
    return {std::chrono::milliseconds(timeout_ms_), idempotent_};
  }

  Callback callback_;
  const script* script_;
  connection* conn_;
  std::int32_t timeout_ms_;
  bool idempotent_;
  bool reloading_ = false;
};

}  // namespace detail
}  // namespace uredis
