// The callback API as a consumer writes it, built with the consumer's own warning flags and run
// against a server: each callback takes its result by value and moves it out, the pattern with
// which GCC 12 at -O2 reported -Wmaybe-uninitialized inside uredis' headers (a result holding an
// error code, moved by the callback, "may read" the value alternatives it does not hold). Covers
// every way a callback is called: a value, nil, a server error, and an error code for a command
// whose reply never began (the connection closed under it). Run by scripts/consumer_test.sh with
// REDIS_URL set; exits non-zero on any mismatch.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include <uredis/client/connection.hpp>
#include <uredis/cmd/keys.hpp>
#include <uredis/cmd/lists.hpp>
#include <uredis/cmd/strings.hpp>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "callbacks: FAILED: %s\n", what);
    ++failures;
  }
}

using text_result = uredis::result<std::optional<std::string>>;
using count_result = uredis::result<std::int64_t>;

}  // namespace

int main() {
  const char* url = std::getenv("REDIS_URL");
  auto config = uredis::parse_url(url != nullptr ? url : "redis://127.0.0.1:6379");
  auto reactor = uredis::reactor::reactor::create();
  if (!config || !reactor) return 1;
  uredis::reactor::reactor& loop = **reactor;

  uredis::connection conn{loop, *config};
  std::optional<uredis::result<void>> connected;
  conn.connect([&](const uredis::result<void>& r) { connected = r; });
  loop.run_until([&] { return connected.has_value(); });
  if (!*connected) {
    std::fprintf(stderr, "callbacks: cannot connect\n");
    return 1;
  }

  std::optional<text_result> value, nil, wrong_type;
  std::optional<count_result> not_a_number, pushed;
  conn.exec(uredis::cmd::del{{"consumer:k", "consumer:missing", "consumer:list"}}, [](auto) {});
  conn.exec(uredis::cmd::set{"consumer:k", "v"}, [](auto) {});
  conn.exec(uredis::cmd::get{"consumer:k"}, [&](text_result r) { value = std::move(r); });
  conn.exec(uredis::cmd::get{"consumer:missing"}, [&](text_result r) { nil = std::move(r); });
  conn.exec(uredis::cmd::incr{"consumer:k"}, [&](count_result r) { not_a_number = std::move(r); });
  conn.exec(uredis::cmd::rpush{"consumer:list", "a"},
            [&](count_result r) { pushed = std::move(r); });
  conn.exec(uredis::cmd::get{"consumer:list"}, [&](text_result r) { wrong_type = std::move(r); });
  loop.run_until([&] { return wrong_type.has_value(); });

  expect(value && value->has_value() && **value == std::optional<std::string>{"v"}, "GET value");
  expect(nil && nil->has_value() && !nil->value().has_value(), "GET nil");
  expect(not_a_number && not_a_number->has_server_error(), "INCR on text: a server error");
  expect(pushed && pushed->has_value() && **pushed == 1, "RPUSH count");
  expect(wrong_type && wrong_type->has_server_error() &&
             wrong_type->server_error().code() == "WRONGTYPE",
         "GET on a list: WRONGTYPE");

  // Closing completes every pending command with an error code, before its reply began.
  std::optional<text_result> closed;
  conn.exec(uredis::cmd::get{"consumer:k"}, [&](text_result r) { closed = std::move(r); });
  conn.close();
  loop.run_until([&] { return closed.has_value(); });
  expect(closed->has_error(), "a command cut off by close(): an error code");

  if (failures == 0) std::puts("callbacks: ok");
  return failures == 0 ? 0 : 1;
}
