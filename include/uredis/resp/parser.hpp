#pragma once
// An incremental RESP2/RESP3 parser that never copies and never allocates.
//
// The parser owns no bytes. The caller keeps a contiguous read buffer and calls next() with the
// unconsumed part of it; each call has one of three outcomes:
//
//   need_more  the next element is not complete in `input`: append bytes and call again with
//              the same start (the parser remembers how far it scanned, so a long line fed one
//              byte at a time costs linear time, not quadratic)
//   node       `out` holds the next element, viewing into `input`; drop `consumed` bytes
//   error      the bytes are not valid RESP or break a limit: error() says which. The parser
//              stays failed until reset(); the connection cannot be trusted any more.
//
// Aggregates are tracked on a fixed stack (no recursion, no heap), so hostile nesting is a
// bounded error, never a stack overflow. done() turns true on the node that completes a
// top-level reply; an attribute alone never completes one.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "uredis/resp/node.hpp"

namespace uredis::resp {

struct limits {
  /// The parser's stack capacity; `max_depth` may not exceed it.
  static constexpr std::uint32_t depth_capacity = 128;

  /// Aggregates nested deeper than this are an error. Redis replies rarely pass 7; scripts can
  /// build deeper ones, so leave room.
  std::uint32_t max_depth = 32;
  /// Redis' own proto-max-bulk-len default.
  std::uint64_t max_bulk_length = 512ull * 1024 * 1024;
  /// Elements in one aggregate (hiredis' limit). Adapters never reserve more than they have seen.
  std::uint64_t max_aggregate_size = (1ull << 32) - 1;
  /// A '+', '-', ':' ... line that has no CRLF within this many bytes is an error, so a peer
  /// cannot make the caller buffer an endless line.
  std::size_t max_line_length = 64 * 1024;
};

enum class outcome : std::uint8_t { need_more, node, error };

struct step {
  outcome status = outcome::need_more;
  std::size_t consumed = 0;  // bytes of `input` the node occupied (0 unless status == node)
};

class parser {
public:
  explicit parser(const limits& lim = {}) noexcept;

  /// Parses the next element at the start of `input` (see the header comment).
  step next(std::string_view input, node& out) noexcept;

  /// True when the node returned last completed a top-level reply.
  bool done() const noexcept { return done_; }
  /// Aggregates still open: 0 between replies.
  std::uint32_t depth() const noexcept { return depth_; }
  /// The error after outcome::error; empty otherwise.
  std::error_code error() const noexcept { return error_; }
  const resp::limits& limits() const noexcept { return limits_; }

  /// Forgets any partial reply and a previous error.
  void reset() noexcept;

private:
  struct frame {
    std::uint64_t remaining;  // children still to come
    bool attribute;
  };

  step fail(std::error_code ec) noexcept;
  void open(const node& n) noexcept;
  void complete(bool counts) noexcept;

  resp::limits limits_;
  std::array<frame, resp::limits::depth_capacity> stack_{};
  std::uint32_t depth_ = 0;
  std::uint32_t attribute_depth_ = 0;  // open frames that are attributes
  std::size_t scanned_ = 0;            // header bytes already searched for LF in this element
  bool done_ = false;
  std::error_code error_;
};

}  // namespace uredis::resp
