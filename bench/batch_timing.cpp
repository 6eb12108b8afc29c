// batch_timing: N SETs (default 1,000) against a redis-server, timed by hand, three ways on one
// blocking_client: as one run-time batch (blocking_client::exec(batch): pushed, sent in one
// send, every reply read), as N blocking set() calls one by one (a round trip each), and the
// batch again on the coroutine API (co_await client.exec(batch)). Prints the median and the
// minimum of ROUNDS rounds of each, in milliseconds per N SETs. scripts/batch_timing.sh runs it
// beside redis-py's pipeline on the same private server.
//
//   batch_timing PORT [N] [ROUNDS]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "uredis/client/batch.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/strings.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct summary {
  double median_ms;
  double min_ms;
};

template <class Round>
summary time_rounds(int rounds, Round&& round) {
  std::vector<double> ms;
  round();  // warm: buffers, connection
  for (int i = 0; i < rounds; ++i) {
    const auto start = clock_type::now();
    round();
    ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

uredis::task<> send_batch(uredis::client& c, uredis::batch<uredis::cmd::applied>& b, bool& ok) {
  ok = true;
  for (const auto& r : co_await c.exec(b))
    ok = ok && r.has_value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: batch_timing PORT [N] [ROUNDS]\n");
    return 2;
  }
  const std::string url = std::string("redis://127.0.0.1:") + argv[1];
  const int n = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 50;

  std::vector<std::string> keys, values;
  for (int i = 0; i < n; ++i) {
    keys.push_back("key:" + std::to_string(i));
    values.push_back("value:" + std::to_string(i));
  }

  uredis::blocking_client c{url};
  uredis::batch<uredis::cmd::applied> b;
  bool failed = false;
  const summary batched = time_rounds(rounds, [&] {
    b.clear();
    for (int i = 0; i < n; ++i)
      b.push(uredis::cmd::set{keys[i], values[i]});
    for (const auto& r : c.exec(b))
      failed = failed || !r.has_value();
  });
  const summary one_by_one = time_rounds(rounds, [&] {
    for (int i = 0; i < n; ++i)
      failed = failed || !c.set(keys[i], values[i]);
  });

  auto reactor = uredis::reactor::reactor::create();
  if (!reactor) return 1;
  uredis::client co{**reactor, c.config()};
  std::optional<uredis::result<void>> connected;
  co.connection().connect([&](const uredis::result<void>& r) { connected = r; });
  (*reactor)->run_until([&] { return connected.has_value(); });
  if (!*connected) return 1;
  const summary coroutine = time_rounds(rounds, [&] {
    b.clear();
    for (int i = 0; i < n; ++i)
      b.push(uredis::cmd::set{keys[i], values[i]});
    bool ok = false, done = false;
    auto body = [&]() -> uredis::task<> {
      co_await send_batch(co, b, ok);
      done = true;
    };
    uredis::spawn(body());
    (*reactor)->run_until([&] { return done; });
    failed = failed || !ok;
  });
  if (failed) {
    std::fprintf(stderr, "a SET failed\n");
    return 1;
  }
  std::printf("%-44s %9s %9s\n", "", "median ms", "min ms");
  std::printf("%-44s %9.3f %9.3f\n", "uredis blocking exec(batch) of the SETs", batched.median_ms,
              batched.min_ms);
  std::printf("%-44s %9.3f %9.3f\n", "uredis co_await exec(batch) of the SETs", coroutine.median_ms,
              coroutine.min_ms);
  std::printf("%-44s %9.3f %9.3f\n", "uredis blocking set() one by one", one_by_one.median_ms,
              one_by_one.min_ms);
  return 0;
}
