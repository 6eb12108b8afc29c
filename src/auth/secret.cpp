#include "uredis/auth/secret.hpp"

#include <string.h>  // explicit_bzero (glibc 2.25+, musl): a store the optimiser keeps

namespace uredis::auth {

void wipe(void* data, std::size_t size) noexcept {
  if (size != 0) ::explicit_bzero(data, size);
}

void wipe(std::string& s) noexcept {
  // resize() to the capacity reallocates nothing and makes every byte of the buffer ours to
  // write, the old tail beyond size() included.
  s.resize(s.capacity());
  wipe(s.data(), s.size());
  s.clear();
}

void replace_secret(std::string& s, std::string_view value) {
  wipe(s);
  s.assign(value);
}

}  // namespace uredis::auth
