#include "redlock_lock.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "uredis/cmd/keys.hpp"

namespace uredis::lock_tool {
namespace {

constexpr std::chrono::milliseconds settle_time{1000};

connection_config tool_config(connection_config server) {
  server.retry_first_connect = false;  // report a dead server at once (see connect())
  return server;
}

// Answers gathered from every server, then handed on once.
template <class T>
struct gathered {
  std::vector<result<T>> answers;
  std::size_t expected = 0;
  std::function<void(std::vector<result<T>>&)> done;
  void add(result<T> r) {
    answers.push_back(std::move(r));
    if (answers.size() == expected) done(answers);
  }
};

}  // namespace

redlock_lock::redlock_lock(reactor::reactor& r, const std::vector<connection_config>& servers,
                           std::string name, lock::lock_options options)
    : reactor_(r), name_(std::move(name)), options_(options) {
  for (const connection_config& server : servers)
    conns_.push_back(std::make_unique<connection>(r, tool_config(server)));
}

redlock_lock::~redlock_lock() {
  lock_.reset();  // releases on every server in the background if still held
  const auto until = reactor_.timers().now() + settle_time;
  reactor::timer deadline([] {});
  reactor_.timers().arm(deadline, until);
  reactor_.run_until([this, until] {
    return reactor_.timers().now() >= until ||
           std::all_of(conns_.begin(), conns_.end(),
                       [](const auto& c) { return c->pending() == 0 || !c->ready(); });
  });
  for (auto& c : conns_)
    c->close();
}

void redlock_lock::connect(std::function<void(result<void>)> done) {
  auto all = std::make_shared<gathered<void>>();
  all->expected = conns_.size();
  all->done = [this, done = std::move(done)](std::vector<result<void>>& answers) {
    const auto up = static_cast<std::size_t>(
        std::count_if(answers.begin(), answers.end(), [](const auto& r) { return bool(r); }));
    if (up < quorum()) {
      for (auto& r : answers)
        if (!r) return done(std::move(r));  // the first failure says why
    }
    std::vector<std::reference_wrapper<connection>> masters;
    for (auto& c : conns_)
      masters.emplace_back(*c);
    lock_.emplace(std::move(masters), name_, options_);
    lock_->on_lost([this](std::error_code why) {
      if (lost_) lost_(why);
    });
    done(result<void>());
  };
  for (auto& c : conns_)
    c->connect([all](const result<void>& r) { all->add(r); });
}

void redlock_lock::acquire(std::chrono::milliseconds wait, std::function<void(result<bool>)> done) {
  acquired_ = std::move(done);
  lock_->acquire(wait, [this](result<bool> got) {
    if (auto f = std::exchange(acquired_, {})) f(std::move(got));
  });
}

void redlock_lock::cancel_acquire() {
  if (lock_) lock_->cancel_acquire();
}

void redlock_lock::release(std::function<void(result<void>)> done) {
  released_ = std::move(done);
  lock_->release([this](result<void> r) {
    if (auto f = std::exchange(released_, {})) f(std::move(r));
  });
}

void redlock_lock::on_lost(std::function<void(std::error_code)> f) {
  lost_ = std::move(f);
}

std::uint64_t redlock_lock::fencing_token() const {
  return lock_ ? lock_->fencing_token() : 0;
}

void redlock_lock::remaining(std::function<void(result<std::int64_t>)> done) {
  // Held when a quorum has the key; its ttl is what the quorum guarantees: the quorum-th
  // longest (no expiry counting as the longest).
  auto all = std::make_shared<gathered<std::int64_t>>();
  all->expected = conns_.size();
  all->done = [this, done = std::move(done)](std::vector<result<std::int64_t>>& answers) {
    std::vector<std::int64_t> present;
    std::size_t failed = 0;
    for (const auto& r : answers) {
      if (!r)
        ++failed;
      else if (*r != -2)
        present.push_back(*r == -1 ? INT64_MAX : *r);
    }
    if (failed > conns_.size() - quorum()) {
      for (auto& r : answers)
        if (!r) return done(std::move(r));
    }
    if (present.size() < quorum()) return done(std::int64_t{-2});
    std::sort(present.begin(), present.end(), std::greater<>());
    const std::int64_t ttl = present[quorum() - 1];
    done(ttl == INT64_MAX ? std::int64_t{-1} : ttl);
  };
  for (auto& c : conns_)
    c->exec(cmd::pttl{name_}, [all](result<std::int64_t> r) { all->add(std::move(r)); });
}

std::string redlock_lock::where() const {
  std::string names;
  for (const auto& c : conns_) {
    if (!names.empty()) names += ", ";
    names += describe(c->config());
  }
  return "a majority of " + names;
}

}  // namespace uredis::lock_tool
