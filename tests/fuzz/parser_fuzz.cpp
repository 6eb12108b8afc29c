// libFuzzer target for the incremental RESP parser.
//
// The whole input is a RESP byte stream (so the seed corpus is plain replies). Each input is
// parsed under three sets of limits (the defaults, small ones derived from the input, and the
// deepest stack the parser allows), and under each set with three feeding schedules: the whole
// buffer at once, chunks ending at split points derived from the first input bytes, and one byte
// at a time (small inputs only: that schedule is quadratic). Each schedule must see the same
// node sequence and end the same way. Chunks are copied into exact-size heap buffers, so a read
// past the bytes the parser was given is an AddressSanitizer report, not a silent success.
//
// On every step the target checks what the parser promises: `consumed` is within the input,
// node views lie inside the bytes the node consumed, depths agree with an independent model of
// the aggregate stack and never pass the limit, done() only at depth 0, errors are protocol
// errors and sticky until reset(). Finally the nodes are re-encoded canonically and parsed again,
// which must give the same nodes; and each complete reply is built into a reply tree (whose
// builder must agree with the parser on where replies end) and formatted, and the trees built
// from the canonical bytes must equal the originals.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/resp/format.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/resp/type.hpp"

namespace {

using uredis::resp::limits;
using uredis::resp::node;
using uredis::resp::outcome;
using uredis::resp::parser;
using uredis::resp::reply;
using uredis::resp::reply_builder;
using uredis::resp::step;
using uredis::resp::type;

// A failed invariant: say which, then crash so libFuzzer saves the input.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)

// Inputs up to this size are also fed one byte at a time. Each byte re-copies the unconsumed
// tail, so the cost is quadratic in the longest reply: keep it small enough for ~1k execs/s.
constexpr std::size_t bytewise_max = 512;

// splitmix64: a tiny deterministic generator, so a saved crash input replays the same splits.
struct splitmix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// A node as offsets into the whole input, so runs with different chunk buffers compare exactly.
struct record {
  type t;
  std::uint32_t depth;
  bool in_attribute;
  std::uint64_t size;
  std::int64_t integer;
  std::uint64_t real_bits;  // bits, so NaN compares equal to itself
  std::ptrdiff_t value_offset;
  std::size_t value_size;
  std::ptrdiff_t format_offset;
  std::size_t format_size;
  bool done;
  std::uint32_t depth_after;

  bool operator==(const record&) const = default;
};

struct run_result {
  std::vector<record> nodes;
  outcome final = outcome::need_more;  // need_more or error
  std::error_code error;
  std::size_t consumed = 0;  // total bytes consumed by nodes
  std::uint32_t depth = 0;   // parser depth at the end

  bool operator==(const run_result&) const = default;
};

// An independent model of the aggregate stack: what depth the next node must have, whether it
// is inside an attribute, and whether it completes a top-level reply.
class stack_model {
 public:
  // Checks `n` against the model, then advances the model past it. Returns the expected done().
  bool advance(const node& n) {
    FUZZ_CHECK(n.depth == frames_.size());
    FUZZ_CHECK(n.in_attribute == (attributes_ > 0 || n.type == type::attribute));
    if (uredis::resp::is_aggregate(n.type) && n.size > 0) {
      frames_.push_back({uredis::resp::child_count(n.type, n.size), n.type == type::attribute});
      attributes_ += n.type == type::attribute;
      return false;
    }
    bool counts = n.type != type::attribute;
    while (counts && !frames_.empty()) {
      if (--frames_.back().remaining != 0) return false;
      counts = !frames_.back().attribute;
      attributes_ -= frames_.back().attribute;
      frames_.pop_back();
    }
    return counts && frames_.empty();
  }
  std::size_t depth() const { return frames_.size(); }

 private:
  struct frame {
    std::uint64_t remaining;
    bool attribute;
  };
  std::vector<frame> frames_;
  std::uint32_t attributes_ = 0;
};

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// What the parser promises about one node, given the bytes it consumed.
void check_node(const node& n, std::string_view taken, const limits& lim) {
  FUZZ_CHECK(inside(n.value, taken));
  FUZZ_CHECK(inside(n.format, taken));
  FUZZ_CHECK(n.depth <= lim.max_depth);
  const bool aggregate = uredis::resp::is_aggregate(n.type);
  if (!aggregate) FUZZ_CHECK(n.size == 0);
  if (n.type != type::verbatim_string) FUZZ_CHECK(n.format.empty());
  switch (n.type) {
    case type::simple_string:
    case type::simple_error:
      FUZZ_CHECK(n.value.find('\n') == std::string_view::npos);
      break;
    case type::integer: {
      FUZZ_CHECK(!n.value.empty());
      // Re-read the digits independently of the parser's own routine.
      std::string_view digits = n.value;
      const bool negative = digits[0] == '-';
      if (digits[0] == '-' || digits[0] == '+') digits.remove_prefix(1);
      std::uint64_t magnitude = 0;
      for (const char c : digits) {
        FUZZ_CHECK(c >= '0' && c <= '9');
        magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
      }
      // The parser rejects anything outside int64, so the magnitude fits in uint64 here.
      const std::uint64_t expected = negative ? 0 - static_cast<std::uint64_t>(n.integer)
                                              : static_cast<std::uint64_t>(n.integer);
      FUZZ_CHECK(magnitude == expected);
      FUZZ_CHECK(negative ? n.integer <= 0 : n.integer >= 0);
      break;
    }
    case type::boolean:
      FUZZ_CHECK(n.value == "t" || n.value == "f");
      FUZZ_CHECK(n.integer == (n.value == "t" ? 1 : 0));
      break;
    case type::null:
      FUZZ_CHECK(n.value.empty());
      break;
    case type::bulk_string:
    case type::bulk_error:
      FUZZ_CHECK(n.value.size() <= lim.max_bulk_length);
      // The payload is followed by its CRLF, which the node consumed too.
      FUZZ_CHECK(n.value.data() + n.value.size() + 2 == taken.data() + taken.size());
      FUZZ_CHECK(taken.substr(taken.size() - 2) == "\r\n");
      break;
    case type::verbatim_string:
      FUZZ_CHECK(n.format.size() == 3);
      FUZZ_CHECK(n.format.data() + 4 == n.value.data() || n.value.empty());
      FUZZ_CHECK(n.format.data()[3] == ':');
      FUZZ_CHECK(n.value.size() + 4 <= lim.max_bulk_length);
      break;
    case type::double_:
    case type::big_number:
      FUZZ_CHECK(!n.value.empty());
      break;
    case type::array:
    case type::map:
    case type::set:
    case type::attribute:
    case type::push:
      FUZZ_CHECK(n.value.empty());
      FUZZ_CHECK(n.size <= lim.max_aggregate_size);
      break;
  }
}

// Feeds `input` to a fresh parser. `boundaries` are the successive amounts of input made
// available (ascending, the last one == input.size()). With `copy`, each call sees an exact-size
// heap copy of the unconsumed bytes; otherwise a view of `input` itself.
run_result feed(std::string_view input, const limits& lim,
                const std::vector<std::size_t>& boundaries, bool copy) {
  run_result r;
  parser p(lim);
  stack_model model;
  std::size_t available_index = 0;
  std::size_t pos = 0;
  std::unique_ptr<char[]> owned;
  for (;;) {
    const std::size_t available = boundaries[available_index];
    std::string_view window = input.substr(pos, available - pos);
    if (copy) {
      // new char[0] is still a unique pointer ASan guards, so an empty window is checked too.
      owned.reset(new char[window.size()]);
      std::memcpy(owned.get(), window.data(), window.size());
      window = std::string_view(owned.get(), window.size());
    }
    node n;
    const step s = p.next(window, n);
    FUZZ_CHECK(s.consumed <= window.size());
    FUZZ_CHECK(p.depth() <= lim.max_depth);
    FUZZ_CHECK(!p.done() || p.depth() == 0);
    if (s.status == outcome::node) {
      FUZZ_CHECK(s.consumed > 0);
      FUZZ_CHECK(!p.error());
      const std::string_view taken = window.substr(0, s.consumed);
      check_node(n, taken, lim);
      const bool done = model.advance(n);
      FUZZ_CHECK(p.done() == done);
      FUZZ_CHECK(p.depth() == model.depth());
      const auto offset = [&](std::string_view v) -> std::ptrdiff_t {
        return v.empty() ? -1 : static_cast<std::ptrdiff_t>(pos) + (v.data() - window.data());
      };
      r.nodes.push_back({n.type, n.depth, n.in_attribute, n.size, n.integer, bits(n.real),
                         offset(n.value), n.value.size(), offset(n.format), n.format.size(),
                         p.done(), p.depth()});
      pos += s.consumed;
      continue;
    }
    FUZZ_CHECK(s.consumed == 0);
    FUZZ_CHECK(!p.done());
    if (s.status == outcome::error) {
      FUZZ_CHECK(uredis::is_protocol_error(p.error()));
      // The failure is sticky: the same call fails again, with the same code.
      const std::error_code first = p.error();
      node again;
      FUZZ_CHECK(p.next(window, again).status == outcome::error);
      FUZZ_CHECK(p.error() == first);
      r.final = outcome::error;
      r.error = first;
      break;
    }
    FUZZ_CHECK(!p.error());
    if (available_index + 1 == boundaries.size()) break;  // need more, and there is no more
    ++available_index;
  }
  r.consumed = pos;
  r.depth = p.depth();

  // reset() forgets the failure or the partial reply: a fresh reply parses (if the line limit
  // lets "+OK\r" before the LF at all).
  p.reset();
  FUZZ_CHECK(p.depth() == 0 && !p.error() && !p.done());
  node ok;
  const step s = p.next("+OK\r\n", ok);
  if (lim.max_line_length >= 4) {
    FUZZ_CHECK(s.status == outcome::node && s.consumed == 5 && p.done() && ok.value == "OK");
  } else {
    FUZZ_CHECK(s.status == outcome::error && p.error() == uredis::errc::line_too_long);
  }
  return r;
}

void append_number(std::string& out, std::uint64_t v) {
  char digits[24];
  const int n = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(v));
  out.append(digits, static_cast<std::size_t>(n));
}

// The nodes written back as canonical RESP: what a correct encoder would have sent.
std::string canonical(std::string_view input, const std::vector<record>& nodes) {
  std::string out;
  const auto view = [&](std::ptrdiff_t offset, std::size_t size) {
    return offset < 0 ? std::string_view() : input.substr(static_cast<std::size_t>(offset), size);
  };
  for (const record& r : nodes) {
    const std::string_view value = view(r.value_offset, r.value_size);
    const auto line = [&](char marker) {
      out += marker;
      out += value;
      out += "\r\n";
    };
    const auto bulk = [&](char marker) {
      out += marker;
      append_number(out, value.size());
      out += "\r\n";
      out += value;
      out += "\r\n";
    };
    const auto aggregate = [&](char marker) {
      out += marker;
      append_number(out, r.size);
      out += "\r\n";
    };
    switch (r.t) {
      case type::simple_string:
        line('+');
        break;
      case type::simple_error:
        line('-');
        break;
      case type::integer:
        line(':');
        break;
      case type::null:
        out += "_\r\n";
        break;
      case type::boolean:
        line('#');
        break;
      case type::double_:
        line(',');
        break;
      case type::big_number:
        line('(');
        break;
      case type::bulk_string:
        bulk('$');
        break;
      case type::bulk_error:
        bulk('!');
        break;
      case type::verbatim_string:
        out += '=';
        append_number(out, value.size() + 4);
        out += "\r\n";
        out += view(r.format_offset, r.format_size);
        out += ':';
        out += value;
        out += "\r\n";
        break;
      case type::array:
        aggregate('*');
        break;
      case type::map:
        aggregate('%');
        break;
      case type::set:
        aggregate('~');
        break;
      case type::attribute:
        aggregate('|');
        break;
      case type::push:
        aggregate('>');
        break;
    }
  }
  return out;
}

// The canonical bytes parse to the same nodes (compared by content, not position). Returns them.
std::string check_canonical(std::string_view input, const run_result& original, const limits& lim) {
  std::string bytes = canonical(input, original.nodes);
  const run_result again = feed(bytes, lim, {bytes.size()}, false);
  FUZZ_CHECK(again.final == outcome::need_more);
  FUZZ_CHECK(again.consumed == bytes.size());
  FUZZ_CHECK(again.nodes.size() == original.nodes.size());
  const auto text = [](std::string_view buffer, std::ptrdiff_t offset, std::size_t size) {
    return offset < 0 ? std::string_view() : buffer.substr(static_cast<std::size_t>(offset), size);
  };
  for (std::size_t i = 0; i < again.nodes.size(); ++i) {
    const record& a = original.nodes[i];
    const record& b = again.nodes[i];
    FUZZ_CHECK(a.t == b.t && a.depth == b.depth && a.in_attribute == b.in_attribute);
    FUZZ_CHECK(a.size == b.size && a.integer == b.integer && a.real_bits == b.real_bits);
    FUZZ_CHECK(a.done == b.done && a.depth_after == b.depth_after);
    FUZZ_CHECK(text(input, a.value_offset, a.value_size) ==
               text(bytes, b.value_offset, b.value_size));
    FUZZ_CHECK(text(input, a.format_offset, a.format_size) ==
               text(bytes, b.format_offset, b.format_size));
  }
  return bytes;
}

// The reply tree of every complete reply in `input`, each one formatted on the way.
std::vector<reply> build_trees(std::string_view input, const limits& lim) {
  std::vector<reply> trees;
  parser p(lim);
  reply tree;
  reply_builder builder(tree);
  node n;
  for (;;) {
    const step s = p.next(input, n);
    if (s.status != outcome::node) break;
    input.remove_prefix(s.consumed);
    builder.on_node(n);
    // The builder counts elements on its own stack: it must end the reply where the parser does.
    FUZZ_CHECK(builder.done() == p.done());
    if (!p.done()) continue;

    const std::string text = uredis::resp::format(tree);
    FUZZ_CHECK(!text.empty() && text.back() == '\n');
    const reply copy = tree;
    FUZZ_CHECK(copy == tree);
    FUZZ_CHECK(uredis::resp::format(copy) == text);
    trees.push_back(std::move(tree));
    tree = reply();
    builder.reset();
  }
  return trees;
}

// Parses `input` with every schedule under `lim`; all must agree. Returns the whole-buffer run.
run_result parse_all_ways(std::string_view input, const limits& lim, std::uint64_t seed) {
  const run_result whole = feed(input, lim, {input.size()}, false);

  if (input.size() > 1) {
    splitmix rng{seed};
    std::vector<std::size_t> splits;
    const std::size_t count = 1 + rng.next() % 8;
    for (std::size_t i = 0; i < count; ++i)
      splits.push_back(1 + rng.next() % (input.size() - 1));
    splits.push_back(input.size());
    std::sort(splits.begin(), splits.end());
    splits.erase(std::unique(splits.begin(), splits.end()), splits.end());
    FUZZ_CHECK(feed(input, lim, splits, true) == whole);
  }

  if (input.size() <= bytewise_max) {
    std::vector<std::size_t> each(input.size());
    for (std::size_t i = 0; i < each.size(); ++i)
      each[i] = i + 1;
    if (each.empty()) each.push_back(0);
    FUZZ_CHECK(feed(input, lim, each, true) == whole);
  }
  return whole;
}

// `narrow` runs under limits no looser than `wide`'s: limits only turn nodes into errors, so its
// nodes are a prefix of `wide`'s, and if it did not fail the runs are identical.
void check_limits_monotonic(const run_result& narrow, const run_result& wide) {
  FUZZ_CHECK(narrow.nodes.size() <= wide.nodes.size());
  FUZZ_CHECK(std::equal(narrow.nodes.begin(), narrow.nodes.end(), wide.nodes.begin()));
  if (narrow.final != outcome::error) FUZZ_CHECK(narrow == wide);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The schedule and the small limits come from the first bytes (and the size), so mutating the
  // tail of a long input keeps its schedule, and a saved input replays exactly.
  std::uint64_t seed = size;
  for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i)
    seed = seed * 0x100000001b3ull ^ data[i];
  splitmix rng{seed};

  const limits defaults;
  const run_result base = parse_all_ways(input, defaults, rng.next());
  const std::string canonical_bytes = check_canonical(input, base, defaults);
  FUZZ_CHECK(build_trees(input, defaults) == build_trees(canonical_bytes, defaults));

  // Small limits, each no looser than the default, to reach every limit error.
  limits small;
  small.max_depth = static_cast<std::uint32_t>(rng.next() % 9);
  small.max_bulk_length = rng.next() % 64;
  small.max_aggregate_size = rng.next() % 16;
  small.max_line_length = rng.next() % 48;
  check_limits_monotonic(parse_all_ways(input, small, rng.next()), base);

  // The whole stack: deep nesting must fail cleanly at the capacity, not write past it.
  limits deep;
  deep.max_depth = limits::depth_capacity;
  check_limits_monotonic(base, parse_all_ways(input, deep, rng.next()));
  return 0;
}
