#include "uredis/client/connection.hpp"

#include <memory>

#include "io/tcp_transport.hpp"
#include "io/tls_transport.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/proto/role_check.hpp"
#include "uredis/reactor/resolver.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/sentinel/primary_locator.hpp"

namespace uredis {
namespace detail {

// The connection's state and its I/O: the session, the transport, the timer, the reactor slot.
// Heap-allocated so that its owner (connection) can go while the core's own code is still on
// the stack: the core is then retired to the reactor and freed at the end of the turn.
class connection_core final : public reactor::retirable,
                              private reactor::io_target,
                              private reactor::flushable,
                              private io::transport_events {
 public:
  connection_core(reactor::reactor& r, connection_config c)
      : config(std::move(c)),
        session(config, r.timers().source(), r.events()),
        reactor_(r),
        transport_(make_transport(r)),
        slot_(r.attach(*this)),
        timer_([this] { on_timer(); }),
        lookup_([this](result<io::socket_address> a) { on_resolved(std::move(a)); }) {
    if (config.credentials) {
      session.set_credentials_provider(config.credentials.get());
    } else if (config.password.has_value() || !config.username.empty()) {
      static_credentials_.emplace(
          auth::credentials{config.username, config.password.value_or(std::string{})});
      session.set_credentials_provider(&*static_credentials_);
    }
    // A provider's late answer, or a re-authentication it announces, reaches the session
    // outside any call of ours.
    session.set_output_hook([this] { on_session_changed(); });
    if (config.cache.enabled())
      cache = std::make_unique<cache::driver>(session, config, r, [this] { after_enqueue(); });
    if (address_) watch_address();
    reactor_.add_dependent();
  }

  ~connection_core() override {
    locate_.cancel();
    transport_->close();
    detach();
    reactor_.remove_dependent();
  }

  connection_config config;
  proto::session session;
  std::unique_ptr<cache::driver> cache;  // null unless config.cache.enabled()

  void connect(proto::session::connect_callback done) {
    const scope s(*this);
    session.connect(std::move(done));
    sync();
  }

  void close() {
    const scope s(*this);
    session.close();
    sync();
  }

  // Inside a call into the core (a reply callback that updated the provider), the call's own
  // sync() follows: only the flush and the timer are due now, as after an enqueue. Outside (a
  // provider's timer), this is the call, and it syncs.
  void on_session_changed() {
    if (depth_ > 0) return after_enqueue();
    const scope s(*this);
    sync();
  }

  reactor::flushable& flush_target() noexcept { return *this; }
  reactor::reactor& loop() const noexcept { return reactor_; }

  void after_enqueue() noexcept {
    if (session.ready()) reactor_.schedule_flush(*this);
    if (session.next_deadline() != armed_for_) arm_timer();
  }

  // The owner is gone: every pending command completes with connection_closed, the core stops
  // taking completions, flushes and timers, and is freed now, or at the end of the turn when
  // its code is on the stack (a completion destroyed its connection).
  void release() noexcept {
    {
      const scope s(*this);
      session.close();
    }
    released_ = true;
    locate_.cancel();
    close_transport();
    detach();
    flush_hook.unlink();
    timer_.cancel();
    if (depth_ > 0) {
      reactor_.retire(*this);
    } else {
      delete this;
    }
  }

  const endpoint* provided_endpoint() const noexcept {
    return address_ != nullptr && !current_.host.empty() ? &current_ : nullptr;
  }

 private:
  // Marks a call into the core from outside (the reactor, the user) for release().
  struct scope {
    explicit scope(connection_core& c) noexcept : core(c) { ++core.depth_; }
    ~scope() { --core.depth_; }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    connection_core& core;
  };

  void on_completion(io::op op, const io_uring_cqe& cqe) override {
    const scope s(*this);
    transport_->on_completion(op, cqe);
    sync();
  }

  void flush() override {
    if (released_ || !transport_->is_open() || transport_->sending()) return;
    const scope s(*this);
    const std::string_view bytes = session.begin_send();
    if (bytes.empty()) return;
    if (const std::error_code ec = transport_->send(bytes)) {
      session.on_transport_failed(ec);
    } else {
      reactor_.begin_quiet();
      quiet_ = true;
    }
    sync();
  }

  void on_timer() {
    const scope s(*this);
    armed_for_ = proto::session::time_point::max();
    session.on_timer();
    sync();
  }

  // The transport's reports, forwarded to the session (sync() runs when the completion that
  // carried them returns).
  // Connected and failed may also come from outside the core's own completions: the TLS
  // transport's OCSP query runs on a reactor slot of its own. Then nobody else syncs.
  void on_transport_connected() override {
    const scope s(*this);
    session.on_connected(transport_->tls_resumed());
    if (depth_ == 1) sync();
  }
  void on_transport_data(std::string_view bytes) override { session.on_data(bytes); }
  void on_transport_sent() override {
    end_quiet();
    session.end_send();
  }
  void on_transport_failed(std::error_code ec) override {
    const scope s(*this);
    end_quiet();
    session.on_transport_failed(ec);
    if (depth_ == 1) sync();
  }

  void end_quiet() noexcept {
    if (quiet_) reactor_.end_quiet();
    quiet_ = false;
  }

  // Carries out what the session asked for, then schedules its bytes and its next deadline.
  void sync() {
    if (released_) return;
    // A -READONLY reply came from a server that was our primary: it was demoted (a failover
    // this connection has not heard of yet). Its socket goes, as if lost; the reconnect asks
    // the address provider for the new primary.
    if (std::exchange(demoted_, false))
      session.on_transport_failed(make_error_code(errc::primary_switched));
    for (;;) {
      const proto::session::actions a = session.take_actions();
      if (!a.close_transport && !a.open_transport) break;
      if (a.close_transport) close_transport();
      if (a.open_transport) open_transport();
    }
    if (session.wants_send()) reactor_.schedule_flush(*this);
    if (session.next_deadline() != armed_for_) arm_timer();
  }

  void arm_timer() noexcept {
    armed_for_ = session.next_deadline();
    if (armed_for_ == proto::session::time_point::max()) {
      timer_.cancel();
    } else {
      reactor_.timers().rearm(timer_, armed_for_);
    }
  }

  // A numeric host or a Unix socket connects now; a name connects when the shard's resolver
  // answers (on_resolved), which never blocks this turn. With an address provider, the host
  // and port are its answer, asked on every attempt (it may answer later: on_located).
  void open_transport() {
    if (address_) {
      locate_.begin();
      locating_ = true;
      address_->locate(locate_);
      locating_ = false;
      return;
    }
    if (!config.unix_socket.empty()) return connect_to(io::unix_socket_address(config.unix_socket));
    resolve(config.host, config.port);
  }

  void resolve(const std::string& host, std::uint16_t port) {
    std::optional<result<io::socket_address>> now =
        reactor_.name_resolver().resolve(lookup_, host, port);
    if (now) connect_to(std::move(*now));
  }

  // The provider, the handshake's role check and the -READONLY watch it asks for.
  void watch_address() {
    address_->watch(moved_);
    switch (address_->role()) {
      case server_role::any:
        break;
      case server_role::primary:
        role_check_.emplace("master");
        session.observe_errors([this](std::string_view message) {
          if (message.starts_with("READONLY")) demoted_ = true;
        });
        break;
      case server_role::replica:
        role_check_.emplace("slave");
        break;
    }
    if (role_check_) session.add_handshake_step(*role_check_);
  }

  // The provider's answer: inside locate() (open_transport's caller syncs) or later.
  void on_located(const endpoint* where, std::error_code why) {
    if (released_) return;
    if (locating_) return located(where, why);
    const scope s(*this);
    located(where, why);
    sync();
  }

  void located(const endpoint* where, std::error_code why) {
    if (where == nullptr) return session.on_transport_failed(why);
    current_ = *where;
    // A replica provider falling back to the primary says so: this handshake expects a master.
    current_role_ =
        locate_.answered_as() != server_role::any ? locate_.answered_as() : address_->role();
    if (role_check_)
      role_check_->expect(current_role_ == server_role::primary ? "master" : "slave");
    // The certificate must name the server the provider chose, not config.host.
    if (tls_ != nullptr) tls_->expect_host(current_.host);
    resolve(current_.host, current_.port);
  }

  // The provider says the primary moved (a failover). A connection waiting for the provider's
  // answer has nothing to do, nor one to the primary already going there, nor one to a replica
  // that was not promoted; any other drops its socket and reconnects, its commands judged as
  // for any lost socket.
  void on_moved(const endpoint& now) {
    const bool stays = current_role_ == server_role::replica ? !(now == current_) : now == current_;
    if (released_ || locate_.pending() || stays) return;
    const scope s(*this);
    session.on_transport_failed(make_error_code(errc::primary_switched));
    if (depth_ == 1) sync();
  }

  void on_resolved(result<io::socket_address> address) {
    const scope s(*this);
    connect_to(std::move(address));
    sync();
  }

  void connect_to(const result<io::socket_address>& address) {
    if (!address) return session.on_transport_failed(address.error());
    if (tls_ != nullptr) tls_->expect_setup_by(session.setup_deadline());
    if (const std::error_code ec = transport_->open(*address, slot_))
      session.on_transport_failed(ec);
  }

  void close_transport() noexcept {
    end_quiet();
    lookup_.cancel();  // a lookup still running answers no one
    locate_.cancel();  // so does a provider's
    demoted_ = false;  // that socket's news
    if (!transport_->is_open()) return;
    transport_->close();
    // The old socket's completions still to come carry the old slot id: they are dropped.
    detach();
    if (!released_) {
      slot_ = reactor_.attach(*this);
      attached_ = true;
    }
  }

  void detach() noexcept {
    if (attached_) reactor_.detach(slot_);
    attached_ = false;
  }

  // TLS or plain, chosen once: a config's tls flag does not change under its connection.
  std::unique_ptr<io::transport> make_transport(reactor::reactor& r) {
    const io::tcp_transport::options tcp{.tcp_nodelay = config.tcp_nodelay};
    io::transport_events& events = *this;
    if (config.tls) {
      auto tls = std::make_unique<io::tls_transport>(r.ring(), r.receive_buffers(), events, tcp,
                                                     config.tls_options, config.host, &r);
      tls_ = tls.get();
      return tls;
    }
    return std::make_unique<io::tcp_transport>(r.ring(), r.receive_buffers(), events, tcp);
  }

  std::optional<auth::static_credentials> static_credentials_;
  reactor::reactor& reactor_;
  io::tls_transport* tls_ = nullptr;  // transport_, when it is TLS
  std::unique_ptr<io::transport> transport_;
  std::uint64_t slot_;
  bool attached_ = true;  // slot_ names this core in the reactor
  reactor::timer timer_;
  reactor::resolver_request lookup_;
  // Where to connect when not config.host:port (config.address, or a Sentinel locator made
  // from config.sentinel); declared before what it links, which must go first.
  std::shared_ptr<address_provider> address_ =
      config.address              ? config.address
      : config.sentinel.enabled() ? sentinel::make_primary_locator(reactor_, config.sentinel)
                                  : nullptr;
  address_request locate_{[this](const endpoint* e, std::error_code why) { on_located(e, why); }};
  address_listener moved_{[this](const endpoint& now) { on_moved(now); }};
  std::optional<proto::role_check> role_check_;
  endpoint current_;                             // the provider's last answer
  server_role current_role_ = server_role::any;  // what the server at current_ must be
  bool locating_ = false;                        // inside address_->locate()
  bool demoted_ = false;                         // a -READONLY reply came from our primary
  proto::session::time_point armed_for_ = proto::session::time_point::max();
  unsigned depth_ = 0;     // calls into the core on the stack
  bool released_ = false;  // the connection is gone: inert until freed
  bool quiet_ = false;     // a send announced to the reactor as quiet is in flight
};

}  // namespace detail

connection::connection(reactor::reactor& r, connection_config config)
    : core_(new detail::connection_core(r, std::move(config))),
      session_(&core_->session),
      cache_(core_->cache.get()),
      flush_(&core_->flush_target()) {}

connection::~connection() {
  core_->release();
}

void connection::connect(connect_callback done) {
  core_->connect(std::move(done));
}

void connection::close() {
  core_->close();
}

const connection_config& connection::config() const noexcept {
  return core_->config;
}

const endpoint* connection::provided_endpoint() const noexcept {
  return core_->provided_endpoint();
}

reactor::reactor& connection::loop() const noexcept {
  return core_->loop();
}

void connection::after_enqueue() noexcept {
  core_->after_enqueue();
}

}  // namespace uredis
