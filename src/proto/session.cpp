#include "uredis/proto/session.hpp"

#include <strings.h>
#include <algorithm>
#include <atomic>
#include <cassert>
#include <charconv>

namespace uredis::proto {
namespace {

// How much of a read a cut node is first completed with: enough for the rest of a typical
// header and small value; a node still incomplete then takes the rest of the read.
constexpr std::size_t first_piece = 256;

std::uint64_t next_session_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The command's name, the first bulk string of its RESP array ("*2\r\n$3\r\nGET\r\n..."), or
// empty when the bytes are not of that shape.
std::string_view command_name(std::string_view request) noexcept {
  const std::size_t dollar = request.find("\r\n$");
  if (dollar == std::string_view::npos) return {};
  const std::size_t digits = dollar + 3;
  const std::size_t end = request.find("\r\n", digits);
  if (end == std::string_view::npos) return {};
  std::size_t length = 0;
  const auto [ptr, ec] = std::from_chars(request.data() + digits, request.data() + end, length);
  if (ec != std::errc{} || end + 2 + length > request.size()) return {};
  return request.substr(end + 2, length);
}

// The health check's PING.
struct ping_command {
  void encode(resp::encoder& e) const { e.command("PING"); }
};

// A live connection's re-authentication. A password alone authenticates the default user,
// as the handshake's does.
// Bound to its socket: if the socket fails under it, the next one's handshake authenticates
// with the provider's newest credentials, and this older AUTH must not follow it.
struct auth_command {
  const auth::credentials* with;
  static constexpr bool bound_to_socket() noexcept { return true; }
  void encode(resp::encoder& e) const {
    if (with->username.empty())
      e.command("AUTH", with->password);
    else
      e.command("AUTH", with->username, with->password);
  }
};

}  // namespace

// The reply handler of the health-check PING: only whether an answer came matters.
struct health_check_reply {
  session* owner;
  void on_complete(const reply_outcome& o) { owner->on_health_reply(o.error); }
  struct active {
    explicit active(health_check_reply&& q) noexcept : owner(q.owner) {}
    session* owner;
    void on_node(const resp::node&) noexcept {}
    void on_complete(const reply_outcome& o) { owner->on_health_reply(o.error); }
  };
};

// The reply handler of a re-authentication's AUTH.
struct reauth_reply {
  session* owner;
  void on_complete(const reply_outcome& o) { owner->on_reauth_reply(o); }
  struct active {
    explicit active(reauth_reply&& q) noexcept : owner(q.owner) {}
    session* owner;
    void on_node(const resp::node&) noexcept {}
    void on_complete(const reply_outcome& o) { owner->on_reauth_reply(o); }
  };
};

session::session(const session_config& config, const util::clock& clock, event::dispatcher& events,
                 const resp::limits& limits)
    : config_(&config),
      clock_(&clock),
      events_(&events),
      id_(next_session_id()),
      pipeline_(limits),
      handshake_(limits),
      credentials_listener_([this](const auth::credentials& c) { on_new_credentials(c); }),
      reconnect_(config.retry),
      rng_(id_ ^ static_cast<std::uint64_t>(
                     std::chrono::steady_clock::now().time_since_epoch().count())) {
  credentials_request_.set_callback(
      [this](const auth::credentials* c, std::error_code why) { on_credentials(c, why); });
  pipeline_.pushes().set_other([this](const push_frame& f) {
    events_->emit(event::push_received{id_, f.kind, f.elements, f.size});
  });
}

// ---- Connecting ----

void session::connect(connect_callback done) {
  assert(state_ == session_state::idle || state_ == session_state::closed);
  on_connect_ = std::move(done);
  reconnect_.reset();
  ready_since_connect_ = false;  // what it ends in is a `connected`, not a `reconnected`
  start_attempt();
}

void session::start_attempt() {
  ++epoch_;
  state_ = session_state::connecting;
  actions_.open_transport = true;
  reconnect_at_ = time_point::max();
  // One deadline for the whole setup: a server that accepts and then never answers HELLO must
  // not hold the session (and the commands waiting for it) forever.
  setup_deadline_ = config_->connect_timeout.count() > 0 ? clock_->now() + config_->connect_timeout
                                                         : time_point::max();
  handshake_started_ = false;
  credentials_ready_ = provider_ == nullptr;
  authenticate_ = false;
  if (provider_ != nullptr) {
    // This fetch gets the newest credentials: an announcement before it needs no AUTH.
    reauth_due_ = false;
    auth::wipe(reauth_with_.password);
    // Asked while the transport opens; the provider may answer now or later.
    credentials_request_.begin();
    fetching_ = true;
    provider_->fetch(credentials_request_);
    fetching_ = false;
  }
}

void session::on_credentials(const auth::credentials* c, std::error_code why) {
  if (state_ != session_state::connecting && state_ != session_state::handshaking) return;
  if (c == nullptr) {
    fail(why ? why : make_error_code(errc::handshake_failed));
    if (!fetching_ && output_hook_) output_hook_();
    return;
  }
  // Copied into strings that keep their capacity: a reconnect allocates nothing.
  credentials_.username = c->username;
  auth::replace_secret(credentials_.password, c->password);
  authenticate_ = true;
  credentials_ready_ = true;
  if (state_ == session_state::handshaking) start_handshake();
  // An answer that came later, from the provider's own callback, reached the session outside
  // any call of the shell: it must be told to send the handshake (or close the socket).
  if (!fetching_ && output_hook_) output_hook_();
}

void session::on_connected(bool tls_resumed) {
  if (state_ != session_state::connecting) return;
  state_ = session_state::handshaking;
  tls_resumed_ = tls_resumed;
  if (tls_resumed) ++tls_resumptions_;
  carry_.clear();
  if (credentials_ready_) start_handshake();
}

void session::start_handshake() {
  // A reconnect asks for the protocol the server spoke. After a fallback to RESP2 that skips a
  // HELLO known to fail, and matters with subscriptions: taken in RESP2 ahead of the fallback's
  // AUTH, SELECT and SETNAME, they would make the server refuse those (subscribed mode).
  params_.protocol = protocol_ == 2 ? resp_version::resp2 : config_->protocol;
  params_.authenticate = authenticate_;
  params_.username = credentials_.username;
  params_.password = credentials_.password;
  params_.client_name = config_->client_name ? std::string_view{*config_->client_name} : "";
  params_.db = config_->db;
  setup_out_.clear();
  util::byte_buffer& out = setup_out_.tail();
  const std::size_t before = out.size();
  resp::encoder e{out};
  handshake_.start(params_, steps_, e, &pipeline_.pushes());
  setup_out_.commit(out.size() - before);
  handshake_started_ = true;
}

void session::set_credentials_provider(auth::credentials_provider* p) {
  provider_ = p;
  credentials_listener_.hook.unlink();
  if (p != nullptr) p->watch(credentials_listener_);
}

void session::set_subscribed(bool on) {
  subscribed_ = on;
  update_subscribed_mode();
  reauthenticate();  // one deferred while a RESP2 subscription refused AUTH
}

void session::update_subscribed_mode() noexcept {
  // Before the first handshake the protocol is the one asked for; after, the one spoken.
  const bool resp2 = protocol_ == 0 ? config_->protocol == resp_version::resp2 : protocol_ == 2;
  restricted_ = subscribed_ && resp2;
  // Commands queued on a ready connection go before the SUBSCRIBE; otherwise the next
  // handshake subscribes first.
  pipeline_.set_pubsub_arrays(restricted_, state_ == session_state::ready);
  handshake_.set_pubsub_arrays(subscribed_);
}

namespace {
template <std::size_t N>
bool named_one_of(std::string_view request, const std::string_view (&names)[N]) noexcept {
  const std::string_view name = command_name(request);
  for (const std::string_view n : names)
    if (name.size() == n.size() && ::strncasecmp(name.data(), n.data(), n.size()) == 0) return true;
  return false;
}
}  // namespace

bool allowed_when_subscribed(std::string_view request) noexcept {
  static constexpr std::string_view allowed[] = {
      "SUBSCRIBE",  "UNSUBSCRIBE",  "PSUBSCRIBE", "PUNSUBSCRIBE",
      "SSUBSCRIBE", "SUNSUBSCRIBE", "PING",       "QUIT",
  };
  return named_one_of(request, allowed);
}

namespace {
// The bytes of the command at the front of `rest` (an array of bulk strings, as the encoder
// writes every command), which it leaves behind; empty, and `rest` emptied, when the bytes are
// not of that shape.
std::string_view take_command(std::string_view& rest) noexcept {
  std::size_t at = 0;
  // Reads "<marker><digits>\r\n" at `at` into `value` and moves past it; false if not there.
  const auto header = [&rest, &at](char marker, std::size_t& value) {
    if (at >= rest.size() || rest[at] != marker) return false;
    const std::size_t end = rest.find("\r\n", at + 1);
    if (end == std::string_view::npos) return false;
    const auto [ptr, ec] = std::from_chars(rest.data() + at + 1, rest.data() + end, value);
    if (ec != std::errc{} || ptr != rest.data() + end) return false;
    at = end + 2;
    return true;
  };
  std::size_t count = 0;
  bool ok = header('*', count);
  for (std::size_t i = 0; ok && i < count; ++i) {
    std::size_t length = 0;
    // The bulk and its CRLF fit in what is left (header() left at <= size; no sum to overflow).
    ok = header('$', length) && length <= rest.size() - at && rest.size() - at - length >= 2;
    if (ok) at += length + 2;
  }
  if (!ok) {
    rest = {};
    return {};
  }
  const std::string_view command = rest.substr(0, at);
  rest.remove_prefix(at);
  return command;
}
}  // namespace

std::error_code refused_unsent(std::string_view request) noexcept {
  static constexpr std::string_view streaming[] = {
      "SUBSCRIBE",  "UNSUBSCRIBE",  "PSUBSCRIBE", "PUNSUBSCRIBE",
      "SSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
  };
  static constexpr std::string_view resetting[] = {"RESET"};
  // Every command of the request: a transaction's raw commands are checked too.
  while (!request.empty()) {
    const std::string_view command = take_command(request);
    if (named_one_of(command, streaming)) return make_error_code(errc::not_one_reply);
    if (named_one_of(command, resetting)) return make_error_code(errc::reset_refused);
  }
  return {};
}

void session::handshake_done() {
  protocol_ = handshake_.protocol();
  update_subscribed_mode();
  state_ = session_state::ready;
  setup_deadline_ = time_point::max();
  const std::uint32_t attempts = reconnect_.failures();
  reconnect_.reset();
  received_ = true;
  if (config_->health_check_interval.count() > 0)
    health_at_ = clock_->now() + config_->health_check_interval;
  const std::uint64_t epoch = epoch_;
  // A new socket after the first counts as a reconnect (a WATCH does not survive it), but only
  // the policy healing a lost socket is reported as one: a connect() asked for by hand, even
  // after the policy gave up, is a `connected`.
  if (ever_ready_) ++reconnects_;
  ever_ready_ = true;
  if (std::exchange(ready_since_connect_, true))
    events_->emit(event::reconnected{id_, attempts, tls_resumed_});
  else
    events_->emit(event::connected{id_, tls_resumed_});
  if (epoch_ != epoch) return;
  reauthenticate();  // credentials announced after this socket's fetch
  if (epoch_ != epoch || !on_connect_) return;
  connect_callback done = std::move(on_connect_);
  on_connect_ = {};
  done({});
}

// ---- Input ----

void session::on_data(std::string_view bytes) {
  if (state_ != session_state::handshaking && state_ != session_state::ready) return;
  received_ = true;
  const std::uint64_t epoch = epoch_;
  if (!carry_.empty()) {
    // Complete the node the last read cut, copying as little of this read as it takes.
    const std::size_t carried = carry_.size();
    std::size_t appended = 0;
    std::size_t used = 0;
    while (used == 0 && appended < bytes.size()) {
      const std::size_t more =
          appended == 0 ? std::min(bytes.size(), first_piece) : bytes.size() - appended;
      carry_.append(bytes.substr(appended, more));
      appended += more;
      const consumed_input r = consume(carry_.data());
      if (r.stopped || epoch_ != epoch) return;
      used = r.bytes;
    }
    if (used == 0) return;  // still cut: all of this read waits in the carry
    // The cut node ended inside this read, used - carried bytes into it: go on from there,
    // reading in place again.
    assert(used > carried);
    carry_.clear();
    bytes.remove_prefix(used - carried);
  }
  const consumed_input r = consume(bytes);
  if (r.stopped || epoch_ != epoch) return;
  carry_.append(bytes.substr(r.bytes));  // a node cut by the end of this read, if any
}

session::consumed_input session::consume(std::string_view bytes) {
  const std::uint64_t epoch = epoch_;
  std::size_t used = 0;
  if (state_ == session_state::handshaking) {
    if (!handshake_started_) {  // a server speaking first, before the handshake was sent
      fail(make_error_code(errc::unexpected_reply));
      return {0, true};
    }
    util::byte_buffer& out = setup_out_.tail();
    const std::size_t before = out.size();
    resp::encoder e{out};
    const handshake_status status = handshake_.on_bytes(bytes, used, e);
    setup_out_.commit(out.size() - before);
    if (status == handshake_status::failed) {
      fail(handshake_.failure());
      return {used, true};
    }
    if (status == handshake_status::in_progress) return {used, false};
    handshake_done();
    if (epoch_ != epoch) return {used, true};
  }
  if (state_ != session_state::ready) return {used, true};
  const pipeline::feed_result r = pipeline_.feed(bytes.substr(used));
  used += r.consumed;
  if (r.error) {
    fail(r.error);
    return {used, true};
  }
  return {used, r.stopped || epoch_ != epoch};
}

// ---- Output ----

bool session::wants_send() const noexcept {
  if (in_flight_ != sender::none) return false;
  if (state_ == session_state::handshaking) return !setup_out_.unsent().empty();
  if (state_ == session_state::ready) return !pipeline_.unsent().empty();
  return false;
}

std::string_view session::begin_send() noexcept {
  if (in_flight_ != sender::none) return {};
  std::string_view bytes;
  if (state_ == session_state::handshaking) {
    bytes = setup_out_.begin_send();
    if (!bytes.empty()) in_flight_ = sender::setup;
  } else if (state_ == session_state::ready) {
    bytes = pipeline_.begin_send();
    if (!bytes.empty()) in_flight_ = sender::pipeline;
  }
  return bytes;
}

void session::end_send() noexcept {
  switch (std::exchange(in_flight_, sender::none)) {
    case sender::setup:
      setup_out_.end_send();
      break;
    case sender::pipeline:
      pipeline_.end_send();
      break;
    case sender::none:
      break;
  }
}

// ---- Failures ----

void session::on_transport_failed(std::error_code ec) {
  if (state_ == session_state::connecting || state_ == session_state::handshaking ||
      state_ == session_state::ready)
    fail(ec);
}

void session::fail(std::error_code ec) {
  fail(result<void>(ec));
}

// Lets go of the socket: the transport is to be closed, and whatever was in flight on it is
// forgotten. The state becomes "between sockets" until a decision is made.
void session::abandon_socket() noexcept {
  ++epoch_;
  actions_.close_transport = true;
  actions_.open_transport = false;  // an open not yet carried out is not wanted any more
  state_ = session_state::reconnecting;
  if (in_flight_ == sender::pipeline) pipeline_.end_send();  // the socket is gone with them
  in_flight_ = sender::none;
  setup_out_.clear();
  carry_.clear();
  credentials_request_.cancel();
  setup_deadline_ = time_point::max();
  health_at_ = time_point::max();
  health_ping_pending_ = false;
  health_failed_ = false;
}

// The socket failed (or could not be set up, or its handshake was refused).
void session::fail(const result<void>& reason) {
  const result<void> why = reason;  // a copy: `reason` may live in handshake_, reused later
  // A server still loading its data will be ready later: that refusal is worth retrying.
  const bool loading =
      why.has_server_error() && why.server_error().kind == server_error_kind::loading;
  // The code every pending command gets: the transport's, or "the handshake was refused".
  const std::error_code ec = why.has_error() ? why.error()
                             : loading       ? make_error_code(errc::server_loading)
                                             : make_error_code(errc::handshake_failed);
  const session_state was = state_;
  abandon_socket();
  const std::uint64_t epoch = epoch_;

  if (was == session_state::ready) events_->emit(event::disconnected{id_, ec});
  if (is_protocol_error(ec)) events_->emit(event::protocol_error{id_, ec});
  if (!why.has_error()) events_->emit(event::handshake_failed{id_, ec});
  if (epoch_ != epoch) return;  // a listener closed or reconnected the session: it decided

  // A refused handshake (a server error) does not go away by asking again. Before the session
  // was ever ready, retrying is the config's choice (retry_first_connect, unset: retry): a
  // caller told "nothing listens there" at once may prefer that to waiting out the policy.
  const bool may_retry = ever_ready_ || config_->retry_first_connect.value_or(true);
  if ((why.has_error() || loading) && may_retry && schedule_reconnect(ec)) return;
  give_up(ec, why);
}

bool session::schedule_reconnect(const std::error_code& cause) {
  const retry::retry_policy& policy = config_->retry;
  if (policy.retries() == 0) return false;
  // A protocol error breaks this stream, not the server: a new connection is the cure, so the
  // policy judges it as the connection being closed. So does a TLS record that does not
  // decrypt (corrupted on the way): the session's integrity check caught it, the server is fine.
  const bool stream_broken = is_protocol_error(cause) || cause == errc::tls_record_invalid;
  const std::error_code judged = stream_broken ? make_error_code(errc::connection_closed) : cause;
  const retry::decision d = reconnect_.on_failure(judged, /*written=*/false,
                                                  /*idempotent=*/true, rng_);
  const std::uint64_t epoch = epoch_;
  if (!d.retrying()) {
    // Given up on a retryable error: the budget is spent (else the error is not one to retry).
    if (policy.retryable(judged))
      events_->emit(event::retries_exhausted{id_, reconnect_.failures(), cause});
    return epoch_ != epoch;  // a listener decided already
  }
  // Due before the commands are judged: a completion below that closes the session cancels it.
  reconnect_at_ = clock_->now() + std::chrono::duration_cast<util::clock::duration>(d.delay);
  rewind_commands(cause);
  if (epoch_ != epoch) return true;  // a completion closed the session
  events_->emit(event::reconnect_scheduled{id_, reconnect_.failures(), d.delay, cause});
  return true;
}

void session::rewind_commands(const std::error_code& cause) {
  const retry::retry_policy& policy = config_->retry;
  const std::uint64_t epoch = epoch_;
  retried_.clear();
  pipeline_.rewind(cause, [&](const request& r, std::string_view bytes, bool written) {
    if (r.bound_to_socket)  // its WATCHes died with the socket: never run it on another
      return make_error_code(written ? errc::outcome_unknown : errc::watch_lost);
    if (!written) return std::error_code{};  // it never reached the server: always safe
    const bool idempotent = r.idempotent || retry::is_read_only(command_name(bytes));
    retry::backoff unused;  // the delay is the reconnect's, not the command's
    const retry::decision d = policy.decide(cause, static_cast<std::uint32_t>(r.resends) + 1,
                                            written, idempotent, unused, rng_);
    if (!d.retrying()) return d.error;
    retried_.push_back(static_cast<std::uint16_t>(r.resends + 1));
    return std::error_code{};
  });
  // Reported once the pipeline is consistent again: listeners may issue commands.
  while (!retried_.empty() && epoch_ == epoch) {
    const std::uint16_t attempt = retried_.front();
    retried_.pop_front();
    events_->emit(event::command_retried{id_, attempt, cause});
  }
}

void session::give_up(const std::error_code& ec, const result<void>& why) {
  ++epoch_;
  reconnect_at_ = time_point::max();
  command_deadline_ = time_point::max();
  state_ = session_state::closed;
  // Taken now: a completion below may call connect() again with a callback of its own.
  connect_callback on_connect = std::move(on_connect_);
  on_connect_ = {};
  pipeline_.fail_all(ec);
  if (on_connect) on_connect(why);
}

void session::close() {
  if (state_ == session_state::idle || state_ == session_state::closed) {
    pipeline_.fail_all(make_error_code(errc::connection_closed));
    return;
  }
  const bool was_ready = state_ == session_state::ready;
  if (state_ != session_state::reconnecting) abandon_socket();
  const std::error_code ec = make_error_code(errc::connection_closed);
  const std::uint64_t epoch = epoch_;
  if (was_ready) events_->emit(event::disconnected{id_, ec});
  if (epoch_ != epoch) return;
  give_up(ec, result<void>(ec));
}

// ---- Time ----

void session::on_timer() {
  const time_point now = clock_->now();
  if (command_deadline_ <= now) expire_commands(now);
  if (setup_deadline_ <= now) {
    setup_deadline_ = time_point::max();
    if (state_ == session_state::connecting || state_ == session_state::handshaking)
      return fail(make_error_code(errc::timeout));
  }
  if (reconnect_at_ <= now) {
    reconnect_at_ = time_point::max();
    if (state_ == session_state::reconnecting) return start_attempt();
  }
  if (health_at_ <= now) check_health(now);
}

// Deadlines: the earliest deadline of any pending command is kept; when it passes, every
// command past its deadline completes with errc::timeout.
void session::expire_commands(time_point now) {
  command_deadline_ = time_point::max();
  time_point next;
  const std::size_t expired = pipeline_.expire(now, next);
  // Completions may have queued commands with deadlines of their own: keep the earliest.
  if (next < command_deadline_) command_deadline_ = next;
  for (std::size_t i = 0; i < expired; ++i)
    events_->emit(event::command_timed_out{id_});
}

// Health checks: an idle, silent interval earns a PING; an unanswered PING recycles the socket.
void session::check_health(time_point now) {
  health_at_ = time_point::max();
  if (state_ != session_state::ready) return;  // armed again when ready again
  if (health_failed_) {
    const std::uint64_t epoch = epoch_;
    events_->emit(event::health_check_failed{id_});
    if (epoch_ == epoch) fail(make_error_code(errc::timeout));
    return;
  }
  health_at_ = now + config_->health_check_interval;
  // Only an idle session is checked: pending commands have deadlines of their own, and a
  // blocking command keeps a healthy connection silent on purpose. Timed-out commands do not
  // count: in a black hole their replies never come, and nothing else would find out.
  if (received_ || health_ping_pending_ || pipeline_.awaits_live_reply()) {
    received_ = false;
    return;
  }
  health_ping_pending_ = true;
  enqueue(ping_command{}, health_check_reply{this}, {.timeout = config_->health_check_interval});
}

void session::on_health_reply(const std::error_code& ec) {
  health_ping_pending_ = false;
  if (ec == errc::timeout && state_ == session_state::ready) {
    health_failed_ = true;  // recycled from the timer, not from inside the pipeline
    health_at_ = clock_->now();
  }
}

// ---- Re-authentication ----

void session::on_new_credentials(const auth::credentials& c) {
  const bool setting_up =
      state_ == session_state::connecting || state_ == session_state::handshaking;
  if (setting_up && !handshake_started_) {
    // The handshake is not written yet: it carries the new credentials itself (a fetch still
    // waiting gets its own answer).
    if (credentials_ready_ && authenticate_) {
      credentials_.username = c.username;
      auth::replace_secret(credentials_.password, c.password);
    }
    return;
  }
  reauth_with_.username = c.username;
  auth::replace_secret(reauth_with_.password, c.password);
  reauth_due_ = true;
  reauthenticate();
}

// Sends the newest announced credentials, when the connection can take an AUTH now.
void session::reauthenticate() {
  if (!reauth_due_ || state_ != session_state::ready || restricted_) return;
  reauth_due_ = false;
  const enqueued e = enqueue(auth_command{&reauth_with_}, reauth_reply{this});
  auth::wipe(reauth_with_.password);  // encoded: the request buffer holds it until it is sent
  if (e != enqueued::refused && output_hook_) output_hook_();
}

void session::on_reauth_reply(const reply_outcome& o) {
  // Gone with its socket (auth_command is bound to it): the next handshake authenticates with
  // the newest credentials, and says so (event::reconnected). Nothing was refused.
  if (o.error && state_ == session_state::reconnecting) return;
  // The server's message (WRONGPASS...) never quotes the password, but the request bytes do:
  // neither is kept.
  if (o.error)
    events_->emit(event::reauth_failed{id_, o.error});
  else if (o.error_reply != nullptr)
    events_->emit(event::reauth_failed{id_, make_error_code(errc::credentials_rejected)});
  else
    events_->emit(event::reauthenticated{id_});
}

}  // namespace uredis::proto
