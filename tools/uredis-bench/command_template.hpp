#pragma once
// command_template: --command "SET __key__ __data__", any command with placeholders that are
// filled in per request (the redis-benchmark / memtier_benchmark convention):
//
//   __key__   the request's key (keys.hpp: "key:000000000042" with -r, else
//             "key:__rand_int__"); every __key__ of one request is the same key
//   __data__  the value: -d bytes of 'x'
//
// The text is split into arguments by redis-cli's rules (quotes, escapes: see uredis-cli's
// split_args.hpp), so "SET 'my key' __data__" works. A placeholder may be a whole argument or
// part of one ("HSET user:__key__ name __data__"). One --command per run (the flag replaces -t;
// given twice, the last wins).
//
// Encoding allocates nothing: whole-argument placeholders and literal arguments are viewed; an
// argument that mixes text and placeholders is assembled in a scratch buffer sized at parse
// time for the longest result (so it never grows), one per shard (exec() encodes at once, so the
// next request may reuse it).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::bench {

class command_template {
 public:
  /// Parses `text`; nullopt and `error` set when its quoting is invalid or it is empty.
  static std::optional<command_template> parse(std::string_view text, std::string& error);

  /// The text as given, for reports.
  std::string_view text() const noexcept { return text_; }
  /// Whether any argument uses __key__ (else no key is drawn per request).
  bool uses_key() const noexcept { return uses_key_; }
  /// The longest argument built from parts, with a key of `key_size` and a value of `data_size`
  /// bytes: the size the scratch buffer must have.
  std::size_t scratch_size(std::size_t key_size, std::size_t data_size) const noexcept;

  /// One request of the template, for connection::exec(): views the template, `key`, `data`
  /// and `scratch` (of at least scratch_size() bytes), which must outlive the exec() call.
  struct request {
    const command_template* form;
    std::string_view key;
    std::string_view data;
    char* scratch;

    using response = resp::ignore_t;  // any reply; an error reply still counts as an error
    void encode(resp::encoder& e) const { form->encode(e, key, data, scratch); }
    // Like cmd::raw: which words are keys depends on the command (__key__ may also be only a
    // part of one), and the benchmark routes nothing by key.
    static constexpr bool keyless = true;
  };

  /// The same request naming its keys, for the client-side cache (uredis-bench --cache), which
  /// tracks and drops entries by key: every argument after the command name that holds
  /// __key__, as assembled (so "HGET user:__key__ name" names "user:key:..."). Arguments
  /// without __key__ are not named, so only a template that uses __key__ is sent this way.
  struct keyed_request {
    const command_template* form;
    std::string_view key;
    std::string_view data;
    char* scratch;

    using response = resp::ignore_t;
    void encode(resp::encoder& e) const { form->encode(e, key, data, scratch); }
    // Each key is assembled in `scratch` and valid during its call to f only.
    void for_each_key(auto&& f) const { form->for_each_key(key, data, scratch, f); }
  };

 private:
  enum class part_kind : unsigned char { text, key, data };
  struct part {
    part_kind kind;
    std::string text;  // kind text only (owned: a view would dangle when the template moves)
  };
  struct argument {
    std::size_t first_part;
    std::size_t part_count;
  };

  void encode(resp::encoder& e, std::string_view key, std::string_view data, char* scratch) const;
  std::string_view part_text(const part& p, std::string_view key,
                             std::string_view data) const noexcept;
  // Argument `a` with the placeholders filled in (assembled in `scratch` when it has parts).
  std::string_view assemble(const argument& a, std::string_view key, std::string_view data,
                            char* scratch) const noexcept;
  template <class F>
  void for_each_key(std::string_view key, std::string_view data, char* scratch, F& f) const {
    for (std::size_t i = 1; i < arguments_.size(); ++i) {
      const argument& a = arguments_[i];
      for (std::size_t p = a.first_part; p < a.first_part + a.part_count; ++p) {
        if (parts_[p].kind == part_kind::key) {
          f(assemble(a, key, data, scratch));
          break;
        }
      }
    }
  }

  std::string text_;
  std::vector<part> parts_;
  std::vector<argument> arguments_;
  bool uses_key_ = false;
};

}  // namespace uredis::bench
