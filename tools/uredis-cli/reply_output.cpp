#include "reply_output.hpp"

#include <strings.h>
#include <cassert>

#include "uredis/resp/format.hpp"

namespace uredis::cli {
namespace {

bool same(const std::string& a, const char* b) noexcept {
  return ::strcasecmp(a.c_str(), b) == 0;
}

}  // namespace

bool prints_raw(std::span<const std::string> args) noexcept {
  if (args.empty()) return false;
  const std::string& c = args[0];
  const std::size_t n = args.size();
  if (same(c, "info") || same(c, "lolwut")) return true;
  if (n < 2) return false;
  const std::string& sub = args[1];
  if (same(c, "debug"))
    return same(sub, "htstats") || same(sub, "htstats-key") || same(sub, "client-eviction");
  if (same(c, "memory")) return same(sub, "malloc-stats") || same(sub, "doctor");
  if (same(c, "cluster")) return n == 2 && (same(sub, "nodes") || same(sub, "info"));
  if (same(c, "client")) return same(sub, "list") || same(sub, "info");
  if (same(c, "latency")) return (n == 3 && same(sub, "graph")) || (n == 2 && same(sub, "doctor"));
  if (same(c, "proxy")) return same(sub, "info");
  return false;
}

void format_raw(const resp::reply& r, std::string& out) {
  using resp::type;
  switch (r.type()) {
    case type::null:
      break;
    case type::simple_error:
    case type::bulk_error:
      out.append(r.text());
      out.push_back('\n');
      break;
    case type::boolean:
      out.append(r.boolean() ? "(true)" : "(false)");
      break;
    case type::integer:
      out.append(std::to_string(r.integer()));
      break;
    case type::map:
    case type::attribute:
      for (std::size_t i = 0; i + 1 < r.elements().size(); i += 2) {
        if (i > 0) out.push_back('\n');
        format_raw(r.elements()[i], out);
        out.push_back(' ');
        format_raw(r.elements()[i + 1], out);
      }
      break;
    case type::array:
    case type::set:
    case type::push:
      for (std::size_t i = 0; i < r.elements().size(); ++i) {
        if (i > 0) out.push_back('\n');
        format_raw(r.elements()[i], out);
      }
      break;
    default:  // strings, verbatim strings (their text), doubles and big numbers (as sent)
      out.append(r.text());
      break;
  }
}

void format_result(const result<resp::reply>& r, bool raw, std::string& out) {
  assert(!r.has_error());
  if (r.has_server_error()) {
    const resp::reply e = resp::reply::make_simple_error(r.server_error().message);
    raw ? format_raw(e, out) : resp::format(e, out);
    return;
  }
  raw ? format_raw(*r, out) : resp::format(*r, out);
}

}  // namespace uredis::cli
