#include "keys.hpp"

namespace uredis::bench {

key_source::key_source(key_pattern pattern, std::uint64_t keyspace, double zipf_exponent,
                       std::size_t shard, std::size_t shards, std::uint64_t seed) noexcept
    : pattern_(pattern),
      keyspace_(keyspace),
      first_(keyspace == 0 ? 0 : shard % keyspace),
      stride_(keyspace == 0 ? 0 : shards % keyspace),
      next_(first_),
      seed_(seed),
      rng_(seed) {
  if (pattern == key_pattern::zipf && keyspace > 0) zipf_.emplace(keyspace, zipf_exponent);
}

void key_source::restart() noexcept {
  next_ = first_;
  rng_.reseed(seed_);
}

std::uint64_t key_source::next_number() noexcept {
  switch (pattern_) {
    case key_pattern::uniform:
      break;
    case key_pattern::sequential: {
      const std::uint64_t n = next_;
      next_ += stride_;  // both below keyspace_: one subtraction wraps
      if (next_ >= keyspace_) next_ -= keyspace_;
      return n;
    }
    case key_pattern::zipf:
      return zipf_->sample(rng_) - 1;
  }
  return rng_.below(keyspace_);
}

std::string_view key_source::key(std::string_view prefix) noexcept {
  static constexpr std::string_view placeholder = "__rand_int__";
  static_assert(placeholder.size() <= digits);
  // The prefix is one of a few literals: copy it only when it changes.
  if (prefix.data() != prefix_.data() || prefix.size() != prefix_.size()) {
    prefix_ = prefix.substr(0, max_prefix);
    prefix_.copy(buffer_, max_prefix);
    if (keyspace_ == 0) placeholder.copy(buffer_ + prefix_.size(), digits);
  }
  const std::size_t n = prefix_.size();
  if (keyspace_ == 0) return {buffer_, n + placeholder.size()};
  std::uint64_t v = next_number();
  for (std::size_t i = digits; i-- > 0;) {
    buffer_[n + i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return {buffer_, n + digits};
}

}  // namespace uredis::bench
