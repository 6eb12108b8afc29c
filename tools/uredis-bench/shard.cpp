#include "shard.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "uredis/reactor/reactor.hpp"

namespace uredis::bench {
namespace {

using clock_type = std::chrono::steady_clock;

// One connection of the shard and its in-flight send times. Pinned: callbacks point at it.
struct client_slot {
  client_slot(reactor::reactor& r, const connection_config& config, const options& o,
              std::string_view value, std::uint64_t seed)
      : conn(r, config),
        requests(o.keyspace, value, seed),
        sent(std::make_unique<clock_type::time_point[]>(o.pipeline)),
        depth(o.pipeline) {}

  connection conn;
  request_builder requests;
  std::unique_ptr<clock_type::time_point[]> sent;  // ring of `depth` send times
  std::size_t depth;
  std::uint64_t issued = 0;
  std::uint64_t answered = 0;
  bool down = false;
};

class loop {
 public:
  loop(test_kind kind, std::uint64_t requests, shard_result& out)
      : kind_(kind), unissued_(requests), requests_(requests), out_(out) {}

  void start(std::vector<std::unique_ptr<client_slot>>& slots) {
    for (auto& s : slots) {
      if (!s->conn.ready()) continue;
      ++live_;
      for (std::size_t i = 0; i < s->depth && !s->down; ++i)
        issue(*s);
    }
  }

  bool finished() const noexcept { return out_.completed == requests_ || live_ == 0; }

 private:
  void issue(client_slot& s) {
    if (unissued_ == 0) return;
    --unissued_;
    s.sent[s.issued % s.depth] = clock_type::now();
    ++s.issued;
    s.requests.issue(kind_, s.conn, [this, &s](bool ok) noexcept { on_reply(s, ok); });
  }

  void on_reply(client_slot& s, bool ok) {
    const auto elapsed = clock_type::now() - s.sent[s.answered % s.depth];
    ++s.answered;
    out_.latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
    ++out_.completed;
    if (!ok) ++out_.errors;
    if (!s.conn.ready()) {
      // Closed (a transport error): its requests go to the other connections.
      if (!s.down) {
        s.down = true;
        --live_;
      }
      return;
    }
    issue(s);
  }

  test_kind kind_;
  std::uint64_t unissued_;
  std::uint64_t requests_;
  std::size_t live_ = 0;
  shard_result& out_;
};

}  // namespace

void run_shard(const options& o, const connection_config& config, const test_info& test,
               std::uint64_t requests, std::size_t clients, std::size_t index, std::barrier<>& sync,
               shard_result& out) {
  auto created = reactor::reactor::create();
  if (!created) {
    out.failure = "cannot create the reactor: " + created.error().message();
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    return;
  }
  reactor::reactor& r = **created;
  const std::string value(o.data_size, 'x');  // every value: one buffer, viewed

  std::vector<std::unique_ptr<client_slot>> slots;
  slots.reserve(clients);
  std::size_t connecting = clients;
  for (std::size_t i = 0; i < clients; ++i) {
    slots.push_back(std::make_unique<client_slot>(r, config, o, value, (index << 32) + i + 1));
    slots.back()->conn.connect([&connecting, &out](const result<void>& outcome) {
      --connecting;
      if (!outcome && out.failure.empty())
        out.failure = "cannot connect: " + outcome.error().message();
    });
  }
  r.run_until([&] { return connecting == 0 || r.error(); });
  if (r.error() && out.failure.empty()) out.failure = "reactor: " + r.error().message();

  loop l{test.kind, requests, out};
  sync.arrive_and_wait();
  if (out.failure.empty()) {
    l.start(slots);
    r.run_until([&] { return l.finished() || r.error(); });
    if (r.error()) out.failure = "reactor: " + r.error().message();
  }
  sync.arrive_and_wait();
  for (auto& s : slots)
    s->conn.close();
}

}  // namespace uredis::bench
