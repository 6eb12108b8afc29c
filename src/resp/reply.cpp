#include "uredis/resp/reply.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace uredis::resp {
namespace {

// Aggregate sizes come from the peer: reserve no more than this up front, so a hostile
// "*4000000000" costs nothing until its elements actually arrive.
constexpr std::uint64_t max_reserve = 256;

}  // namespace

reply::reply(const reply& other)
    : text_(other.text_),
      elements_(other.elements_),
      attributes_(other.attributes_ ? std::make_unique<reply>(*other.attributes_) : nullptr),
      integer_(other.integer_),
      real_(other.real_),
      type_(other.type_) {
  std::copy(std::begin(other.format_), std::end(other.format_), format_);
}

reply& reply::operator=(const reply& other) {
  if (this != &other) *this = reply(other);
  return *this;
}

reply reply::from_node(const node& n) {
  reply r;
  r.type_ = n.type;
  switch (n.type) {
    case resp::type::integer:
    case resp::type::boolean:
      r.integer_ = n.integer;
      break;
    case resp::type::double_:
      r.real_ = n.real;
      r.text_.assign(n.value);
      break;
    case resp::type::verbatim_string: {
      r.text_.assign(n.value);
      const std::size_t len = std::min(n.format.size(), sizeof r.format_);
      std::fill(std::begin(r.format_), std::end(r.format_), ' ');
      std::copy_n(n.format.data(), len, r.format_);
      break;
    }
    case resp::type::array:
    case resp::type::map:
    case resp::type::set:
    case resp::type::attribute:
    case resp::type::push:
      r.elements_.reserve(std::min(child_count(n.type, n.size), max_reserve));
      break;
    case resp::type::null:
      break;
    default:  // strings, errors, big numbers
      r.text_.assign(n.value);
      break;
  }
  return r;
}

namespace {
// A scalar whose whole content is its text: built the way the parser's node would be.
reply text_reply(resp::type t, std::string_view text) {
  node n;
  n.type = t;
  n.value = text;
  return reply::from_node(n);
}
}  // namespace

reply reply::make_simple_string(std::string_view text) {
  return text_reply(resp::type::simple_string, text);
}

reply reply::make_simple_error(std::string_view text) {
  return text_reply(resp::type::simple_error, text);
}

reply reply::make_bulk_string(std::string_view bytes) {
  return text_reply(resp::type::bulk_string, bytes);
}

reply reply::make_bulk_error(std::string_view bytes) {
  return text_reply(resp::type::bulk_error, bytes);
}

reply reply::make_verbatim_string(std::string_view format, std::string_view text) {
  node n;
  n.type = resp::type::verbatim_string;
  n.format = format;
  n.value = text;
  return from_node(n);
}

reply reply::make_integer(std::int64_t value) {
  reply r;
  r.type_ = resp::type::integer;
  r.integer_ = value;
  return r;
}

reply reply::make_double(double value) {
  if (std::isnan(value)) return make_double(value, "nan");
  if (std::isinf(value)) return make_double(value, value > 0 ? "inf" : "-inf");
  char buf[32];  // the shortest round-trip text of a double is at most 24 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return make_double(value, ec == std::errc{} ? std::string_view(buf, end - buf) : "0");
}

reply reply::make_double(double value, std::string_view text) {
  reply r;
  r.type_ = resp::type::double_;
  r.real_ = value;
  r.text_.assign(text);
  return r;
}

reply reply::make_boolean(bool value) {
  reply r;
  r.type_ = resp::type::boolean;
  r.integer_ = value ? 1 : 0;
  return r;
}

reply reply::make_big_number(std::string_view digits) {
  node n;
  n.type = resp::type::big_number;
  n.value = digits;
  return from_node(n);
}

reply reply::make_aggregate(resp::type t, std::vector<reply> elements) {
  reply r;
  r.type_ = t;
  r.elements_ = std::move(elements);
  return r;
}

reply reply::make_array(std::vector<reply> elements) {
  return make_aggregate(resp::type::array, std::move(elements));
}

reply reply::make_map(std::vector<reply> pairs) {
  return make_aggregate(resp::type::map, std::move(pairs));
}

reply reply::make_set(std::vector<reply> elements) {
  return make_aggregate(resp::type::set, std::move(elements));
}

reply reply::make_push(std::vector<reply> elements) {
  return make_aggregate(resp::type::push, std::move(elements));
}

reply reply::make_attribute(std::vector<reply> pairs) {
  return make_aggregate(resp::type::attribute, std::move(pairs));
}

void reply::attach_attributes(reply attrs) {
  attributes_ = std::make_unique<reply>(std::move(attrs));
}

bool operator==(const reply& a, const reply& b) noexcept {
  if (a.type_ != b.type_ || a.integer_ != b.integer_ || a.text_ != b.text_ ||
      a.verbatim_format() != b.verbatim_format() || a.elements_ != b.elements_)
    return false;
  if (a.attributes_ == nullptr || b.attributes_ == nullptr)
    return a.attributes_ == nullptr && b.attributes_ == nullptr;
  return *a.attributes_ == *b.attributes_;
}

void reply_builder::on_node(const node& n) {
  if (done_) return;

  if (n.type == resp::type::attribute) {
    // Collect it for the element that follows, in the slot of the aggregate that element will
    // join. A second attribute before that element appends its pairs to the first.
    std::unique_ptr<reply>& slot = stack_.empty() ? root_pending_ : stack_.back().pending;
    if (!slot) slot = std::make_unique<reply>(reply::make_attribute({}));
    if (n.size > 0) stack_.push_back(frame{slot.get(), child_count(n.type, n.size), true, nullptr});
    return;
  }

  reply* placed = nullptr;
  if (stack_.empty()) {
    *out_ = reply::from_node(n);
    out_->attributes_ = std::move(root_pending_);
    placed = out_;
  } else {
    frame& top = stack_.back();
    top.target->elements_.push_back(reply::from_node(n));
    placed = &top.target->elements_.back();
    placed->attributes_ = std::move(top.pending);
  }

  if (is_aggregate(n.type) && n.size > 0) {
    // `placed` stays put while it is open: in pre-order, its parent gets no new element (which
    // could move it) until every element of `placed` has arrived.
    stack_.push_back(frame{placed, child_count(n.type, n.size), false, nullptr});
    return;
  }
  complete();
}

void reply_builder::complete() noexcept {
  bool counts = true;
  while (!stack_.empty()) {
    frame& top = stack_.back();
    if (--top.remaining != 0) return;
    // The aggregate on top is complete: it is one element of the frame below, unless it is an
    // attribute, which decorates rather than counts.
    counts = !top.attribute;
    stack_.pop_back();
    if (!counts) return;
  }
  done_ = counts;
}

void reply_builder::reset() noexcept {
  stack_.clear();
  root_pending_.reset();
  done_ = false;
}

step parse_reply_tree(std::string_view bytes, reply& out, std::error_code& ec, const limits& lim) {
  parser p(lim);
  reply_builder builder(out);
  std::size_t offset = 0;
  node n;
  for (;;) {
    const step s = p.next(bytes.substr(offset), n);
    switch (s.status) {
      case outcome::need_more:
        return {outcome::need_more, 0};
      case outcome::error:
        ec = p.error();
        return {outcome::error, offset};
      case outcome::node:
        break;
    }
    offset += s.consumed;
    builder.on_node(n);
    if (p.done()) return {outcome::node, offset};
  }
}

}  // namespace uredis::resp
