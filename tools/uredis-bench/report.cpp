#include "report.hpp"

namespace uredis::bench {
namespace {

using ull = unsigned long long;

// `s` as the inside of a JSON string.
std::string json_escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// `s` as the inside of a CSV field in double quotes.
std::string csv_escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out;
}

}  // namespace

void test_report::set_latency(const util::histogram& h) noexcept {
  p50 = h.percentile(50);
  p90 = h.percentile(90);
  p99 = h.percentile(99);
  p999 = h.percentile(99.9);
  max = h.max();
}

void print_csv_header(std::FILE* out, const options& o) {
  std::fprintf(
      out,
      "\"test\",\"rps\",\"p50_us\",\"p90_us\",\"p99_us\",\"p999_us\",\"max_us\","
      "\"client_cpu_ns_per_op\",\"errors\",\"reconnects\"%s%s%s\n",
      o.count_allocations ? ",\"allocations\"" : "",
      o.server_cpu ? ",\"server_cpu_ns_per_op\"" : "",
      o.cache_max_bytes > 0 ? ",\"cache_hits\",\"cache_misses\",\"cache_invalidations\"" : "");
}

void print_report(std::FILE* out, const options& o, const test_report& r) {
  if (o.csv) {
    const std::string title = csv_escaped(r.title);
    std::fprintf(out,
                 "\"%s\",\"%.2f\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%.0f\",\"%llu\","
                 "\"%llu\"",
                 title.c_str(), r.ops_per_sec, ull{r.p50}, ull{r.p90}, ull{r.p99}, ull{r.p999},
                 ull{r.max}, r.client_cpu_ns_per_op, ull{r.errors}, ull{r.reconnects});
    if (o.count_allocations) std::fprintf(out, ",\"%llu\"", ull{r.allocations});
    if (o.server_cpu) {
      if (r.server_cpu_ns_per_op >= 0) {
        std::fprintf(out, ",\"%.0f\"", r.server_cpu_ns_per_op);
      } else {
        std::fprintf(out, ",\"\"");
      }
    }
    if (o.cache_max_bytes > 0)
      std::fprintf(out, ",\"%llu\",\"%llu\",\"%llu\"", ull{r.cache.hits}, ull{r.cache.misses},
                   ull{r.cache.invalidations});
    std::fprintf(out, "\n");
    return;
  }
  const auto title = static_cast<int>(r.title.size());
  if (o.quiet) {
    std::fprintf(out,
                 "%.*s: %.2f requests per second, p50=%llu p90=%llu p99=%llu p99.9=%llu "
                 "max=%llu usec, cpu=%.0f ns/op, errors=%llu reconnects=%llu",
                 title, r.title.data(), r.ops_per_sec, ull{r.p50}, ull{r.p90}, ull{r.p99},
                 ull{r.p999}, ull{r.max}, r.client_cpu_ns_per_op, ull{r.errors}, ull{r.reconnects});
    if (o.count_allocations) std::fprintf(out, " allocations=%llu", ull{r.allocations});
    if (r.server_cpu_ns_per_op >= 0)
      std::fprintf(out, " server_cpu=%.0f ns/op", r.server_cpu_ns_per_op);
    if (o.cache_max_bytes > 0)
      std::fprintf(out, " cache: hits=%llu misses=%llu invalidations=%llu", ull{r.cache.hits},
                   ull{r.cache.misses}, ull{r.cache.invalidations});
    std::fprintf(out, "\n");
    return;
  }
  std::fprintf(out, "====== %.*s ======\n", title, r.title.data());
  std::fprintf(out, "  %llu requests completed in %.2f seconds\n", ull{r.requests}, r.seconds);
  std::fprintf(out, "  %zu parallel clients, %zu shard(s), pipeline %zu\n", o.clients, o.threads,
               o.pipeline);
  if (o.cluster)
    std::fprintf(out,
                 "  cluster: one cluster client per shard, one connection per primary; the "
                 "clients are request streams sharing it\n");
  std::fprintf(out, "  %zu bytes payload\n", o.data_size);
  if (o.rate > 0) std::fprintf(out, "  fixed rate: %.2f requests per second\n", o.rate);
  std::fprintf(out, "\n  latency (usec): p50=%llu p90=%llu p99=%llu p99.9=%llu max=%llu\n",
               ull{r.p50}, ull{r.p90}, ull{r.p99}, ull{r.p999}, ull{r.max});
  std::fprintf(out, "  client cpu: %.0f ns/op\n", r.client_cpu_ns_per_op);
  if (r.server_cpu_ns_per_op >= 0)
    std::fprintf(out, "  server cpu: %.0f ns/op\n", r.server_cpu_ns_per_op);
  if (o.cache_max_bytes > 0) {
    const std::uint64_t lookups = r.cache.hits + r.cache.misses;
    std::fprintf(out,
                 "  client-side cache: hits=%llu misses=%llu (hit ratio %.1f%%) "
                 "invalidations=%llu evictions=%llu entries=%llu bytes=%llu\n",
                 ull{r.cache.hits}, ull{r.cache.misses},
                 lookups > 0
                     ? 100.0 * static_cast<double>(r.cache.hits) / static_cast<double>(lookups)
                     : 0.0,
                 ull{r.cache.invalidations}, ull{r.cache.evictions}, ull{r.cache.entries},
                 ull{r.cache.bytes});
  }
  std::fprintf(out, "  errors: %llu, reconnects: %llu\n", ull{r.errors}, ull{r.reconnects});
  if (o.count_allocations)
    std::fprintf(out, "  heap allocations while measuring: %llu\n", ull{r.allocations});
  std::fprintf(out, "  throughput: %.2f requests per second\n\n", r.ops_per_sec);
}

bool write_json(const std::string& path, const options& o,
                const std::vector<test_report>& reports) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f, "[\n");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const test_report& r = reports[i];
    std::fprintf(f,
                 "  {\"test\": \"%s\", \"requests\": %llu, \"ops_per_sec\": %.2f, "
                 "\"errors\": %llu, \"reconnects\": %llu, \"client_cpu_ns_per_op\": %.1f, ",
                 json_escaped(r.title).c_str(), ull{r.requests}, r.ops_per_sec, ull{r.errors},
                 ull{r.reconnects}, r.client_cpu_ns_per_op);
    if (o.count_allocations) std::fprintf(f, "\"allocations\": %llu, ", ull{r.allocations});
    if (r.server_cpu_ns_per_op >= 0)
      std::fprintf(f, "\"server_cpu_ns_per_op\": %.1f, ", r.server_cpu_ns_per_op);
    if (o.cache_max_bytes > 0)
      std::fprintf(f,
                   "\"cache\": {\"hits\": %llu, \"misses\": %llu, \"invalidations\": %llu, "
                   "\"evictions\": %llu, \"entries\": %llu, \"bytes\": %llu}, ",
                   ull{r.cache.hits}, ull{r.cache.misses}, ull{r.cache.invalidations},
                   ull{r.cache.evictions}, ull{r.cache.entries}, ull{r.cache.bytes});
    std::fprintf(f,
                 "\"latency_us\": {\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"p999\": %llu, "
                 "\"max\": %llu}}%s\n",
                 ull{r.p50}, ull{r.p90}, ull{r.p99}, ull{r.p999}, ull{r.max},
                 i + 1 < reports.size() ? "," : "");
  }
  std::fprintf(f, "]\n");
  return std::fclose(f) == 0;
}

}  // namespace uredis::bench
