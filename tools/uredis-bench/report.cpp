#include "report.hpp"

namespace uredis::bench {

void test_report::set_latency(const util::histogram& h) noexcept {
  p50 = h.percentile(50);
  p90 = h.percentile(90);
  p99 = h.percentile(99);
  p999 = h.percentile(99.9);
  max = h.max();
}

void print_csv_header(std::FILE* out) {
  std::fprintf(out,
               "\"test\",\"rps\",\"p50_us\",\"p90_us\",\"p99_us\",\"p999_us\",\"max_us\","
               "\"client_cpu_ns_per_op\",\"errors\",\"reconnects\"\n");
}

void print_report(std::FILE* out, const options& o, const test_report& r) {
  const auto title = static_cast<int>(r.title.size());
  if (o.csv) {
    std::fprintf(out,
                 "\"%.*s\",\"%.2f\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%.0f\",\"%llu\","
                 "\"%llu\"\n",
                 title, r.title.data(), r.ops_per_sec, static_cast<unsigned long long>(r.p50),
                 static_cast<unsigned long long>(r.p90), static_cast<unsigned long long>(r.p99),
                 static_cast<unsigned long long>(r.p999), static_cast<unsigned long long>(r.max),
                 r.client_cpu_ns_per_op, static_cast<unsigned long long>(r.errors),
                 static_cast<unsigned long long>(r.reconnects));
  } else if (o.quiet) {
    std::fprintf(out,
                 "%.*s: %.2f requests per second, p50=%llu p90=%llu p99=%llu p99.9=%llu "
                 "max=%llu usec, cpu=%.0f ns/op, errors=%llu\n",
                 title, r.title.data(), r.ops_per_sec, static_cast<unsigned long long>(r.p50),
                 static_cast<unsigned long long>(r.p90), static_cast<unsigned long long>(r.p99),
                 static_cast<unsigned long long>(r.p999), static_cast<unsigned long long>(r.max),
                 r.client_cpu_ns_per_op, static_cast<unsigned long long>(r.errors));
  } else {
    std::fprintf(out, "====== %.*s ======\n", title, r.title.data());
    std::fprintf(out, "  %llu requests completed in %.2f seconds\n",
                 static_cast<unsigned long long>(r.requests), r.seconds);
    std::fprintf(out, "  %zu parallel clients, %zu shard(s), pipeline %zu\n", o.clients, o.threads,
                 o.pipeline);
    std::fprintf(out, "  %zu bytes payload\n\n", o.data_size);
    std::fprintf(out, "  latency (usec): p50=%llu p90=%llu p99=%llu p99.9=%llu max=%llu\n",
                 static_cast<unsigned long long>(r.p50), static_cast<unsigned long long>(r.p90),
                 static_cast<unsigned long long>(r.p99), static_cast<unsigned long long>(r.p999),
                 static_cast<unsigned long long>(r.max));
    std::fprintf(out, "  client cpu: %.0f ns/op\n", r.client_cpu_ns_per_op);
    std::fprintf(out, "  errors: %llu, reconnects: %llu\n",
                 static_cast<unsigned long long>(r.errors),
                 static_cast<unsigned long long>(r.reconnects));
    std::fprintf(out, "  throughput: %.2f requests per second\n\n", r.ops_per_sec);
  }
}

bool write_json(const std::string& path, const std::vector<test_report>& reports) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f, "[\n");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const test_report& r = reports[i];
    // Titles are our own fixed upper-case names: nothing to escape.
    std::fprintf(f,
                 "  {\"test\": \"%.*s\", \"requests\": %llu, \"ops_per_sec\": %.2f, "
                 "\"errors\": %llu, \"reconnects\": %llu, \"client_cpu_ns_per_op\": %.1f, "
                 "\"latency_us\": {\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, "
                 "\"p999\": %llu, \"max\": %llu}}%s\n",
                 static_cast<int>(r.title.size()), r.title.data(),
                 static_cast<unsigned long long>(r.requests), r.ops_per_sec,
                 static_cast<unsigned long long>(r.errors),
                 static_cast<unsigned long long>(r.reconnects), r.client_cpu_ns_per_op,
                 static_cast<unsigned long long>(r.p50), static_cast<unsigned long long>(r.p90),
                 static_cast<unsigned long long>(r.p99), static_cast<unsigned long long>(r.p999),
                 static_cast<unsigned long long>(r.max), i + 1 < reports.size() ? "," : "");
  }
  std::fprintf(f, "]\n");
  return std::fclose(f) == 0;
}

}  // namespace uredis::bench
