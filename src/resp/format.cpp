#include "uredis/resp/format.hpp"

#include <charconv>
#include <string_view>

namespace uredis::resp {
namespace {

// redis-cli prints simple strings and errors with C string functions: they end at a NUL byte.
std::string_view c_string(std::string_view s) noexcept {
  return s.substr(0, s.find('\0'));
}

void append_quoted(std::string_view bytes, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : bytes) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default: {
        // isprint() in the C locale redis-cli runs in: only printable ASCII.
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
          out += c;
        } else {
          out += "\\x";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        }
      }
    }
  }
  out += '"';
}

void append_number(std::uint64_t v, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_number(std::int64_t v, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

bool is_map_like(resp::type t) noexcept {
  return t == resp::type::map || t == resp::type::attribute;
}

// Whether format_tty() prints `r` on more than one line.
bool is_multiline(const reply& r) noexcept {
  const auto& e = r.elements();
  if (is_map_like(r.type())) {
    if (e.empty()) return false;
    return e.size() > 2 || is_multiline(e[1]);
  }
  if (r.is_aggregate()) {
    if (e.empty()) return false;
    return e.size() > 1 || is_multiline(e[0]);
  }
  return false;
}

std::string_view empty_text(resp::type t) noexcept {
  switch (t) {
    case resp::type::array:
      return "(empty array)\n";
    case resp::type::map:
    case resp::type::attribute:
      return "(empty hash)\n";
    case resp::type::set:
      return "(empty set)\n";
    default:
      return "(empty push)\n";
  }
}

char index_separator(resp::type t) noexcept {
  if (t == resp::type::set) return '~';
  if (is_map_like(t)) return '#';
  return ')';
}

// "idx) " with the index right-aligned to `width` digits.
void append_index(std::uint64_t index, unsigned width, char separator, std::string& out) {
  unsigned digits = 1;
  for (std::uint64_t v = index; v >= 10; v /= 10)
    ++digits;
  if (digits < width) out.append(width - digits, ' ');
  append_number(index, out);
  out += separator;
  out += ' ';
}

// Recursion depth is the reply's depth, which the parser's limits bound (see reply.hpp).
void format_tty(const reply& r, std::string_view prefix, std::string& out) {
  switch (r.type()) {
    case resp::type::simple_error:
    case resp::type::bulk_error:
      out += "(error) ";
      out += c_string(r.text());
      out += '\n';
      return;
    case resp::type::simple_string:
      out += c_string(r.text());
      out += '\n';
      return;
    case resp::type::integer:
      out += "(integer) ";
      append_number(r.integer(), out);
      out += '\n';
      return;
    case resp::type::double_:
      out += "(double) ";
      out += r.text();
      out += '\n';
      return;
    case resp::type::big_number:
      out += "(big number) ";
      out += r.text();
      out += '\n';
      return;
    case resp::type::bulk_string:
      append_quoted(r.text(), out);
      out += '\n';
      return;
    case resp::type::verbatim_string:
      out += r.text();
      out += '\n';
      return;
    case resp::type::null:
      out += "(nil)\n";
      return;
    case resp::type::boolean:
      out += r.boolean() ? "(true)\n" : "(false)\n";
      return;
    case resp::type::array:
    case resp::type::map:
    case resp::type::set:
    case resp::type::attribute:
    case resp::type::push:
      break;
  }

  const auto& elements = r.elements();
  if (elements.empty()) {
    out += empty_text(r.type());
    return;
  }
  const bool map = is_map_like(r.type());
  const std::uint64_t count = map ? elements.size() / 2 : elements.size();
  unsigned width = 1;
  for (std::uint64_t v = count; v >= 10; v /= 10)
    ++width;
  // Elements of a nested aggregate line up under the first one, past "idx) ".
  std::string inner(prefix);
  inner.append(width + 2, ' ');
  const char separator = index_separator(r.type());

  for (std::size_t i = 0; i < elements.size(); ++i) {
    // The first element goes on the line its parent has already started.
    if (i != 0) out += prefix;
    append_index((map ? i / 2 : i) + 1, width, separator, out);
    format_tty(elements[i], inner, out);
    if (map) {
      // An odd count (only possible in a hand-built tree) leaves the last key without a value.
      if (++i == elements.size()) break;
      out.pop_back();  // the key's newline
      out += " => ";
      if (is_multiline(elements[i])) {
        out += '\n';
        out += inner;
      }
      format_tty(elements[i], inner, out);
    }
  }
}

// redis-cli shows a client-side-caching invalidation push as one line of quoted key names.
bool is_invalidation(const reply& r) noexcept {
  if (r.type() != resp::type::push || r.elements().size() != 2) return false;
  const reply& kind = r.elements()[0];
  const reply& keys = r.elements()[1];
  if (kind.type() != resp::type::bulk_string || !kind.text().starts_with("invalidate") ||
      keys.type() != resp::type::array)
    return false;
  // redis-cli asserts the keys are bulk strings; anything else gets the general format here.
  for (const reply& key : keys.elements())
    if (key.type() != resp::type::bulk_string) return false;
  return true;
}

void format_invalidation(const reply& r, std::string& out) {
  out += "-> invalidate: ";
  const auto& keys = r.elements()[1].elements();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i != 0) out += ", ";
    out += '\'';
    out += c_string(keys[i].text());
    out += '\'';
  }
  out += '\n';
}

}  // namespace

void format(const reply& r, std::string& out) {
  if (is_invalidation(r)) {
    format_invalidation(r, out);
    return;
  }
  format_tty(r, "", out);
}

std::string format(const reply& r) {
  std::string out;
  format(r, out);
  return out;
}

}  // namespace uredis::resp
