// expect-error: connection::exec takes a callback
// A connection has only the callback form: exec_options where the callback goes is named.
#include "uredis/client/connection.hpp"
#include "uredis/cmd/strings.hpp"

void wrong(uredis::connection& conn) {
  conn.exec(uredis::cmd::get{"k"}, uredis::exec_options{.idempotent = true});
}

int main() {}
