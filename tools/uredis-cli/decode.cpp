#include "decode.hpp"

#include <string>
#include <system_error>

#include "input.hpp"
#include "uredis/resp/format.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cli {

int decode(std::string_view input, std::FILE* out, std::FILE* err) {
  std::string text;
  std::size_t offset = 0;
  while (offset < input.size()) {
    resp::reply reply;
    std::error_code ec;
    const resp::step s = resp::parse_reply_tree(input.substr(offset), reply, ec);
    if (s.status != resp::outcome::node) std::fflush(out);  // the replies before go out first
    if (s.status == resp::outcome::error) {
      std::fprintf(err, "protocol error: %s at byte %zu\n", ec.message().c_str(),
                   offset + s.consumed);
      return decode_failed;
    }
    if (s.status == resp::outcome::need_more) {
      std::fprintf(err,
                   "protocol error: unexpected end of input at byte %zu (inside the reply that "
                   "starts at byte %zu)\n",
                   input.size(), offset);
      return decode_failed;
    }
    text.clear();
    resp::format(reply, text);
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) {
      std::fprintf(err, "error: cannot write the output\n");
      return decode_failed;
    }
    offset += s.consumed;
  }
  if (std::fflush(out) != 0) {
    std::fprintf(err, "error: cannot write the output\n");
    return decode_failed;
  }
  return decode_ok;
}

int run_decode(int in_fd, std::FILE* out, std::FILE* err) {
  std::string input;
  if (const std::error_code ec = read_all(in_fd, input)) {
    std::fprintf(err, "error: cannot read the input: %s\n", ec.message().c_str());
    return decode_failed;
  }
  return decode(input, out, err);
}

}  // namespace uredis::cli
