// expect: compiles
// Every natural spelling of exec_options picks the awaitable form; callbacks still work.
#include <chrono>
#include <optional>
#include <string>

#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/strings.hpp"

using namespace std::chrono_literals;

uredis::task<> spellings(uredis::client& c, const uredis::script& code) {
  uredis::exec_options options;  // a non-const variable
  const uredis::exec_options fixed{.timeout = 5ms};
  auto a = co_await c.exec(uredis::cmd::get{"k"}, uredis::exec_options{.idempotent = true});
  auto b = co_await c.exec(uredis::cmd::get{"k"}, options);
  auto d = co_await c.exec(uredis::cmd::get{"k"}, fixed);
  auto e = co_await c.exec(uredis::cmd::get{"k"}, {.timeout = 5ms});
  auto f = co_await c.exec(uredis::transaction{uredis::cmd::incr{"n"}}, options);
  auto g = co_await c.run(code, "k", 1, options);
  static_assert(std::is_same_v<decltype(a), decltype(b)>);
  (void)d, (void)e, (void)f, (void)g;

  c.exec(
      uredis::cmd::get{"k"}, [](uredis::result<std::optional<std::string>>) {}, options);
  c.exec(uredis::cmd::get{"k"}, [](const auto&) {});
  c.exec(
      uredis::transaction{uredis::cmd::incr{"n"}}, [](auto) {}, options);
  c.run(
      code, {"k"}, {}, [](uredis::result<uredis::resp::reply>) {}, options);
  c.connection().exec(
      uredis::cmd::get{"k"}, [](auto) {}, options);
}

int main() {}
