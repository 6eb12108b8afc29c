#pragma once
// http_exchange: one HTTP/1.0 POST and its answer, with no I/O of its own (sans-I/O): what an
// OCSP query to a responder needs (RFC 6960 A.1), and nothing more.
//
//   request() ──► the bytes to send (request line, Host, Content-Type, Content-Length, body)
//   on_data(bytes)... on_eof() ──► need more | the response body | an error
//
// HTTP/1.0 without keep-alive: the server closes the stream after its answer, so the body ends
// at Content-Length when there is one, else at EOF. Only status 200 is a success. The answer is
// bounded (max_response bytes in all), so a hostile or broken responder cannot make the shard
// buffer without limit. Errors are errc::ocsp_responder_unavailable: the responder did not
// give an answer to check.
//
// Owner: the OCSP query (or a test), on one thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace uredis::tls {

/// "http://host[:port][/path]" split up; https is not spoken to responders (RFC 6960: their
/// answers are signed, so plain HTTP is the norm).
struct http_url {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/";

  /// Empty when `url` is not an http:// URL with a host and a valid port.
  static std::optional<http_url> parse(std::string_view url);
};

class http_exchange {
 public:
  /// The most an answer may take, head and body (an OCSP response is a few KiB).
  static constexpr std::size_t max_response = 64 * 1024;

  enum class state : std::uint8_t { waiting, done, failed };

  /// The request bytes for POSTing `body` of `content_type` to `url`; resets the answer.
  std::string request(const http_url& url, std::string_view content_type, std::string_view body);

  /// Bytes of the answer as they come. Returns the state after them.
  state on_data(std::string_view bytes);
  /// The server closed the stream: ends a body without Content-Length, else the answer is cut.
  state on_eof();

  state current() const noexcept { return state_; }
  /// The body of a 200 answer; valid once current() is done.
  std::string_view body() const noexcept;

 private:
  state check_complete();
  state fail() noexcept;

  std::string answer_;
  std::size_t body_at_ = 0;                    // where the body starts; 0: head not complete yet
  std::optional<std::size_t> content_length_;  // from the head, when given
  state state_ = state::waiting;
};

}  // namespace uredis::tls
