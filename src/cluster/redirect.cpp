#include "uredis/cluster/redirect.hpp"

#include <charconv>

namespace uredis::cluster {
namespace {

template <class Int>
std::optional<Int> parse_number(std::string_view text, Int max) {
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || value > max) {
    return std::nullopt;
  }
  return static_cast<Int>(value);
}

}  // namespace

std::optional<redirect> parse_redirect(const server_error& error, std::string_view replying_host) {
  redirect r;
  if (error.kind == server_error_kind::moved) {
    r.type = redirect::kind::moved;
  } else if (error.kind == server_error_kind::ask) {
    r.type = redirect::kind::ask;
  } else {
    return std::nullopt;
  }
  const std::string_view detail = error.detail();  // "3999 127.0.0.1:6381"
  const std::size_t space = detail.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto slot = parse_number<std::uint16_t>(detail.substr(0, space), util::cluster_slots - 1);
  const std::string_view endpoint = detail.substr(space + 1);
  const std::size_t colon = endpoint.rfind(':');
  if (!slot || colon == std::string_view::npos) return std::nullopt;
  const auto port = parse_number<std::uint16_t>(endpoint.substr(colon + 1), 65535);
  if (!port || *port == 0) return std::nullopt;
  r.slot = *slot;
  const std::string_view host = endpoint.substr(0, colon);
  if (host.find(' ') != std::string_view::npos) return std::nullopt;
  r.target.host = host.empty() ? replying_host : host;
  r.target.port = *port;
  return r;
}

}  // namespace uredis::cluster
