#include "uredis/resp/node_writer.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>

namespace uredis::resp {
namespace {

char marker_of(type t) noexcept {
  switch (t) {
    case type::simple_string:
      return '+';
    case type::simple_error:
      return '-';
    case type::integer:
      return ':';
    case type::bulk_string:
      return '$';
    case type::array:
      return '*';
    case type::null:
      return '_';
    case type::boolean:
      return '#';
    case type::double_:
      return ',';
    case type::big_number:
      return '(';
    case type::bulk_error:
      return '!';
    case type::verbatim_string:
      return '=';
    case type::map:
      return '%';
    case type::set:
      return '~';
    case type::attribute:
      return '|';
    case type::push:
      return '>';
  }
  return '_';
}

// marker, a decimal number, CRLF: a length or an aggregate's size.
void write_header(util::byte_buffer& out, char marker, std::uint64_t number) {
  char* const begin = out.prepare(1 + 20 + 2).data();
  char* p = begin;
  *p++ = marker;
  p = std::to_chars(p, p + 20, number).ptr;
  *p++ = '\r';
  *p++ = '\n';
  out.commit(static_cast<std::size_t>(p - begin));
}

void write_line(util::byte_buffer& out, char marker, std::string_view text) {
  char* const begin = out.prepare(1 + text.size() + 2).data();
  begin[0] = marker;
  text.copy(begin + 1, text.size());
  begin[1 + text.size()] = '\r';
  begin[2 + text.size()] = '\n';
  out.commit(text.size() + 3);
}

}  // namespace

void write_node(util::byte_buffer& out, const node& n) {
  const char marker = marker_of(n.type);
  switch (n.type) {
    case type::bulk_string:
    case type::bulk_error:
      write_header(out, marker, n.value.size());
      out.append(n.value);
      out.append("\r\n");
      return;
    case type::verbatim_string:
      // The length covers the three-byte format and its ':'.
      write_header(out, marker, n.value.size() + 4);
      out.append(n.format);
      out.append(":");
      out.append(n.value);
      out.append("\r\n");
      return;
    case type::array:
    case type::map:
    case type::set:
    case type::attribute:
    case type::push:
      write_header(out, marker, n.size);
      return;
    case type::null:
      out.append("_\r\n");
      return;
    default:  // the line types keep their text as sent
      write_line(out, marker, n.value);
      return;
  }
}

}  // namespace uredis::resp
