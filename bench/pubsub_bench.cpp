// pubsub_bench: one subscriber connection receiving a stream that redis-benchmark publishes,
// uredis's subscriber against a hiredis one, on the same private redis-server, in alternating
// rounds. For each: messages received (none may be lost), messages per second, and the
// subscriber thread's CPU time per message (CLOCK_THREAD_CPUTIME_ID, user and system together,
// from the subscription's confirmation to the end of the stream; the user/system split is
// getrusage's, counted in scheduler ticks, so only roughly).
//
//   pubsub_bench [--messages N] [--rounds R]
//
// The publisher is `redis-benchmark -P 64 -n N -q PUBLISH ch __rand_int__` (50 connections, its
// default). The server's pub/sub output-buffer limit is lifted so that neither subscriber is
// disconnected for lagging: a lost message would then be the client's own.

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "private_server.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/reactor/reactor.hpp"

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

struct cpu_times {
  double total = 0;  // CLOCK_THREAD_CPUTIME_ID: exact
  double user = 0;   // getrusage: the split, counted in scheduler ticks (coarse)
  double system = 0;
};

// The calling thread's CPU time so far.
cpu_times thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return {static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9,
          seconds(u.ru_utime), seconds(u.ru_stime)};
}

cpu_times operator-(const cpu_times& a, const cpu_times& b) {
  return {a.total - b.total, a.user - b.user, a.system - b.system};
}

struct outcome {
  std::uint64_t published = 0;  // PUBLISH commands the server ran in the round
  std::uint64_t received = 0;
  cpu_times cpu;    // from the confirmation to the end of the stream
  double rate = 0;  // messages per second, between the first and the last clock read
  double cpu_seconds() const { return cpu.total; }
};

// What a subscriber thread shares with the main thread.
struct handoff {
  std::atomic<bool> subscribed{false};
  std::atomic<bool> give_up{false};  // the publisher is done and the stream went quiet
  outcome result;
};

constexpr std::string_view channel = "ch";

// Counts a message; reads the clock for the first one and every 1024th after it (a clock read
// per message would cost as much as receiving it), so that the rate is counted / (last - first).
inline void note_arrival(std::uint64_t& received, clock_type::time_point& first,
                         clock_type::time_point& last, std::uint64_t& counted) {
  if (received == 0) {
    first = clock_type::now();
  } else if ((received & 1023) == 0) {
    last = clock_type::now();
    counted = received;
  }
  ++received;
}

void run_uredis(std::uint16_t port, handoff& h) {
  pthread_setname_np(pthread_self(), "uredis-sub");
  auto created = uredis::reactor::reactor::create();
  if (!created) {
    std::fprintf(stderr, "reactor: %s\n", created.error().message().c_str());
    std::exit(1);
  }
  uredis::reactor::reactor& r = **created;
  uredis::connection_config config;
  config.port = port;
  config.command_timeout = std::chrono::milliseconds(0);
  uredis::pubsub::subscriber sub{r, config};
  std::optional<uredis::result<void>> ready;
  sub.connect([&](const uredis::result<void>& o) { ready = o; });
  r.run_until([&] { return ready.has_value(); });
  if (!*ready) std::exit(1);
  std::uint64_t received = 0, counted = 0;
  clock_type::time_point first{}, last{};
  std::optional<uredis::result<void>> subscribed;
  sub.subscribe(
      channel,
      [&](const uredis::pubsub::message&) { note_arrival(received, first, last, counted); },
      [&](const uredis::result<void>& o) { subscribed = o; });
  r.run_until([&] { return subscribed.has_value(); });
  if (!*subscribed) std::exit(1);
  const cpu_times cpu0 = thread_cpu();
  h.subscribed = true;
  // A timer turns the loop now and then, so that giving up is noticed on a quiet stream.
  uredis::reactor::timer tick;
  tick.set_callback([&r, &tick] { r.timers().arm_in(tick, std::chrono::milliseconds(100)); });
  r.timers().arm_in(tick, std::chrono::milliseconds(100));
  r.run_until([&] { return h.give_up.load(); });
  h.result = {0, received, thread_cpu() - cpu0,
              static_cast<double>(counted) / std::chrono::duration<double>(last - first).count()};
}

void run_hiredis(std::uint16_t port, handoff& h) {
  pthread_setname_np(pthread_self(), "hiredis-sub");
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) std::exit(1);
  auto* confirm = static_cast<redisReply*>(redisCommand(c, "SUBSCRIBE %s", channel.data()));
  if (confirm == nullptr) std::exit(1);
  freeReplyObject(confirm);
  timeval quiet{0, 200'000};  // a read that waits this long ends the round early
  redisSetTimeout(c, quiet);
  const cpu_times cpu0 = thread_cpu();
  h.subscribed = true;
  std::uint64_t received = 0, counted = 0;
  clock_type::time_point first{}, last{};
  while (!h.give_up) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK) {
      c->err = 0;  // a timeout on a quiet stream: look at give_up, wait on
      continue;
    }
    note_arrival(received, first, last, counted);
    freeReplyObject(reply);
  }
  h.result = {0, received, thread_cpu() - cpu0,
              static_cast<double>(counted) / std::chrono::duration<double>(last - first).count()};
  redisFree(c);
}

// Runs redis-benchmark to completion.
bool publish(std::uint16_t port, std::uint64_t messages) {
  const std::string p = std::to_string(port), n = std::to_string(messages);
  std::vector<std::string> args = {
      "redis-benchmark",    "-p",          p, "-P", "64", "-n", n, "-q", "PUBLISH",
      std::string(channel), "__rand_int__"};
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "redis-benchmark", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::fprintf(stderr, "cannot run redis-benchmark: %s\n", std::strerror(rc));
    return false;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// PUBLISH commands the server has run so far (INFO commandstats).
std::uint64_t publishes_so_far(std::uint16_t port) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) std::exit(1);
  auto* info = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
  std::uint64_t calls = 0;
  if (info != nullptr && info->type == REDIS_REPLY_STRING) {  // RESP2: a bulk string
    const std::string text(info->str, info->len);
    const std::size_t at = text.find("cmdstat_publish:calls=");
    if (at != std::string::npos) calls = std::strtoull(text.c_str() + at + 22, nullptr, 10);
  }
  freeReplyObject(info);
  redisFree(c);
  return calls;
}

template <class Subscriber>
outcome round(std::uint16_t port, std::uint64_t messages, Subscriber run) {
  handoff h;
  std::thread t([&] { run(port, h); });
  while (!h.subscribed)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::uint64_t before = publishes_so_far(port);
  if (!publish(port, messages)) std::exit(1);
  // Every message is on its way once redis-benchmark is done; give a lagging subscriber time.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  h.give_up = true;
  t.join();
  h.result.published = publishes_so_far(port) - before;
  return h.result;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t messages = 2'000'000;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--messages") == 0) messages = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  uredis::bench::private_server server;
  std::string error;
  if (!server.start(error)) {
    std::fprintf(stderr, "redis-server: %s\n", error.c_str());
    return 1;
  }
  if (redisContext* c = redisConnect("127.0.0.1", server.port()); c != nullptr && !c->err) {
    freeReplyObject(redisCommand(c, "CONFIG SET client-output-buffer-limit %s", "pubsub 0 0 0"));
    redisFree(c);
  }

  std::vector<outcome> ours, theirs;
  for (int i = 0; i < rounds; ++i) {
    ours.push_back(round(server.port(), messages, run_uredis));
    theirs.push_back(round(server.port(), messages, run_hiredis));
  }
  auto report = [&](const char* name, std::vector<outcome>& all) {
    std::sort(all.begin(), all.end(), [](const outcome& a, const outcome& b) {
      return a.cpu_seconds() / static_cast<double>(a.received) <
             b.cpu_seconds() / static_cast<double>(b.received);
    });
    const outcome& m = all[all.size() / 2];  // the median round by CPU per message
    std::uint64_t lost = 0;
    for (const outcome& o : all)
      lost += o.published > o.received ? o.published - o.received : 0;
    const double n = static_cast<double>(m.received);
    std::printf(
        "%-8s received %llu of %llu  lost (all rounds) %llu  %.0f msg/s  cpu %.1f ns/msg "
        "(ticks: user %.1f, sys %.1f)\n",
        name, static_cast<unsigned long long>(m.received),
        static_cast<unsigned long long>(m.published), static_cast<unsigned long long>(lost), m.rate,
        m.cpu_seconds() * 1e9 / n, m.cpu.user * 1e9 / n, m.cpu.system * 1e9 / n);
    return m;
  };
  std::printf(
      "pubsub_bench: redis-benchmark -P 64 -n %llu PUBLISH ch __rand_int__, %d rounds "
      "each (median round shown)\n",
      static_cast<unsigned long long>(messages), rounds);
  const outcome u = report("uredis", ours);
  const outcome h = report("hiredis", theirs);
  std::printf("ratio uredis/hiredis: cpu per message %.2fx, messages per second %.2fx\n",
              (u.cpu_seconds() / static_cast<double>(u.received)) /
                  (h.cpu_seconds() / static_cast<double>(h.received)),
              u.rate / h.rate);
  bool lost = false;
  for (const auto* all : {&ours, &theirs})
    for (const outcome& o : *all)
      lost = lost || o.received != o.published;
  return lost ? 2 : 0;
}
