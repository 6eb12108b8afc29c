#include "uredis/sentinel/replicas.hpp"

#include <algorithm>
#include <string_view>

#include "uredis/error.hpp"
#include "uredis/sentinel/discovery.hpp"

namespace uredis::sentinel {
namespace {

bool is_string(const resp::reply& r) noexcept {
  return r.type() == resp::type::bulk_string || r.type() == resp::type::simple_string ||
         r.type() == resp::type::verbatim_string;
}

bool has_flag(std::string_view flags, std::string_view flag) noexcept {
  while (!flags.empty()) {
    const std::size_t comma = flags.find(',');
    if (flags.substr(0, comma) == flag) return true;
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return false;
}

// One replica's fields: a flat array (RESP2) or a map (RESP3), both key, value, key, value...
result<replica> parse_one(const resp::reply& fields) {
  const bool flat = fields.type() == resp::type::array && fields.elements().size() % 2 == 0;
  if (!flat && fields.type() != resp::type::map) return errc::sentinel_reply_invalid;
  const resp::reply* ip = nullptr;
  const resp::reply* port = nullptr;
  const resp::reply* flags = nullptr;
  const std::vector<resp::reply>& e = fields.elements();
  for (std::size_t i = 0; i < e.size(); i += 2) {
    if (!is_string(e[i]) || !is_string(e[i + 1])) return errc::sentinel_reply_invalid;
    const std::string_view name = e[i].text();
    if (name == "ip") ip = &e[i + 1];
    if (name == "port") port = &e[i + 1];
    if (name == "flags") flags = &e[i + 1];
  }
  if (ip == nullptr || ip->text().empty() || port == nullptr || flags == nullptr)
    return errc::sentinel_reply_invalid;
  const std::uint16_t p = parse_port(port->text());
  if (p == 0) return errc::sentinel_reply_invalid;
  const std::string_view f = flags->text();
  const bool down = has_flag(f, "s_down") || has_flag(f, "o_down") || has_flag(f, "disconnected");
  return replica{endpoint{std::string(ip->text()), p}, !down};
}

}  // namespace

result<std::vector<replica>> parse_replicas(const resp::reply& answer) {
  if (answer.type() != resp::type::array) return errc::sentinel_reply_invalid;
  std::vector<replica> out;
  out.reserve(answer.elements().size());
  for (const resp::reply& fields : answer.elements()) {
    result<replica> r = parse_one(fields);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(), [](const replica& a, const replica& b) {
    return a.address.host != b.address.host ? a.address.host < b.address.host
                                            : a.address.port < b.address.port;
  });
  return out;
}

const endpoint* replica_rotation::next(const std::vector<replica>& replicas) noexcept {
  const auto usable = static_cast<std::uint64_t>(
      std::count_if(replicas.begin(), replicas.end(), [](const replica& r) { return r.usable; }));
  if (usable == 0) return nullptr;
  // Reduced first, so the turn after the last wraps to the first however large the start.
  turn_ = started_ ? (turn_ % usable + 1) % usable : turn_ % usable;
  started_ = true;
  std::uint64_t skip = turn_;
  for (const replica& r : replicas) {
    if (!r.usable) continue;
    if (skip-- == 0) return &r.address;
  }
  return nullptr;  // not reached: skip < usable
}

}  // namespace uredis::sentinel
