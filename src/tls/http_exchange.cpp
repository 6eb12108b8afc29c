#include "tls/http_exchange.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace uredis::tls {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename Number>
bool parse_number(std::string_view text, Number& out) noexcept {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::optional<http_url> http_url::parse(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() < scheme.size() || !iequals(url.substr(0, scheme.size()), scheme))
    return std::nullopt;
  url.remove_prefix(scheme.size());
  http_url out;
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  // [v6]:port, or host:port.
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host.find('@') != std::string_view::npos) return std::nullopt;
  out.host = std::string(host);
  if (!port.empty() && (!parse_number(port, out.port) || out.port == 0)) return std::nullopt;
  return out;
}

std::string http_exchange::request(const http_url& url, std::string_view content_type,
                                   std::string_view body) {
  answer_.clear();
  body_at_ = 0;
  content_length_.reset();
  state_ = state::waiting;
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string r;
  r.reserve(128 + url.path.size() + url.host.size() + body.size());
  r += "POST ";
  r += url.path;
  r += " HTTP/1.0\r\nHost: ";
  r += v6 ? "[" + url.host + "]" : url.host;
  if (url.port != 80) r += ":" + std::to_string(url.port);
  r += "\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

http_exchange::state http_exchange::on_data(std::string_view bytes) {
  if (state_ != state::waiting) return state_;
  if (answer_.size() + bytes.size() > max_response) return fail();
  answer_.append(bytes);
  return check_complete();
}

http_exchange::state http_exchange::on_eof() {
  if (state_ != state::waiting) return state_;
  // Without Content-Length the body is whatever came before the close.
  if (body_at_ != 0 && !content_length_) return state_ = state::done;
  return fail();
}

std::string_view http_exchange::body() const noexcept {
  if (state_ != state::done) return {};
  std::string_view b = std::string_view(answer_).substr(body_at_);
  return content_length_ ? b.substr(0, *content_length_) : b;
}

http_exchange::state http_exchange::check_complete() {
  if (body_at_ == 0) {
    const std::size_t end = answer_.find("\r\n\r\n");
    if (end == std::string::npos) return state_;
    const std::string_view head = std::string_view(answer_).substr(0, end);
    // Status line: HTTP/1.x 200 reason.
    const std::size_t line_end = std::min(head.find("\r\n"), head.size());
    const std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.")) return fail();
    const std::size_t sp = status_line.find(' ');
    if (sp == std::string_view::npos || status_line.substr(sp + 1, 3) != "200") return fail();
    std::string_view headers = line_end < head.size() ? head.substr(line_end + 2) : "";
    while (!headers.empty()) {
      const std::size_t eol = std::min(headers.find("\r\n"), headers.size());
      const std::string_view line = headers.substr(0, eol);
      headers = eol < headers.size() ? headers.substr(eol + 2) : "";
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      if (iequals(trim(line.substr(0, colon)), "content-length")) {
        std::size_t n = 0;
        if (!parse_number(trim(line.substr(colon + 1)), n) || n > max_response) return fail();
        content_length_ = n;
      }
    }
    body_at_ = end + 4;
  }
  if (content_length_ && answer_.size() - body_at_ >= *content_length_) state_ = state::done;
  return state_;
}

http_exchange::state http_exchange::fail() noexcept {
  return state_ = state::failed;
}

}  // namespace uredis::tls
