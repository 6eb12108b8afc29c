// tls::http_exchange on its own (sans-I/O): the POST it writes, answers split anywhere, with
// and without Content-Length, and every way an answer is refused (status, cut short, too big,
// not HTTP); http_url's parsing.

#include "tls/http_exchange.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uredis::tls {
namespace {

using state = http_exchange::state;

TEST(HttpExchangeUrl, SplitsHostPortAndPath) {
  const auto u = http_url::parse("http://127.0.0.1:8080/ocsp/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/ocsp/x");
  const auto d = http_url::parse("HTTP://ocsp.example.com");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "ocsp.example.com");
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->path, "/");
  const auto v6 = http_url::parse("http://[::1]:9/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9);
}

TEST(HttpExchangeUrl, RefusesWhatIsNotAPlainHttpUrl) {
  EXPECT_FALSE(http_url::parse("https://a/"));
  EXPECT_FALSE(http_url::parse("http://"));
  EXPECT_FALSE(http_url::parse("http://a:0/"));
  EXPECT_FALSE(http_url::parse("http://a:70000/"));
  EXPECT_FALSE(http_url::parse("http://a:x/"));
  EXPECT_FALSE(http_url::parse("http://user@a/"));
  EXPECT_FALSE(http_url::parse("http://[::1/"));
}

TEST(HttpExchange, WritesAnHttp10Post) {
  http_exchange e;
  const std::string r =
      e.request(*http_url::parse("http://127.0.0.1:81/p"), "application/ocsp-request", "ab");
  EXPECT_EQ(r,
            "POST /p HTTP/1.0\r\nHost: 127.0.0.1:81\r\nContent-Type: application/ocsp-request\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\nab");
}

TEST(HttpExchange, ReadsABodyByContentLengthInAnySplit) {
  const std::string answer =
      "HTTP/1.0 200 OK\r\nContent-type: application/ocsp-response\r\nContent-Length: 5\r\n\r\n"
      "hello";
  for (std::size_t cut = 0; cut <= answer.size(); ++cut) {
    http_exchange e;
    e.request(*http_url::parse("http://a/"), "t", "");
    const state first = e.on_data(answer.substr(0, cut));
    EXPECT_EQ(first, cut == answer.size() ? state::done : state::waiting) << cut;
    EXPECT_EQ(e.on_data(answer.substr(cut)), state::done) << cut;
    EXPECT_EQ(e.body(), "hello") << cut;
  }
}

TEST(HttpExchange, WithoutContentLengthTheBodyEndsAtEof) {
  http_exchange e;
  e.request(*http_url::parse("http://a/"), "t", "");
  EXPECT_EQ(e.on_data("HTTP/1.1 200 OK\r\n\r\nabc"), state::waiting);
  EXPECT_EQ(e.on_data("def"), state::waiting);
  EXPECT_EQ(e.on_eof(), state::done);
  EXPECT_EQ(e.body(), "abcdef");
}

TEST(HttpExchange, RefusesErrorsAndBrokenAnswers) {
  const auto run = [](const std::string& bytes, bool eof) {
    http_exchange e;
    e.request(*http_url::parse("http://a/"), "t", "");
    state s = e.on_data(bytes);
    if (eof && s == state::waiting) s = e.on_eof();
    return s;
  };
  EXPECT_EQ(run("HTTP/1.0 500 Internal\r\n\r\n", false), state::failed);
  EXPECT_EQ(run("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n", false), state::failed);
  EXPECT_EQ(run("SSH-2.0-OpenSSH\r\n\r\n", false), state::failed);
  EXPECT_EQ(run("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", true), state::failed);
  EXPECT_EQ(run("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", false), state::failed);
  EXPECT_EQ(run("HTTP/1.0 200 OK\r\nContent-Le", true), state::failed);  // head cut short
  EXPECT_EQ(run(std::string(http_exchange::max_response + 1, 'x'), false), state::failed);
}

TEST(HttpExchange, ANewRequestForgetsTheLastAnswer) {
  http_exchange e;
  e.request(*http_url::parse("http://a/"), "t", "");
  ASSERT_EQ(e.on_data("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"), state::done);
  e.request(*http_url::parse("http://a/"), "t", "");
  EXPECT_EQ(e.current(), state::waiting);
  EXPECT_EQ(e.body(), "");
}

}  // namespace
}  // namespace uredis::tls
