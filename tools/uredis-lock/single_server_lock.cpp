#include "single_server_lock.hpp"

#include <memory>
#include <utility>

#include "uredis/cmd/keys.hpp"
#include "uredis/error.hpp"

namespace uredis::lock_tool {
namespace {

// How long the destructor lets a release still in flight reach the server.
constexpr std::chrono::milliseconds settle_time{1000};

connection_config tool_config(connection_config server) {
  // RESP3 (falling back to 2): the release notices share the lock's connection.
  server.protocol = resp_version::resp3;
  // A server that is not there is reported at once, as uredis-cli does; once connected, the
  // library's policy reconnects and the watchdog rides out short outages.
  server.retry_first_connect = false;
  return server;
}

}  // namespace

single_server_lock::single_server_lock(reactor::reactor& r, connection_config server,
                                       std::string name, lock::lock_options options)
    : reactor_(r),
      name_(std::move(name)),
      options_(options),
      conn_(r, tool_config(std::move(server))) {}

single_server_lock::~single_server_lock() {
  // Destroying the lock releases it in the background if it is still held or being won; give
  // that a moment to reach the server rather than leave the key until its ttl.
  lock_.reset();
  wake_.reset();
  const auto until = reactor_.timers().now() + settle_time;
  reactor::timer deadline([] {});
  reactor_.timers().arm(deadline, until);
  reactor_.run_until([this, until] {
    return conn_.pending() == 0 || reactor_.timers().now() >= until || !conn_.ready();
  });
  conn_.close();
}

void single_server_lock::connect(std::function<void(result<void>)> done) {
  conn_.connect([this, done = std::make_shared<std::function<void(result<void>)>>(std::move(done))](
                    const result<void>& r) {
    if (r) build_lock();
    (*done)(r);
  });
}

void single_server_lock::build_lock() {
  lock::wakeups* wake = nullptr;
  if (conn_.protocol() == 3) {
    wake_.emplace(conn_);
    wake = &*wake_;
  }
  lock_.emplace(conn_, name_, options_, wake);
  lock_->on_lost([this](std::error_code why) {
    if (lost_) lost_(why);
  });
}

void single_server_lock::acquire(std::chrono::milliseconds wait,
                                 std::function<void(result<bool>)> done) {
  acquired_ = std::move(done);
  lock_->acquire(wait, [this](result<bool> got) {
    if (auto f = std::exchange(acquired_, {})) f(std::move(got));
  });
}

void single_server_lock::cancel_acquire() {
  if (lock_) lock_->cancel_acquire();
}

void single_server_lock::release(std::function<void(result<void>)> done) {
  released_ = std::move(done);
  lock_->release([this](result<void> r) {
    if (auto f = std::exchange(released_, {})) f(std::move(r));
  });
}

void single_server_lock::on_lost(std::function<void(std::error_code)> f) {
  lost_ = std::move(f);
}

std::uint64_t single_server_lock::fencing_token() const {
  return lock_ ? lock_->fencing_token() : 0;
}

void single_server_lock::remaining(std::function<void(result<std::int64_t>)> done) {
  // One PTTL answers both questions atomically: -2 free, -1 held forever, else the ttl left.
  conn_.exec(cmd::pttl{name_},
             [done = std::make_shared<std::function<void(result<std::int64_t>)>>(std::move(done))](
                 result<std::int64_t> r) { (*done)(std::move(r)); });
}

std::string single_server_lock::where() const {
  return describe(conn_.config());
}

}  // namespace uredis::lock_tool
