// expect-error: transaction<...>::results, a std::tuple of one uredis::result per command
#include <cstdint>

#include "uredis/client/client.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/strings.hpp"

void wrong(uredis::client& c) {
  c.exec(uredis::transaction{uredis::cmd::incr{"n"}}, [](uredis::result<std::int64_t>) {});
}

int main() {}
