#include <array>
#include <utility>

#include "uredis/error.hpp"

namespace uredis {
namespace {

// Every kind with a prefix, in enum order; `other` has none. A linear scan over 25 short
// strings is cheap next to the allocation of the message, and error replies are rare.
constexpr std::array<std::pair<server_error_kind, std::string_view>, 25> prefixes{{
    {server_error_kind::err, "ERR"},
    {server_error_kind::wrongtype, "WRONGTYPE"},
    {server_error_kind::moved, "MOVED"},
    {server_error_kind::ask, "ASK"},
    {server_error_kind::noscript, "NOSCRIPT"},
    {server_error_kind::busy, "BUSY"},
    {server_error_kind::busykey, "BUSYKEY"},
    {server_error_kind::notbusy, "NOTBUSY"},
    {server_error_kind::loading, "LOADING"},
    {server_error_kind::readonly, "READONLY"},
    {server_error_kind::noauth, "NOAUTH"},
    {server_error_kind::wrongpass, "WRONGPASS"},
    {server_error_kind::noperm, "NOPERM"},
    {server_error_kind::noproto, "NOPROTO"},
    {server_error_kind::oom, "OOM"},
    {server_error_kind::execabort, "EXECABORT"},
    {server_error_kind::tryagain, "TRYAGAIN"},
    {server_error_kind::crossslot, "CROSSSLOT"},
    {server_error_kind::clusterdown, "CLUSTERDOWN"},
    {server_error_kind::masterdown, "MASTERDOWN"},
    {server_error_kind::noreplicas, "NOREPLICAS"},
    {server_error_kind::busygroup, "BUSYGROUP"},
    {server_error_kind::nogroup, "NOGROUP"},
    {server_error_kind::misconf, "MISCONF"},
    {server_error_kind::unblocked, "UNBLOCKED"},
}};

// The table is indexed by the enum in to_string(): keep it complete and in order.
constexpr bool prefixes_in_enum_order() {
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (static_cast<std::size_t>(prefixes[i].first) != i) return false;
  }
  return static_cast<std::size_t>(server_error_kind::other) == prefixes.size();
}
static_assert(prefixes_in_enum_order());

std::string_view first_word(std::string_view text) noexcept {
  return text.substr(0, text.find(' '));  // npos: the whole text
}

}  // namespace

server_error server_error::parse(std::string_view text) {
  const std::string_view word = first_word(text);
  server_error_kind kind = server_error_kind::other;
  for (const auto& [k, prefix] : prefixes) {
    if (prefix == word) {
      kind = k;
      break;
    }
  }
  return server_error{kind, std::string(text)};
}

std::string_view server_error::code() const noexcept {
  return first_word(message);
}

std::string_view server_error::detail() const noexcept {
  const std::string_view text = message;
  const auto space = text.find(' ');
  return space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
}

std::string_view to_string(server_error_kind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < prefixes.size() ? prefixes[i].second : std::string_view{};
}

}  // namespace uredis
