#pragma once
// reply: an owning tree that holds any RESP2/RESP3 reply, for tools, tests and callers that do not
// know the shape of a reply in advance. It copies every byte it keeps, so it outlives the read
// buffer; it allocates, so it is not for the hot path (typed adapters are).
//
// Every node of the tree is a reply. Scalars keep their payload, aggregates their elements:
//
//   %1 +k *2 :1 :2   ->   reply{map, elements: [ {simple_string "k"},
//                                                 {array, elements: [{integer 1}, {integer 2}]} ]}
//
// Maps (and attributes) keep their pairs flattened: key, value, key, value... An attribute never
// appears among elements: it is kept aside, on the element it decorates (attributes()), so walking
// elements() walks the data and nothing else.
//
// Invariants: scalars have no elements; only aggregates do; an attribute hanging off an element
// is itself of type attribute. A tree built from parsed bytes is no deeper than the parser's
// limits::max_depth, which bounds the recursion of copying, comparing, destroying and formatting.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "uredis/resp/adapter.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/type.hpp"

namespace uredis::resp {

class reply {
 public:
  /// A null reply.
  reply() noexcept = default;
  reply(const reply& other);
  reply& operator=(const reply& other);
  reply(reply&&) noexcept = default;
  reply& operator=(reply&&) noexcept = default;
  ~reply() = default;

  // Factories, mostly for tests: each builds a reply of the type its name says.
  static reply make_null() { return reply{}; }
  static reply make_simple_string(std::string_view text);
  static reply make_simple_error(std::string_view text);
  static reply make_bulk_string(std::string_view bytes);
  static reply make_bulk_error(std::string_view bytes);
  /// `format` is the three-byte kind ("txt", "mkd"); longer input is cut, shorter padded with ' '.
  static reply make_verbatim_string(std::string_view format, std::string_view text);
  static reply make_integer(std::int64_t value);
  /// The text is the shortest one that reads back as `value` ("inf", "-inf" and "nan" included).
  static reply make_double(double value);
  /// A double as a server sent it: `text` is kept as is (redis-cli prints it as is).
  static reply make_double(double value, std::string_view text);
  static reply make_boolean(bool value);
  static reply make_big_number(std::string_view digits);
  static reply make_array(std::vector<reply> elements);
  /// `pairs` holds key, value, key, value...: an even count.
  static reply make_map(std::vector<reply> pairs);
  static reply make_set(std::vector<reply> elements);
  static reply make_push(std::vector<reply> elements);
  static reply make_attribute(std::vector<reply> pairs);
  /// The scalar a node carries, or an empty aggregate of its type (children are added by the
  /// builder). Copies the node's bytes.
  static reply from_node(const node& n);

  resp::type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == resp::type::null; }
  bool is_error() const noexcept { return resp::is_error(type_); }
  bool is_aggregate() const noexcept { return resp::is_aggregate(type_); }

  /// Strings and errors: their bytes. Verbatim strings: the text after "fmt:". Big numbers and
  /// doubles: their decimal text as sent. Everything else: empty.
  std::string_view text() const noexcept { return text_; }
  /// Verbatim strings: the three-byte format ("txt"). Everything else: empty.
  std::string_view verbatim_format() const noexcept {
    return type_ == resp::type::verbatim_string ? std::string_view(format_, sizeof format_)
                                                : std::string_view();
  }
  /// Integers: the value. Booleans: 1 or 0.
  std::int64_t integer() const noexcept { return integer_; }
  /// Doubles: the value.
  double real() const noexcept { return real_; }
  /// Booleans: the value.
  bool boolean() const noexcept { return integer_ != 0; }

  /// Aggregates: the elements (pairs flattened for maps and attributes). Scalars: empty.
  const std::vector<reply>& elements() const noexcept { return elements_; }
  std::vector<reply>& elements() noexcept { return elements_; }

  /// The attribute that decorated this element on the wire, or nullptr.
  const reply* attributes() const noexcept { return attributes_.get(); }
  /// Decorates this element with `attrs` (of type attribute), replacing any previous one.
  void attach_attributes(reply attrs);
  void detach_attributes() noexcept { attributes_.reset(); }

  /// Same type, same payload, same elements, same attributes. Doubles compare by their text, so
  /// a NaN equals itself and "1.0" differs from "1".
  friend bool operator==(const reply& a, const reply& b) noexcept;

 private:
  friend class reply_builder;

  static reply make_aggregate(resp::type t, std::vector<reply> elements);

  std::string text_;
  std::vector<reply> elements_;
  std::unique_ptr<reply> attributes_;
  std::int64_t integer_ = 0;
  double real_ = 0;
  resp::type type_ = resp::type::null;
  char format_[3] = {};
};

/// Builds a reply tree from the nodes of one reply, fed in pre-order as the parser yields them,
/// attribute nodes included (they end up on the element that follows them; several attributes in
/// a row are merged). Depth is tracked on an explicit stack, not by recursion; node::depth is not
/// consulted, the element counts are.
///
/// Owns nothing but its stack: the tree goes into the reply given at construction, which must
/// outlive the builder.
class reply_builder {
 public:
  explicit reply_builder(reply& out) noexcept : out_(&out) {}

  /// Adds the next node. Nodes arriving after done() are ignored.
  void on_node(const node& n);
  /// The whole reply has been fed.
  bool done() const noexcept { return done_; }
  /// Forgets a partial reply, ready to build the next one into the same `out`.
  void reset() noexcept;

 private:
  struct frame {
    reply* target;                   // the aggregate receiving the next element
    std::uint64_t remaining;         // elements still to come
    bool attribute;                  // target is an attribute: completing it adds no element
    std::unique_ptr<reply> pending;  // attributes for the next element of target
  };

  void complete() noexcept;

  reply* out_;
  std::vector<frame> stack_;
  std::unique_ptr<reply> root_pending_;  // attributes for the root element
  bool done_ = false;
};

/// Reads any reply into a reply tree: never a type mismatch. (The drivers in adapter.hpp skip
/// attributes; feed a reply_builder directly to keep them.)
template <>
class adapter<reply> {
 public:
  explicit adapter(reply& out) noexcept : builder_(out) {}
  void on_node(const node& n, std::error_code& /*ec*/) { builder_.on_node(n); }
  bool done() const noexcept { return builder_.done(); }

 private:
  reply_builder builder_;
};

/// Parses one whole reply, attributes included, from the front of `bytes` into `out`, with a
/// fresh parser configured by `lim`. Outcomes:
///   node       `out` holds the reply; `consumed` is its length in bytes
///   need_more  `bytes` ends inside the reply; `out` is unspecified
///   error      the bytes are malformed: `ec` says how, and `consumed` is the offset of the element
///              that failed; `out` is unspecified
/// (Named apart from adapter.hpp's read_reply<T>, which drops attributes and turns top-level
/// errors into server_error values.)
step parse_reply_tree(std::string_view bytes, reply& out, std::error_code& ec,
                      const limits& lim = {});

}  // namespace uredis::resp
