// The fault matrix: uredis' self-healing connection (client/connection.hpp) against real faults
// on loopback — redis-server SIGKILLed mid-pipeline and restarted (plaintext and TLS), CLIENT
// KILL, DEBUG SLEEP past the deadlines, a server down longer than the retry budget, and the fault
// proxy's delay, cuts, corrupted byte, black hole and refusal — plus the bounded queue and the
// allocations of a retry cycle.
//
// What each test proves about its commands (every command has an id in a ledger, and its
// callback counts its completions):
//   - each completes exactly once, with a reply or a specific error;
//   - no INCR runs twice: every INCR has a key of its own, so the server tells how many times
//     each one ran. One that returned a value ran exactly once (and returned 1); one that failed
//     with outcome_unknown, a timeout or a transport error ran at most once; one refused before
//     it was queued (queue_full) never ran. Summed: successes <= executions <= successes +
//     uncertain ones;
//   - GETs (read-only) are resent and return the right value; commands issued while the
//     connection is down are sent after the reconnect and succeed;
//   - the client recovers: commands after the fault succeed, and the events say what happened.
// Every wait has a wall-clock limit (support/eventually.hpp): a bug fails the test, never hangs
// it. Each test prints one "[fault]" line with its counts (the closing note's table).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto c2s = test::direction::client_to_server;
constexpr auto s2c = test::direction::server_to_client;

// Generous: a healthy run finishes each wait in well under a second, under ASan too.
constexpr auto limit = 8s;

// Reconnects fast and often: the faults here last a few hundred milliseconds at most.
retry::retry_policy fast_retry(std::int32_t retries = 100) {
  return {retry::backoff::constant(20ms), retries};
}

connection_config config_for(std::string_view host, std::uint16_t port) {
  connection_config c;
  c.host = std::string(host);
  c.port = port;
  c.retry = fast_retry();
  return c;
}
connection_config config_for(const test::fault_proxy& p) {
  return config_for(p.host(), p.port());
}

// A redis-server that keeps every acknowledged write across a SIGKILL: with appendfsync
// always the AOF is written and synced before any reply leaves the server, so a restart
// forgets only writes whose replies were never sent (which the client reports as uncertain).
test::redis_server_options durable() {
  return {.args = {"--appendonly", "yes", "--appendfsync", "always"}};
}

// Runs a fault on a thread of its own, which then stays alive until the test ends: the
// redis_server fixture sets PR_SET_PDEATHSIG, which fires when the *thread* that forked the
// server exits, so a server restarted from a thread that returns is killed at once.
class fault_thread {
 public:
  template <class Fault>
  explicit fault_thread(Fault fault)
      : thread_([this, fault]() mutable {
          fault();
          std::unique_lock lock{mutex_};
          done_ = true;
          changed_.notify_all();
          changed_.wait(lock, [this] { return released_; });
        }) {}
  ~fault_thread() {
    {
      const std::lock_guard lock{mutex_};
      released_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  fault_thread(const fault_thread&) = delete;
  fault_thread& operator=(const fault_thread&) = delete;

  /// Waits until the fault has run (and a restart has returned).
  void wait() {
    std::unique_lock lock{mutex_};
    changed_.wait(lock, [this] { return done_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  bool released_ = false;
  std::thread thread_;  // last: it starts running at once
};

// A fault thread's wait for its cue from the reactor's thread; false (skip the fault) when the
// cue never comes, so a test that failed early still ends.
bool wait_for_cue(const std::atomic<bool>& cue) {
  const steady::time_point give_up = steady::now() + limit;
  while (!cue) {
    if (steady::now() >= give_up) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

result<void> connect(reactor::reactor& r, connection& c) {
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  if (!test::run_until(
          r, [&] { return outcome.has_value(); }, limit))
    return make_error_code(errc::timeout);
  return *outcome;
}

// ---------------------------------------------------------------------------------------------
// The ledger: every command's fate.

enum class fate : std::uint8_t {
  pending,
  value,            // a reply (the right one, checked separately)
  server_error,     // an error reply
  outcome_unknown,  // written, reply lost, not idempotent: not resent
  timeout,          // its deadline passed
  transport,        // a connection error (the cause, or the last attempt's when retries ran out)
  protocol,         // the server's bytes were not RESP
  queue_full,       // refused at once: too many waiting while reconnecting
  not_connected,
  other,
};
constexpr std::size_t fate_count = static_cast<std::size_t>(fate::other) + 1;

const char* name(fate f) {
  static constexpr std::array<const char*, fate_count> names = {
      "pending",   "value",    "server_error", "outcome_unknown", "timeout",
      "transport", "protocol", "queue_full",   "not_connected",   "other"};
  return names[static_cast<std::size_t>(f)];
}

// Names in gtest's messages.
void PrintTo(fate f, std::ostream* os) {
  *os << name(f);
}

fate classify(const std::error_code& ec) {
  if (ec == make_error_code(errc::outcome_unknown)) return fate::outcome_unknown;
  if (ec == make_error_code(errc::timeout)) return fate::timeout;
  if (ec == make_error_code(errc::queue_full)) return fate::queue_full;
  if (ec == make_error_code(errc::not_connected)) return fate::not_connected;
  if (is_protocol_error(ec)) return fate::protocol;
  if (retry::is_transient(ec)) return fate::transport;
  return fate::other;
}

enum class op : std::uint8_t { incr, get, other };

struct record {
  op what = op::other;
  std::string key;
  std::string expected;  // a GET's right answer
  std::uint32_t completions = 0;
  fate outcome = fate::pending;
  std::error_code error;
  std::string server_error;        // its first word, for a server_error
  bool right = false;              // the INCR returned 1, the GET its key's value
  bool issued_while_down = false;  // between `disconnected` and `reconnected`
  steady::time_point issued{};
  steady::time_point completed{};
};

class ledger {
 public:
  std::size_t issue(op what, std::string key, std::string expected = {}) {
    record r;
    r.what = what;
    r.key = std::move(key);
    r.expected = std::move(expected);
    r.issued_while_down = down;
    r.issued = steady::now();
    records_.push_back(std::move(r));
    return records_.size() - 1;
  }

  template <class T>
  void complete(std::size_t id, const result<T>& r, bool right) {
    record& e = records_[id];
    if (++e.completions > 1) {
      ++extra_completions_;
      return;
    }
    e.completed = steady::now();
    if (r.has_value()) {
      e.outcome = fate::value;
      e.right = right;
    } else if (r.has_server_error()) {
      e.outcome = fate::server_error;
      e.server_error = std::string(r.server_error().code());
    } else {
      e.error = r.error();
      e.outcome = classify(e.error);
    }
    done_.fetch_add(1, std::memory_order_relaxed);
    if (then) then();
  }

  const record& operator[](std::size_t id) const { return records_[id]; }
  const std::vector<record>& records() const noexcept { return records_; }
  std::size_t issued() const noexcept { return records_.size(); }
  std::size_t done() const noexcept { return done_.load(std::memory_order_relaxed); }
  bool all_done() const noexcept { return done() == issued(); }
  std::size_t extra_completions() const noexcept { return extra_completions_; }

  std::size_t count(fate f, op what) const {
    return static_cast<std::size_t>(
        std::count_if(records_.begin(), records_.end(),
                      [&](const record& r) { return r.outcome == f && r.what == what; }));
  }

  // Set by the events listener (watch()): commands issued meanwhile were never written.
  bool down = false;
  // Runs after each first completion (a stream issues its next command).
  std::function<void()> then;

 private:
  std::vector<record> records_;
  std::atomic<std::size_t> done_{0};  // read by a killer thread
  std::size_t extra_completions_ = 0;
};

// Marks the ledger down between a disconnect and the reconnect.
struct down_watch {
  down_watch(reactor::reactor& r, ledger& l)
      : lost(r.events(), [&l](const event::disconnected&) { l.down = true; }),
        back(r.events(), [&l](const event::reconnected&) { l.down = false; }) {}
  event::listener<event::disconnected> lost;
  event::listener<event::reconnected> back;
};

// An INCR of a key of its own: it should return 1, and the key's value says how often it ran.
std::size_t send_incr(connection& c, ledger& l, std::string key, const exec_options& o = {}) {
  const std::size_t id = l.issue(op::incr, key);
  c.exec(
      cmd::incr{key},
      [&l, id](result<std::int64_t> r) { l.complete(id, r, r.has_value() && *r == 1); }, o);
  return id;
}

// A GET of a key whose value is known.
std::size_t send_get(connection& c, ledger& l, std::string key, std::string expected,
                     const exec_options& o = {}) {
  const std::size_t id = l.issue(op::get, key, std::move(expected));
  c.exec(
      cmd::get{key},
      [&l, id](result<std::optional<std::string>> r) {
        l.complete(id, r, r.has_value() && r->has_value() && **r == l[id].expected);
      },
      o);
  return id;
}

// Keeps `window` commands in flight: each completion issues the next, until finish_after()
// says how many more (or a safety cap is reached), or the connection is closed. Every fourth is
// a GET of `get_key` (whose value is `value`), the others INCRs of keys of their own. Once
// `trigger_at` commands have completed, `trigger` runs (on the reactor's thread) once.
class stream {
 public:
  stream(connection& c, ledger& l, std::string prefix, std::size_t window)
      : c_(c), l_(l), prefix_(std::move(prefix)), window_(window) {}
  ~stream() { l_.then = nullptr; }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  void start() {
    l_.then = [this] { next(); };
    for (std::size_t i = 0; i < window_; ++i)
      next();
  }
  /// Issues `more` commands after the ones issued so far, then stops.
  void finish_after(std::size_t more) { total_ = l_.issued() + more; }
  bool finished() const { return l_.issued() >= total_ && l_.all_done(); }

  std::size_t trigger_at = 0;
  std::function<void()> trigger;

  static constexpr std::string_view get_key = "stream:g";
  static constexpr std::string_view value = "v";

 private:
  void next() {
    if (trigger && l_.done() >= trigger_at) std::exchange(trigger, nullptr)();
    const std::size_t n = l_.issued();
    // Closed: every command would fail at once and call back into next(), recursing.
    if (n >= total_ || c_.state() == connection_state::closed) return;
    if (n % 4 == 3)
      send_get(c_, l_, std::string(get_key), std::string(value));
    else
      send_incr(c_, l_, prefix_ + std::to_string(n));
  }

  connection& c_;
  ledger& l_;
  std::string prefix_;
  std::size_t window_;
  std::size_t total_ = 300'000;  // a cap, should the fault never come
};

// Runs `s` until the connection has come back from its fault (or given up), then for `more`
// commands after that.
bool run_stream_through_fault(reactor::reactor& r, stream& s, std::size_t more = 3000) {
  const event::stats& st = r.events().stats();
  if (!test::run_until(
          r, [&] { return st.reconnected > 0 || st.retries_exhausted > 0; }, limit))
    return false;
  s.finish_after(more);
  return test::run_until(
      r, [&] { return s.finished(); }, limit);
}

// ---------------------------------------------------------------------------------------------
// Reading back how often each INCR ran.

// Parses a RESP2 MGET reply of small integers: one entry per key, 0 for a missing key.
std::vector<std::int64_t> parse_counts(std::string_view reply) {
  std::vector<std::int64_t> out;
  if (reply.empty() || reply[0] != '*') return out;
  std::size_t pos = reply.find("\r\n") + 2;
  while (pos < reply.size()) {
    const std::size_t end = reply.find("\r\n", pos);
    const std::string_view header = reply.substr(pos + 1, end - pos - 1);
    pos = end + 2;
    if (header == "-1") {
      out.push_back(0);
      continue;
    }
    const std::size_t length = std::stoul(std::string(header));
    out.push_back(std::stoll(std::string(reply.substr(pos, length))));
    pos += length + 2;
  }
  return out;
}

struct incr_audit {
  std::size_t incrs = 0;
  std::size_t executions = 0;          // summed over every INCR key
  std::size_t succeeded = 0;           // returned a value
  std::size_t uncertain = 0;           // failed after maybe reaching the server
  std::size_t uncertain_ran = 0;       // ... of which the server did run
  std::size_t refused = 0;             // queue_full / not_connected: never queued
  std::size_t ran_twice = 0;           // must be 0
  std::size_t succeeded_not_once = 0;  // returned a value but did not run exactly once: 0
  std::size_t refused_but_ran = 0;     // must be 0
};

incr_audit audit_incrs(const ledger& l, const test::redis_server& server) {
  incr_audit a;
  std::vector<const record*> incrs;
  for (const record& r : l.records())
    if (r.what == op::incr) incrs.push_back(&r);
  constexpr std::size_t batch = 500;  // keeps each request small for the blocking helper
  for (std::size_t first = 0; first < incrs.size(); first += batch) {
    const std::size_t n = std::min(batch, incrs.size() - first);
    std::vector<std::string_view> args = {"MGET"};
    for (std::size_t i = 0; i < n; ++i)
      args.push_back(incrs[first + i]->key);
    const std::vector<std::int64_t> counts = parse_counts(server.command(args));
    EXPECT_EQ(counts.size(), n) << "MGET failed";
    for (std::size_t i = 0; i < n && i < counts.size(); ++i) {
      const record& r = *incrs[first + i];
      const auto ran = static_cast<std::size_t>(counts[i]);
      ++a.incrs;
      a.executions += ran;
      if (ran > 1) ++a.ran_twice;
      switch (r.outcome) {
        case fate::value:
          ++a.succeeded;
          if (ran != 1) ++a.succeeded_not_once;
          break;
        case fate::queue_full:
        case fate::not_connected:
          ++a.refused;
          if (ran != 0) ++a.refused_but_ran;
          break;
        default:
          ++a.uncertain;
          a.uncertain_ran += ran;
          break;
      }
    }
  }
  return a;
}

void expect_no_incr_ran_twice(const incr_audit& a) {
  EXPECT_EQ(a.ran_twice, 0u) << "an INCR executed twice";
  EXPECT_EQ(a.succeeded_not_once, 0u) << "an INCR returned a value but did not run exactly once";
  EXPECT_EQ(a.refused_but_ran, 0u) << "an INCR refused at once ran anyway";
  EXPECT_GE(a.executions, a.succeeded);
  EXPECT_LE(a.executions, a.succeeded + a.uncertain);
}

// Every command completed once, and every reply was the right one.
void expect_each_completed_once(const ledger& l) {
  EXPECT_TRUE(l.all_done()) << l.done() << " of " << l.issued() << " completed";
  EXPECT_EQ(l.extra_completions(), 0u) << "a command completed twice";
  std::size_t wrong = 0, pending = 0;
  for (const record& r : l.records()) {
    if (r.outcome == fate::pending) ++pending;
    if (r.outcome == fate::value && !r.right) ++wrong;
  }
  EXPECT_EQ(pending, 0u);
  EXPECT_EQ(wrong, 0u) << "a command got another command's reply";
}

// Commands issued while the connection was down never reached the old socket: they must all
// succeed on the new one.
std::size_t expect_issued_while_down_succeeded(const ledger& l) {
  std::size_t n = 0, failed = 0;
  for (const record& r : l.records()) {
    if (!r.issued_while_down) continue;
    ++n;
    if (r.outcome != fate::value) ++failed;
  }
  EXPECT_EQ(failed, 0u) << "of " << n << " commands issued while reconnecting";
  return n;
}

std::size_t expect_gets_succeeded(const ledger& l) {
  const std::size_t gets = l.count(fate::value, op::get);
  std::size_t total = 0;
  for (const record& r : l.records())
    total += r.what == op::get ? 1 : 0;
  EXPECT_EQ(gets, total) << "a GET (read-only, resent) failed";
  return total;
}

std::string tally(const ledger& l) {
  std::array<std::size_t, fate_count> n{};
  std::string first_server_error;
  for (const record& r : l.records()) {
    ++n[static_cast<std::size_t>(r.outcome)];
    if (r.outcome == fate::server_error && first_server_error.empty())
      first_server_error = r.server_error;
  }
  std::string out;
  for (std::size_t f = 0; f < fate_count; ++f) {
    if (n[f] == 0) continue;
    if (!out.empty()) out += ' ';
    out += name(static_cast<fate>(f));
    out += '=';
    out += std::to_string(n[f]);
    if (static_cast<fate>(f) == fate::server_error) out += " (" + first_server_error + ")";
  }
  return out;
}

void report(const char* fault, const ledger& l, const incr_audit& a, const event::stats& s,
            std::size_t resent_while_down = 0) {
  std::printf(
      "[fault] %s: %zu commands: %s | INCR ran: %zu (ok %zu, uncertain %zu of which ran %zu, "
      "twice %zu) | issued while down %zu | events: disconnected %llu reconnect_scheduled %llu "
      "reconnected %llu retried %llu exhausted %llu timed_out %llu protocol %llu health %llu\n",
      fault, l.issued(), tally(l).c_str(), a.executions, a.succeeded, a.uncertain, a.uncertain_ran,
      a.ran_twice, resent_while_down, static_cast<unsigned long long>(s.disconnected),
      static_cast<unsigned long long>(s.reconnect_scheduled),
      static_cast<unsigned long long>(s.reconnected),
      static_cast<unsigned long long>(s.command_retried),
      static_cast<unsigned long long>(s.retries_exhausted),
      static_cast<unsigned long long>(s.command_timed_out),
      static_cast<unsigned long long>(s.protocol_error),
      static_cast<unsigned long long>(s.health_check_failed));
}

// A GET after the fault, waited for: the client has recovered.
void expect_recovered(reactor::reactor& r, connection& c, std::string_view key,
                      std::string_view value) {
  std::optional<result<std::optional<std::string>>> got;
  c.exec(cmd::get{key}, [&](result<std::optional<std::string>> v) { got.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      r, [&] { return got.has_value(); }, limit));
  ASSERT_TRUE(got->has_value()) << (got->has_error() ? got->error().message() : "server error");
  EXPECT_EQ(**got, std::optional<std::string>(value));
  EXPECT_TRUE(c.ready());
}

// ---------------------------------------------------------------------------------------------
// 1. redis-server SIGKILLed mid-pipeline, restarted on the same port.

// Kills `server` once 3000 commands are answered, with about a thousand in flight (some
// executed, some not even read by the server), restarts it 200 ms later, and checks every
// command's fate. `resumed_after`, when given, gets whether the reconnect resumed TLS.
void kill_and_restart_mid_pipeline(test::redis_server& server, const connection_config& config,
                                   const std::string& key_prefix, const char* name,
                                   bool* resumed_after = nullptr) {
  ASSERT_EQ(server.command({"SET", std::string(stream::get_key), std::string(stream::value)}),
            "+OK\r\n");
  auto r = make_reactor();
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*r, config};
  ASSERT_TRUE(connect(*r, c).has_value());
  down_watch watch{*r, l};
  stream s{c, l, key_prefix, 1000};
  std::atomic<bool> strike{false};
  s.trigger_at = 3000;
  s.trigger = [&strike] { strike = true; };
  fault_thread killer([&] {
    if (!wait_for_cue(strike)) return;
    server.kill();
    std::this_thread::sleep_for(200ms);
    server.start();
  });
  s.start();
  ASSERT_TRUE(run_stream_through_fault(*r, s))
      << l.done() << " of " << l.issued() << "; " << tally(l);
  killer.wait();

  expect_each_completed_once(l);
  const incr_audit a = audit_incrs(l, server);  // on the plaintext port for a TLS server
  expect_no_incr_ran_twice(a);
  expect_gets_succeeded(l);
  const std::size_t while_down = expect_issued_while_down_succeeded(l);
  EXPECT_GT(while_down, 0u);
  EXPECT_GT(l.count(fate::outcome_unknown, op::incr), 0u) << "the kill missed the pipeline";
  EXPECT_EQ(l.count(fate::outcome_unknown, op::incr) + a.succeeded, a.incrs)
      << "INCRs failed otherwise: " << tally(l);
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.disconnected, 1u);
  EXPECT_GE(st.reconnect_scheduled, 2u);  // refused while the server was down
  EXPECT_EQ(st.reconnected, 1u);
  EXPECT_EQ(st.retries_exhausted, 0u);
  if (resumed_after != nullptr) *resumed_after = c.tls_resumed();
  expect_recovered(*r, c, stream::get_key, stream::value);
  report(name, l, a, st, while_down);
}

TEST(FaultMatrix, ServerKilledMidPipelineAndRestarted) {
  test::redis_server server{durable()};
  ASSERT_NO_FATAL_FAILURE(
      kill_and_restart_mid_pipeline(server, config_for(server), "kill:", "sigkill+restart"));
}

// The same over TLS: the engine's records cut mid-pipeline, a full handshake on the restarted
// server (its new ticket keys refuse the kept session), every command accounted for as above.
TEST(FaultMatrix, TlsServerKilledMidPipelineAndRestarted) {
  const test::test_certificates certs;
  test::redis_server_options o = durable();
  o.tls =
      test::redis_tls_options{certs.cert("server"), certs.key("server"), certs.cert("ca"), false};
  test::redis_server server{o};
  connection_config config = config_for(server);
  config.tls = true;
  config.tls_options.ca_file = certs.cert("ca");
  bool resumed = true;
  ASSERT_NO_FATAL_FAILURE(
      kill_and_restart_mid_pipeline(server, config, "tls-kill:", "tls sigkill+restart", &resumed));
  EXPECT_FALSE(resumed) << "a restarted server cannot know the old ticket";
}

// ---------------------------------------------------------------------------------------------
// 2. CLIENT KILL TYPE normal from another connection, mid-pipeline.

TEST(FaultMatrix, ClientKilledMidPipeline) {
  test::redis_server server;
  server.command({"SET", std::string(stream::get_key), std::string(stream::value)});
  auto r = make_reactor();
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  down_watch watch{*r, l};
  stream s{c, l, "ck:", 1000};
  std::atomic<bool> strike{false};
  s.trigger_at = 3000;
  s.trigger = [&strike] { strike = true; };
  std::string killed;
  fault_thread killer([&] {
    if (!wait_for_cue(strike)) return;
    // Paused writes pile up unexecuted in the server, so the kill surely finds commands of
    // ours in flight (without the pause it may land between two rounds and catch none).
    server.command({"CLIENT", "PAUSE", "5000", "WRITE"});
    std::this_thread::sleep_for(20ms);
    killed = server.command({"CLIENT", "KILL", "TYPE", "normal"});
    server.command({"CLIENT", "UNPAUSE"});
  });
  s.start();
  ASSERT_TRUE(run_stream_through_fault(*r, s))
      << l.done() << " of " << l.issued() << "; " << tally(l);
  killer.wait();
  EXPECT_EQ(killed, ":1\r\n");  // our connection (the killer's own is skipped)

  expect_each_completed_once(l);
  const incr_audit a = audit_incrs(l, server);
  expect_no_incr_ran_twice(a);
  expect_gets_succeeded(l);
  const std::size_t while_down = expect_issued_while_down_succeeded(l);
  EXPECT_GT(l.count(fate::outcome_unknown, op::incr), 0u) << "the kill missed the pipeline";
  EXPECT_EQ(l.count(fate::outcome_unknown, op::incr) + a.succeeded, a.incrs) << tally(l);
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.disconnected, 1u);
  EXPECT_GE(st.reconnect_scheduled, 1u);
  EXPECT_EQ(st.reconnected, 1u);
  expect_recovered(*r, c, stream::get_key, stream::value);
  report("client-kill", l, a, st, while_down);
}

// A cut seen from coroutines: each awaits its INCRs one by one and goes on after a failure.
// Every await resumes once, every coroutine finishes. (Through the proxy, cutting the reply
// stream: with only one command per coroutine in flight, a CLIENT KILL often lands between two
// rounds and loses nothing, which proves less.)
task<> incr_worker(client& c, ledger& l, int worker, int n, int& finished) {
  for (int i = 0; i < n; ++i) {
    const std::string key = "co:" + std::to_string(worker) + ":" + std::to_string(i);
    const std::size_t id = l.issue(op::incr, key);
    const cmd::incr command{key};
    const result<std::int64_t> v = co_await c.exec(command);
    l.complete(id, v, v.has_value() && *v == 1);
  }
  ++finished;
}

TEST(FaultMatrix, ReplyCutUnderCoroutines) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  ledger l;  // before the client: its destructor resumes what is left
  int finished = 0;
  client c{*r, config_for(proxy)};
  ASSERT_TRUE(connect(*r, c.connection()).has_value());
  constexpr int workers = 100, each = 60;
  l.then = [&l, &proxy] {
    if (l.done() == 2000) proxy.cut_after(101, s2c);  // inside the 26th reply from now
  };
  for (int w = 0; w < workers; ++w)
    spawn(incr_worker(c, l, w, each, finished));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return finished == workers; }, limit))
      << finished << " coroutines finished; " << tally(l);
  EXPECT_EQ(l.issued(), static_cast<std::size_t>(workers * each));
  expect_each_completed_once(l);
  const incr_audit a = audit_incrs(l, server);
  expect_no_incr_ran_twice(a);
  EXPECT_GT(l.count(fate::outcome_unknown, op::incr), 0u) << "the cut missed the pipeline";
  EXPECT_EQ(l.count(fate::outcome_unknown, op::incr) + a.succeeded, a.incrs) << tally(l);
  EXPECT_EQ(r->events().stats().reconnected, 1u);
  report("reply cut (coroutines)", l, a, r->events().stats());
}

// ---------------------------------------------------------------------------------------------
// 3. DEBUG SLEEP past the commands' deadlines.

TEST(FaultMatrix, DebugSleepPastTheDeadline) {
  test::redis_server server;
  for (const char* k : {"a", "b", "c", "d"})
    server.command({"SET", k, std::string("value of ") + k});
  auto r = make_reactor();
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());

  const steady::time_point start = steady::now();
  std::optional<result<std::string>> slept;
  c.exec(cmd::raw<std::string>{"DEBUG", "SLEEP", "1"},
         [&](result<std::string> v) { slept.emplace(std::move(v)); });
  std::vector<std::size_t> short_ones, long_ones;
  for (int i = 0; i < 10; ++i) {
    short_ones.push_back(send_get(c, l, "a", "value of a", {.timeout = 100ms}));
    short_ones.push_back(send_incr(c, l, "sleep:" + std::to_string(i), {.timeout = 100ms}));
    long_ones.push_back(send_get(c, l, "b", "value of b", {.timeout = 3000ms}));
  }
  // Once the short ones have timed out (the server still asleep), new commands queue behind
  // the tombstones; each must get its own reply, not a late one meant for a dead command.
  ASSERT_TRUE(test::run_until(
      *r,
      [&] {
        return std::all_of(short_ones.begin(), short_ones.end(),
                           [&](std::size_t id) { return l[id].completions > 0; });
      },
      limit));
  const auto timed_out_after = steady::now() - start;
  EXPECT_FALSE(slept.has_value());  // still asleep
  std::vector<std::size_t> after;
  after.push_back(send_get(c, l, "c", "value of c"));
  after.push_back(send_incr(c, l, "sleep:after"));
  after.push_back(send_get(c, l, "d", "value of d"));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return l.all_done() && slept.has_value(); }, limit));

  expect_each_completed_once(l);
  for (const std::size_t id : short_ones) {
    EXPECT_EQ(l[id].outcome, fate::timeout) << id;
    const auto took = l[id].completed - l[id].issued;
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 600ms) << "a timeout must fire at once, not when the reply comes";
  }
  EXPECT_LT(timed_out_after, 650ms);  // the server sleeps 1 s
  for (const std::size_t id : long_ones)
    EXPECT_EQ(l[id].outcome, fate::value);
  for (const std::size_t id : after)
    EXPECT_EQ(l[id].outcome, fate::value);
  ASSERT_TRUE(slept->has_value());
  EXPECT_EQ(**slept, "OK");
  // The timed-out INCRs were written: the server ran them (once each) after its sleep.
  const incr_audit a = audit_incrs(l, server);
  expect_no_incr_ran_twice(a);
  EXPECT_EQ(a.executions, 11u);
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.command_timed_out, 20u);
  EXPECT_EQ(st.disconnected, 0u);  // a deadline is no reason to drop the connection
  EXPECT_EQ(c.pending(), 0u);      // the late replies were consumed
  report("debug-sleep past deadline", l, a, st);
}

// ---------------------------------------------------------------------------------------------
// 4. The server stays down longer than the retry budget.

TEST(FaultMatrix, ServerDownLongerThanTheRetryBudget) {
  test::redis_server server;
  server.command({"SET", "g", "v"});
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.retry = fast_retry(5);  // about 100 ms of trying
  ledger l;                   // before the connection: its destructor completes what is left
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::optional<result<std::string>> slept;
  // Held by the sleeping server when it dies: written, unanswered.
  c.exec(cmd::raw<std::string>{"DEBUG", "SLEEP", "1"},
         [&](result<std::string> v) { slept.emplace(std::move(v)); });
  std::vector<std::size_t> written;
  for (int i = 0; i < 10; ++i) {
    written.push_back(send_incr(c, l, "down:" + std::to_string(i)));
    written.push_back(send_get(c, l, "g", "v"));
  }
  test::run_for(*r, 50ms);
  ASSERT_EQ(l.done(), 0u);
  server.kill();
  // Commands issued while reconnecting wait, then share the fate of the kept ones.
  std::vector<std::size_t> waiting;
  std::optional<std::error_code> exhausted;
  event::listener<event::reconnect_scheduled> on_scheduled(
      r->events(), [&c, &l, &waiting](const event::reconnect_scheduled& e) {
        if (e.attempt == 1) {
          waiting.push_back(send_incr(c, l, "down:late"));
          waiting.push_back(send_get(c, l, "g", "v"));
        }
      });
  event::listener<event::retries_exhausted> on_exhausted(
      r->events(), [&exhausted](const event::retries_exhausted& e) { exhausted = e.error; });
  const steady::time_point start = steady::now();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return l.all_done() && slept.has_value(); }, limit))
      << tally(l);
  const auto took = steady::now() - start;

  expect_each_completed_once(l);
  ASSERT_TRUE(exhausted.has_value());
  EXPECT_EQ(*exhausted, make_error_code(errc::connection_refused));
  EXPECT_EQ(slept->error(), make_error_code(errc::outcome_unknown));
  for (const std::size_t id : written)
    EXPECT_EQ(l[id].outcome, l[id].what == op::incr ? fate::outcome_unknown : fate::transport)
        << id;
  ASSERT_EQ(waiting.size(), 2u);
  for (const std::size_t id : waiting) {
    EXPECT_EQ(l[id].outcome, fate::transport);
    EXPECT_EQ(l[id].error, *exhausted);
  }
  for (const std::size_t id : written)
    if (l[id].what == op::get) {
      EXPECT_EQ(l[id].error, *exhausted);
    }
  EXPECT_LT(took, 2s);
  EXPECT_EQ(c.state(), connection_state::closed);
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.retries_exhausted, 1u);
  EXPECT_EQ(st.reconnect_scheduled, 5u);
  EXPECT_EQ(st.reconnected, 0u);
  EXPECT_EQ(c.pending(), 0u);

  // Closed: a command fails at once, no waiting.
  std::optional<std::error_code> refused;
  c.exec(cmd::get{"g"}, [&](result<std::optional<std::string>> v) { refused = v.error(); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, make_error_code(errc::not_connected));

  // The server returns (empty: it had no persistence): connect() again works.
  server.start();
  server.command({"SET", "g", "back"});
  ASSERT_TRUE(connect(*r, c).has_value());
  expect_recovered(*r, c, "g", "back");
  const incr_audit a = audit_incrs(l, server);  // the old server's data is gone: all 0
  expect_no_incr_ran_twice(a);
  report("down past retry budget", l, a, st);
}

// ---------------------------------------------------------------------------------------------
// 5. Through the fault proxy.

struct proxied {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  std::unique_ptr<reactor::reactor> r = make_reactor();
};

TEST(FaultMatrix, AddedDelay) {
  proxied p;
  p.server.command({"SET", "a", "1"});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  p.proxy.set_delay(150ms);
  std::vector<std::size_t> quick, patient;
  for (int i = 0; i < 10; ++i) {
    quick.push_back(send_get(c, l, "a", "1", {.timeout = 50ms}));
    quick.push_back(send_incr(c, l, "delay:q" + std::to_string(i), {.timeout = 50ms}));
    patient.push_back(send_get(c, l, "a", "1", {.timeout = 2000ms}));
    patient.push_back(send_incr(c, l, "delay:p" + std::to_string(i)));
  }
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  for (const std::size_t id : quick) {
    EXPECT_EQ(l[id].outcome, fate::timeout);
    EXPECT_LT(l[id].completed - l[id].issued, 140ms);
  }
  for (const std::size_t id : patient) {
    EXPECT_EQ(l[id].outcome, fate::value);
    EXPECT_GE(l[id].completed - l[id].issued, 250ms);  // both directions delayed
  }
  p.proxy.set_delay(0ms);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return c.pending() == 0; }, limit));
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  EXPECT_EQ(a.executions, 20u);  // the timed-out INCRs ran too (they were sent)
  EXPECT_EQ(p.r->events().stats().disconnected, 0u);
  expect_recovered(*p.r, c, "a", "1");
  report("proxy delay 150ms", l, a, p.r->events().stats());
}

// A stream through the proxy, cut once 2000 commands are answered: `bytes` later in `dir`.
void cut_test(const char* fault, test::direction dir, std::size_t bytes) {
  proxied p;
  p.server.command({"SET", std::string(stream::get_key), std::string(stream::value)});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  down_watch watch{*p.r, l};
  stream s{c, l, std::string(fault) + ":", 1000};
  s.trigger_at = 2000;
  s.trigger = [&p, dir, bytes] { p.proxy.cut_after(bytes, dir); };
  s.start();
  ASSERT_TRUE(run_stream_through_fault(*p.r, s))
      << l.done() << " of " << l.issued() << "; " << tally(l);
  expect_each_completed_once(l);
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  expect_gets_succeeded(l);
  const std::size_t while_down = expect_issued_while_down_succeeded(l);
  EXPECT_GT(l.count(fate::outcome_unknown, op::incr), 0u);
  EXPECT_EQ(l.count(fate::outcome_unknown, op::incr) + a.succeeded, a.incrs) << tally(l);
  const event::stats& st = p.r->events().stats();
  EXPECT_EQ(st.disconnected, 1u);
  EXPECT_EQ(st.reconnected, 1u);
  EXPECT_GT(st.command_retried, 0u);  // written GETs went out again
  expect_recovered(*p.r, c, stream::get_key, stream::value);
  report(fault, l, a, st, while_down);
}

TEST(FaultMatrix, CutMidRequest) {
  // Requests are 24 to 30 bytes: 5001 bytes end inside one.
  cut_test("cut mid-request", c2s, 5'001);
}

TEST(FaultMatrix, CutMidReply) {
  // INCR replies are ":1\r\n", GET's "$1\r\nv\r\n": 4001 bytes end inside one.
  cut_test("cut mid-reply", s2c, 4'001);
}

TEST(FaultMatrix, CorruptedReplyByte) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  // 100 INCRs answer ":1\r\n" each: the 41st reply's type byte becomes '?'.
  p.proxy.corrupt_byte(40 * 4, s2c);
  for (int i = 0; i < 100; ++i)
    send_incr(c, l, "corrupt:" + std::to_string(i));
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  for (std::size_t id = 0; id < 100; ++id) {
    if (id < 40) {
      EXPECT_EQ(l[id].outcome, fate::value) << id;
    } else {
      EXPECT_EQ(l[id].outcome, fate::protocol) << id;
      EXPECT_EQ(l[id].error, make_error_code(errc::invalid_type_byte)) << id;
    }
  }
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  const event::stats& st = p.r->events().stats();
  EXPECT_EQ(st.protocol_error, 1u);
  EXPECT_EQ(st.disconnected, 1u);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return c.ready(); }, limit));
  EXPECT_EQ(st.reconnected, 1u);
  expect_recovered(*p.r, c, "g", "v");
  report("corrupted reply byte", l, a, st);
}

// A protocol error breaks the stream, not the commands that never went out: one issued by the
// last good reply's callback (queued, not yet written when the bad byte arrives) must be sent
// on the next connection, as for any other socket failure.
TEST(FaultMatrix, ProtocolErrorKeepsUnsentCommands) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  std::optional<std::size_t> unsent;
  p.proxy.corrupt_byte(4, s2c);  // the second reply's type byte
  const std::size_t first = l.issue(op::incr, "unsent:1");
  c.exec(cmd::incr{"unsent:1"}, [&](result<std::int64_t> v) {
    l.complete(first, v, v.has_value() && *v == 1);
    unsent = send_get(c, l, "g", "v");
  });
  const std::size_t second = send_incr(c, l, "unsent:2");
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return unsent && l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  EXPECT_EQ(l[first].outcome, fate::value);
  EXPECT_EQ(l[second].outcome, fate::protocol);
  EXPECT_EQ(l[*unsent].outcome, fate::value)
      << "never written, yet failed with " << l[*unsent].error.message();
}

// A reply cut after its first bytes were parsed cannot be started over: its command completes
// with the cause (even a read-only one), and the commands behind it are resent.
TEST(FaultMatrix, CutInsideAnAggregateReply) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  std::vector<std::string> push = {"RPUSH", "list"};
  for (int i = 0; i < 1000; ++i)
    push.push_back("element-" + std::to_string(i));
  p.server.command(std::vector<std::string_view>(push.begin(), push.end()));
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  p.proxy.cut_after(2000, s2c);  // the LRANGE reply is about 16 KB
  const std::size_t range = l.issue(op::other, "list");
  c.exec(cmd::raw<std::vector<std::string>>{"LRANGE", "list", "0", "-1"},
         [&](result<std::vector<std::string>> v) { l.complete(range, v, v && v->size() == 1000); });
  const std::size_t after = send_get(c, l, "g", "v");
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  EXPECT_EQ(l[range].outcome, fate::transport) << l[range].error.message();
  EXPECT_EQ(l[after].outcome, fate::value);
  EXPECT_EQ(p.r->events().stats().reconnected, 1u);
}

TEST(FaultMatrix, BlackHoleFailsTheHealthCheck) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  connection_config cfg = config_for(p.proxy);
  cfg.health_check_interval = 100ms;
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, cfg};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  expect_recovered(*p.r, c, "g", "v");
  // An idle connection into a black hole: only the health check can notice.
  p.proxy.set_black_hole(true);
  const steady::time_point start = steady::now();
  const event::stats& st = p.r->events().stats();
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return st.health_check_failed > 0; }, limit));
  const auto detected_after = steady::now() - start;
  EXPECT_LT(detected_after, 1s);
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(st.disconnected, 1u);
  // The reconnect's handshake is held by the black hole too: these wait for it.
  const std::size_t read = send_get(c, l, "g", "v");
  const std::size_t write = send_incr(c, l, "hole:1");
  test::run_for(*p.r, 100ms);
  EXPECT_EQ(l.done(), 0u);
  p.proxy.set_black_hole(false);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  EXPECT_EQ(l[read].outcome, fate::value);
  EXPECT_EQ(l[write].outcome, fate::value);
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  EXPECT_EQ(a.executions, 1u);
  EXPECT_EQ(st.health_check_failed, 1u);
  EXPECT_EQ(st.reconnected, 1u);
  expect_recovered(*p.r, c, "g", "v");
  report("black hole + health check", l, a, st, 2);
  std::printf("[fault] black hole detected after %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(detected_after).count()));
}

TEST(FaultMatrix, RefusedWhileReconnecting) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  down_watch watch{*p.r, l};
  // Issued once the connection knows it is down: none of these was ever written.
  event::listener<event::reconnect_scheduled> on_scheduled(
      p.r->events(), [&c, &l](const event::reconnect_scheduled& e) {
        if (e.attempt != 1) return;
        for (int i = 0; i < 20; ++i) {
          send_incr(c, l, "refused:" + std::to_string(i));
          send_get(c, l, "g", "v");
        }
      });
  const std::size_t accepted = p.proxy.connections_accepted();
  p.proxy.set_refuse(true);
  p.proxy.close_all();
  const event::stats& st = p.r->events().stats();
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return st.reconnect_scheduled >= 4; }, limit));
  EXPECT_EQ(l.done(), 0u);
  p.proxy.set_refuse(false);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.issued() == 40 && l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  EXPECT_EQ(l.count(fate::value, op::incr) + l.count(fate::value, op::get), 40u) << tally(l);
  EXPECT_EQ(expect_issued_while_down_succeeded(l), 40u);
  EXPECT_GE(p.proxy.connections_accepted() - accepted, 4u);  // refused attempts, then the one
  EXPECT_EQ(st.reconnected, 1u);
  EXPECT_EQ(st.handshake_failed, 0u);  // an EOF during the handshake is a transport failure
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  EXPECT_EQ(a.executions, 20u);
  report("refused while reconnecting", l, a, st, 40);
}

// Health checks watch for a dead connection, not a slow command: a BLPOP waiting on the
// server (its deadline is its own timeout plus the margin) must not be taken for a dead socket.
TEST(FaultMatrix, HealthCheckLeavesABlockingCommandAlone) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.health_check_interval = 100ms;
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::optional<result<cmd::blpop::response>> popped;
  c.exec(cmd::blpop{"empty", 600ms},
         [&](result<cmd::blpop::response> v) { popped.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return popped.has_value(); }, limit));
  EXPECT_TRUE(popped->has_value()) << (popped->has_error() ? popped->error().message() : "");
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.health_check_failed, 0u);
  EXPECT_EQ(st.disconnected, 0u);
}

// A command kept for resending whose deadline passes while the connection is down completes
// with errc::timeout and is never sent: an idempotent INCR shows it (the server never sees it),
// while its twin without a deadline is resent and runs.
TEST(FaultMatrix, DeadlinesHoldWhileReconnecting) {
  proxied p;
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  p.proxy.set_black_hole(true);
  const std::size_t expiring =
      send_incr(c, l, "held:expiring", {.timeout = 150ms, .idempotent = true});
  const std::size_t kept = send_incr(c, l, "held:kept", {.idempotent = true});
  const std::size_t read = send_get(c, l, "held:none", "", {.timeout = 150ms});
  p.r->poll();
  p.r->poll();
  p.proxy.set_refuse(true);
  p.proxy.close_all();  // the held bytes die with the connection: nothing reached the server
  p.proxy.set_black_hole(false);
  const event::stats& st = p.r->events().stats();
  // Both deadlines are 150 ms, but the read's may round up to the next 1 ms tick: wait for
  // both (under load they can fall in different loop turns).
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l[expiring].completions > 0 && l[read].completions > 0; }, limit));
  EXPECT_EQ(l[expiring].outcome, fate::timeout);
  EXPECT_EQ(l[read].outcome, fate::timeout);
  EXPECT_LT(l[expiring].completed - l[expiring].issued, 400ms);
  EXPECT_EQ(st.command_retried, 3u);  // all three were kept when the socket died
  EXPECT_EQ(st.reconnected, 0u);      // still refused
  p.proxy.set_refuse(false);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  EXPECT_EQ(l[kept].outcome, fate::value);
  EXPECT_EQ(p.server.command({"GET", "held:expiring"}), "$-1\r\n") << "sent after its deadline";
  EXPECT_EQ(p.server.command({"GET", "held:kept"}), "$1\r\n1\r\n");
}

// A server that accepts the connection but never answers the handshake (a black hole, a
// wedged server): connect() must still end, as connect_timeout and the retry budget say, and
// the commands waiting for it must fail, not wait forever.
TEST(FaultMatrix, HandshakeIntoABlackHoleEnds) {
  proxied p;
  connection_config cfg = config_for(p.proxy);
  cfg.connect_timeout = 200ms;
  cfg.retry = fast_retry(2);
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, cfg};
  p.proxy.set_black_hole(true);
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  send_get(c, l, "g", "");
  EXPECT_TRUE(test::run_until(
      *p.r, [&] { return outcome.has_value() && l.all_done(); }, 3s))
      << "connect() into a black hole never ended (state " << static_cast<int>(c.state()) << ")";
  if (outcome) {
    EXPECT_TRUE(outcome->has_error());
  }
  p.proxy.set_black_hole(false);
  c.close();
}

// The first connect() is retried like a reconnect: it ends once, when the server answers.
TEST(FaultMatrix, FirstConnectIsRetried) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  p.proxy.set_refuse(true);
  int outcomes = 0;
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) {
    ++outcomes;
    outcome = o;
  });
  const std::size_t waiting = send_get(c, l, "g", "v");
  const event::stats& st = p.r->events().stats();
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return st.reconnect_scheduled >= 3; }, limit));
  EXPECT_EQ(outcomes, 0);
  p.proxy.set_refuse(false);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return outcome && l.all_done(); }, limit));
  test::run_for(*p.r, 50ms);
  EXPECT_EQ(outcomes, 1);
  EXPECT_TRUE(outcome->has_value());
  EXPECT_EQ(l[waiting].outcome, fate::value);
  EXPECT_EQ(st.connected, 1u);
  EXPECT_EQ(st.reconnected, 0u);
}

// close() while reconnecting, from a failed command's callback: every command completes once
// (connection_closed for the rest), and no reconnect follows.
TEST(FaultMatrix, CloseFromACallbackWhileReconnecting) {
  proxied p;
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, config_for(p.proxy)};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  p.proxy.set_black_hole(true);
  const std::size_t closer = l.issue(op::incr, "close:0");
  c.exec(cmd::incr{"close:0"}, [&](result<std::int64_t> v) {
    l.complete(closer, v, v.has_value() && *v == 1);
    c.close();
  });
  for (int i = 1; i < 10; ++i) {
    send_get(c, l, "g", "");
    send_incr(c, l, "close:" + std::to_string(i));
  }
  p.r->poll();
  p.r->poll();
  p.proxy.close_all();
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  const std::uint64_t scheduled = p.r->events().stats().reconnect_scheduled;
  p.proxy.set_black_hole(false);
  test::run_for(*p.r, 100ms);
  expect_each_completed_once(l);
  EXPECT_EQ(l[closer].outcome, fate::outcome_unknown);
  EXPECT_EQ(c.state(), connection_state::closed);
  EXPECT_EQ(p.r->events().stats().reconnect_scheduled, scheduled) << "reconnected after close()";
  EXPECT_EQ(p.r->events().stats().reconnected, 0u);
  EXPECT_EQ(c.pending(), 0u);
}

// ---------------------------------------------------------------------------------------------
// 6. The bounded queue while reconnecting, and deadlines while queued.

TEST(FaultMatrix, BoundedQueueWhileReconnecting) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  connection_config cfg = config_for(p.proxy);
  cfg.max_queued_while_disconnected = 100;
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*p.r, cfg};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  p.proxy.set_refuse(true);
  p.proxy.close_all();
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return c.state() == connection_state::reconnecting; }, limit));

  // Deadlines hold while waiting: these leave the queue on time, and free their places.
  std::vector<std::size_t> expiring;
  for (int i = 0; i < 10; ++i)
    expiring.push_back(send_get(c, l, "g", "v", {.timeout = 50ms}));
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.done() == 10; }, limit));
  for (const std::size_t id : expiring) {
    EXPECT_EQ(l[id].outcome, fate::timeout);
    EXPECT_LT(l[id].completed - l[id].issued, 300ms);
  }

  std::vector<std::size_t> queued, overflow;
  for (int i = 0; i < 100; ++i)
    queued.push_back(i % 2 ? send_get(c, l, "g", "v")
                           : send_incr(c, l, "queue:" + std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    overflow.push_back(send_incr(c, l, "queue:over" + std::to_string(i)));
    EXPECT_EQ(l[overflow.back()].outcome, fate::queue_full) << "not at once";
  }
  EXPECT_EQ(c.pending(), 100u);
  p.proxy.set_refuse(false);
  ASSERT_TRUE(test::run_until(
      *p.r, [&] { return l.all_done(); }, limit))
      << tally(l);
  expect_each_completed_once(l);
  for (const std::size_t id : queued)
    EXPECT_EQ(l[id].outcome, fate::value);
  const incr_audit a = audit_incrs(l, p.server);
  expect_no_incr_ran_twice(a);
  EXPECT_EQ(a.executions, 50u);
  EXPECT_EQ(a.refused, 50u);
  report("bounded queue (100) while reconnecting", l, a, p.r->events().stats());
}

// ---------------------------------------------------------------------------------------------
// 7. A whole retry cycle allocates nothing once warm.

TEST(FaultMatrix, ARetryCycleAllocatesNothing) {
  proxied p;
  p.server.command({"SET", "g", "v"});
  connection_config cfg = config_for(p.proxy);
  cfg.retry = retry::retry_policy(retry::backoff::constant(1ms), 50);
  connection c{*p.r, cfg};
  ASSERT_TRUE(connect(*p.r, c).has_value());
  // Counts every heap allocation of this thread: operator new and mimalloc (byte buffers) alike.
  const dev::allocation_scope since_connected;
  std::size_t ok = 0, failed = 0;
  constexpr std::size_t per_cycle = 64;
  // The GETs are in flight (held by the black hole) when the proxy cuts the connection: the
  // client rewinds them, reconnects after its backoff, handshakes and resends them.
  auto cycle = [&] {
    const std::size_t target = ok + failed + per_cycle;
    p.proxy.set_black_hole(true);
    for (std::size_t i = 0; i < per_cycle; ++i)
      c.exec(cmd::get{"g"}, [&ok, &failed](result<std::optional<std::string>> v) {
        (v.has_value() && v->has_value() && **v == "v") ? ++ok : ++failed;
      });
    p.r->poll();
    p.r->poll();
    p.proxy.close_all();
    p.proxy.set_black_hole(false);
    return test::run_until(
        *p.r, [&] { return ok + failed == target; }, limit);
  };
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(cycle());  // warm: buffers, FIFOs, slot table at their working size
  // The counting works: connecting and warming up grew the connection's buffers.
  EXPECT_GT(since_connected.allocations(), 0u) << "allocations are not seen";
  const std::uint64_t reconnects = c.reconnects();
  const std::uint64_t retried = p.r->events().stats().command_retried;
  const dev::allocation_scope scope;
  const bool done = cycle();
  const std::uint64_t allocations = scope.allocations();
  ASSERT_TRUE(done);
  EXPECT_EQ(failed, 0u);
  EXPECT_EQ(c.reconnects(), reconnects + 1) << "the cycle did not reconnect";
  EXPECT_EQ(p.r->events().stats().command_retried, retried + per_cycle)
      << "the GETs were not written before the cut";
  EXPECT_EQ(allocations, 0u) << "heap allocations (operator new or mimalloc) during a retry cycle";
  std::printf("[fault] retry cycle (cut, reconnect, resend %zu GETs): %llu heap allocations\n",
              per_cycle, static_cast<unsigned long long>(allocations));
}

// ---------------------------------------------------------------------------------------------
// The blocking client rides out a restart with the same policy.

TEST(FaultMatrix, BlockingClientRidesOutARestart) {
  test::redis_server server;  // no persistence: the restarted server is empty (and loads nothing)
  blocking_client c{config_for(server)};
  EXPECT_TRUE(c.set("g", "v"));
  server.kill();
  fault_thread restarter([&] {
    std::this_thread::sleep_for(150ms);
    server.start();
  });
  // Written to the dead socket, read-only: resent once the server is back, no exception.
  std::optional<std::string> v{"stale"};
  EXPECT_NO_THROW(v = c.get("g"));
  restarter.wait();
  EXPECT_EQ(v, std::nullopt);
  EXPECT_NO_THROW(EXPECT_EQ(c.exec(cmd::incr{"n"}), 1));
  const event::stats& st = c.loop().events().stats();
  EXPECT_EQ(st.reconnected, 1u);
  EXPECT_GE(st.reconnect_scheduled, 2u);  // refused while the server was down
}

// A restarted server accepts connections (and HELLO) while it loads its dataset, and answers
// everything else with -LOADING until it is done. A client reconnecting meanwhile must wait
// the loading out, as redis-py does (BusyLoadingError is a ConnectionError there, so it is
// retried), instead of handing LOADING to the commands it resends or that waited for it.
TEST(FaultMatrix, ReconnectWhileTheServerLoadsWaitsItOut) {
  // 2000 keys in dump.rdb, loaded at 100 us each (about 300 ms), with the server answering
  // clients every KiB loaded, as it does every 2 MiB of a big dataset.
  test::redis_server server{
      {.args = {"--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024"}}};
  ASSERT_EQ(server.command({"DEBUG", "POPULATE", "2000", "load", "100"}), "+OK\r\n");
  server.command({"SET", "g", "v"});
  ASSERT_EQ(server.command({"SAVE"}), "+OK\r\n");
  auto r = make_reactor();
  ledger l;  // before the connection: its destructor completes what is left
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  event::listener<event::reconnect_scheduled> on_scheduled(
      r->events(), [&c, &l](const event::reconnect_scheduled& e) {
        if (e.attempt != 1) return;
        send_incr(c, l, "load:new");
        send_get(c, l, "g", "v");
      });
  server.kill();
  fault_thread restarter([&] { server.start(); });
  send_get(c, l, "g", "v");  // written to the dead socket, resent
  ASSERT_TRUE(test::run_until(
      *r, [&] { return l.issued() == 3 && l.all_done(); }, limit))
      << tally(l);
  restarter.wait();
  expect_each_completed_once(l);
  EXPECT_EQ(l.count(fate::value, op::get) + l.count(fate::value, op::incr), 3u)
      << "LOADING reached the commands: " << tally(l);
}

}  // namespace
}  // namespace uredis
