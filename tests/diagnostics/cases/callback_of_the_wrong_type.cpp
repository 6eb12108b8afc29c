// expect-error: the callback must be callable as callback(uredis::result<R>)
// GET answers result<std::optional<std::string>>: a callback taking result<std::string> is
// refused with a message that says what it must take.
#include <string>

#include "uredis/client/client.hpp"
#include "uredis/cmd/strings.hpp"

void wrong(uredis::client& c) { c.exec(uredis::cmd::get{"k"}, [](uredis::result<std::string>) {}); }

int main() {}
