// Exercises uredis' public protocol API from outside the project: encodes a command into a
// byte_buffer, parses it back and checks every node. Exits non-zero on any mismatch.

#include <cstdio>
#include <string_view>

#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/type.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  using namespace uredis;
  using namespace std::string_view_literals;

  util::byte_buffer buffer;
  resp::encoder{buffer}.command("SET", "key"sv, 42, 2.5);
  expect(buffer.data() == "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n$3\r\n2.5\r\n"sv,
         "encoded bytes");

  const resp::type want_types[] = {resp::type::array, resp::type::bulk_string,
                                   resp::type::bulk_string, resp::type::bulk_string,
                                   resp::type::bulk_string};
  const std::string_view want_values[] = {""sv, "SET"sv, "key"sv, "42"sv, "2.5"sv};
  constexpr int node_count = 5;

  resp::parser parser;
  resp::node node;
  for (int i = 0; i < node_count; ++i) {
    const resp::step s = parser.next(buffer.data(), node);
    if (s.status != resp::outcome::node) {
      std::fprintf(stderr, "consumer: node %d: no node (%s)\n", i,
                   parser.error().message().c_str());
      return 1;
    }
    if (node.type != want_types[i]) {
      const std::string_view name = resp::to_string(node.type);
      std::fprintf(stderr, "consumer: node %d is a %.*s\n", i, static_cast<int>(name.size()),
                   name.data());
      ++failures;
    }
    expect(node.value == want_values[i], "node value");
    expect(node.depth == (i == 0 ? 0u : 1u), "node depth");
    expect(i != 0 || node.size == 4, "array size");
    expect(parser.done() == (i == node_count - 1), "reply completes on the last node only");
    buffer.consume(s.consumed);
  }
  expect(buffer.empty(), "every byte consumed");
  expect(parser.next(buffer.data(), node).status == resp::outcome::need_more,
         "need more at the end");

  // Hostile input is a protocol error, not a crash.
  resp::parser strict;
  expect(strict.next("?oops\r\n"sv, node).status == resp::outcome::error, "bad type byte");
  expect(static_cast<bool>(strict.error()), "error code set");

  if (failures != 0) return 1;
  std::puts("consumer: ok");
  return 0;
}
