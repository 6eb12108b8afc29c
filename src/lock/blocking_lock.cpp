#include "uredis/lock/blocking_lock.hpp"

#include <utility>

#include "uredis/error.hpp"
#include "uredis/exceptions.hpp"

namespace uredis::lock {

namespace {

std::unique_ptr<wakeups> wakeups_for(blocking_client& c) {
  if (!c.connected()) c.connect();
  if (c.protocol() != 3) return nullptr;  // RESP2 would turn the connection subscriber-only
  return std::make_unique<wakeups>(c.connection());
}

}  // namespace

blocking_lock::blocking_lock(blocking_client& client, std::string name, lock_options options)
    : client_(&client),
      wake_(wakeups_for(client)),
      lock_(client.connection(), std::move(name), options, wake_.get()) {}

blocking_lock::~blocking_lock() {
  const lock_state s = lock_.state();
  if (s != lock_state::held && s != lock_state::lost) return;
  bool done = false;
  lock_.release([&done](const result<void>&) { done = true; });
  client_->loop().run_until([&done] { return done; });
}

template <class T>
T blocking_lock::wait_for(std::optional<result<T>>& outcome) {
  client_->loop().run_until([&outcome] { return outcome.has_value(); });
  if (!outcome) {
    const std::error_code ec = client_->loop().error();
    client_->connection().close();
    throw error(ec, "the io_uring of this blocking_client failed: " + ec.message());
  }
  if constexpr (std::is_void_v<T>) {
    outcome->value();
  } else {
    return std::move(*outcome).value();
  }
}

bool blocking_lock::acquire(std::chrono::milliseconds wait) {
  if (!client_->connected()) client_->connect();
  std::optional<result<bool>> got;
  lock_.acquire(wait, [&got](result<bool> r) { got.emplace(std::move(r)); });
  return wait_for(got);
}

void blocking_lock::release() {
  std::optional<result<void>> done;
  lock_.release([&done](result<void> r) { done.emplace(std::move(r)); });
  wait_for(done);
}

void blocking_lock::extend(std::chrono::milliseconds ms, bool replace_ttl) {
  std::optional<result<void>> done;
  lock_.extend(ms, replace_ttl, [&done](result<void> r) { done.emplace(std::move(r)); });
  wait_for(done);
}

void blocking_lock::reacquire() {
  extend(lock_.options().ttl, true);
}

bool blocking_lock::locked() {
  std::optional<result<bool>> held;
  lock_.locked([&held](result<bool> r) { held.emplace(std::move(r)); });
  return wait_for(held);
}

std::optional<std::chrono::milliseconds> blocking_lock::remaining_ttl() {
  std::optional<result<std::optional<std::chrono::milliseconds>>> left;
  lock_.remaining_ttl(
      [&left](result<std::optional<std::chrono::milliseconds>> r) { left.emplace(std::move(r)); });
  return wait_for(left);
}

}  // namespace uredis::lock
