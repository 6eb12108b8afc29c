#include "run.hpp"

#include <sys/resource.h>

#include <barrier>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "shard.hpp"

namespace uredis::bench {
namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// The share of `total` that part `i` of `parts` gets: the remainder goes to the first ones.
std::uint64_t share(std::uint64_t total, std::size_t parts, std::size_t i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

}  // namespace

bool run_test(const options& o, const connection_config& config, const test_info& test,
              test_report& report, std::string& error) {
  const std::size_t shards = o.threads;
  // Histograms are ~16 KiB each: on the heap, not on the stack.
  std::vector<std::unique_ptr<shard_result>> results;
  for (std::size_t i = 0; i < shards; ++i)
    results.push_back(std::make_unique<shard_result>());
  std::barrier<> sync(static_cast<std::ptrdiff_t>(shards + 1));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < shards; ++i)
    threads.emplace_back([&, i] {
      run_shard(o, config, test, share(o.requests, shards, i), share(o.clients, shards, i), i, sync,
                *results[i]);
    });

  sync.arrive_and_wait();
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  sync.arrive_and_wait();
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = cpu_seconds();
  for (auto& t : threads)
    t.join();

  auto merged = std::make_unique<util::histogram>();
  report = test_report{};
  report.title = test.title;
  for (const auto& r : results) {
    if (!r->failure.empty() && error.empty()) error = r->failure;
    merged->merge(r->latency);
    report.requests += r->completed;
    report.errors += r->errors;
    report.reconnects += r->reconnects;
  }
  report.seconds = std::chrono::duration<double>(t1 - t0).count();
  report.ops_per_sec =
      report.seconds > 0 ? static_cast<double>(report.requests) / report.seconds : 0;
  report.client_cpu_ns_per_op =
      report.requests > 0 ? (cpu1 - cpu0) * 1e9 / static_cast<double>(report.requests) : 0;
  report.set_latency(*merged);
  return error.empty();
}

}  // namespace uredis::bench
