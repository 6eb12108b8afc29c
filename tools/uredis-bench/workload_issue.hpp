#pragma once
// request_builder::issue(), the template half of workload.hpp (included by it): one exec() per
// test kind, each with the typed descriptor of its command.

#include "uredis/cmd/hashes.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/server.hpp"
#include "uredis/cmd/sets.hpp"
#include "uredis/cmd/strings.hpp"
#include "workload.hpp"

namespace uredis::bench {

template <class Done>
void request_builder::issue(test_kind kind, connection& c, Done&& done) {
  auto on_reply = [done = std::forward<Done>(done)](const auto& r) mutable noexcept {
    done(r.has_value());
  };
  switch (kind) {
    case test_kind::ping:
      c.exec(cmd::ping{}, std::move(on_reply));
      break;
    case test_kind::set:
      c.exec(cmd::set{key("key:"), value_}, std::move(on_reply));
      break;
    case test_kind::get:
      c.exec(detail::get_view{key("key:")}, std::move(on_reply));
      break;
    case test_kind::incr:
      c.exec(cmd::incr{key("counter:")}, std::move(on_reply));
      break;
    case test_kind::lpush:
      c.exec(cmd::lpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::rpush:
      c.exec(cmd::rpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::lpop:
      c.exec(detail::lpop_view{"mylist"}, std::move(on_reply));
      break;
    case test_kind::sadd:
      c.exec(cmd::sadd{"myset", cmd::arg_list(key("element:"))}, std::move(on_reply));
      break;
    case test_kind::hset:
      c.exec(cmd::hset{"myhash", cmd::pair_list(key("element:"), value_)}, std::move(on_reply));
      break;
  }
}

}  // namespace uredis::bench
