// lone_key_read: the request bytes the cache writes itself for a lone-key read's hit are the
// bytes its descriptor's encode() writes (the one keying rule of the store), for every listed
// descriptor and every key length up to the buffer's; a longer key writes nothing (the general
// path takes it); every listed name is on the allow-list.

#include "uredis/cache/lone_key_read.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "uredis/cache/allow_list.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cache {
namespace {

template <class D>
std::string encoded(const D& command) {
  util::byte_buffer out;
  resp::encoder e{out};
  command.encode(e);
  return std::string(out.data());
}

// Every key length from empty to one past the longest that fits: the bytes equal encode()'s
// while the key fits, and are empty after.
template <class D>
void check_every_key_length() {
  SCOPED_TRACE(std::string(lone_key_read_name<D>));
  bool fitted_last = true;
  for (std::size_t length = 0; length <= lone_key_request::capacity; ++length) {
    std::string key(length, ' ');  // every byte differs from its neighbours
    for (std::size_t i = 0; i < length; ++i)
      key[i] = static_cast<char>('a' + (length + i) % 26);
    const D command{key};
    const lone_key_request r(command);
    if (r.bytes().empty()) {
      fitted_last = false;
      EXPECT_GT(length, 60u) << "a common key length must fit";
      continue;
    }
    EXPECT_TRUE(fitted_last) << "a longer key fitted after a shorter one did not: " << length;
    EXPECT_EQ(r.bytes(), encoded(command)) << "key length " << length;
  }
  EXPECT_FALSE(fitted_last) << "a key as long as the buffer cannot fit";
}

TEST(LoneKeyRead, the_bytes_are_what_encode_writes_for_every_listed_descriptor) {
  check_every_key_length<cmd::get>();
  check_every_key_length<cmd::strlen>();
  check_every_key_length<cmd::llen>();
  check_every_key_length<cmd::hgetall>();
  check_every_key_length<cmd::smembers>();
}

TEST(LoneKeyRead, binary_keys_are_written_as_they_are) {
  const std::string key("a\0\r\n$*b", 7);
  const cmd::get command{key};
  EXPECT_EQ(lone_key_request(command).bytes(), encoded(command));
}

TEST(LoneKeyRead, every_listed_name_is_on_the_allow_list) {
  EXPECT_TRUE(on_allow_list(lone_key_read_name<cmd::get>));
  EXPECT_TRUE(on_allow_list(lone_key_read_name<cmd::strlen>));
  EXPECT_TRUE(on_allow_list(lone_key_read_name<cmd::llen>));
  EXPECT_TRUE(on_allow_list(lone_key_read_name<cmd::hgetall>));
  EXPECT_TRUE(on_allow_list(lone_key_read_name<cmd::smembers>));
}

TEST(LoneKeyRead, only_the_listed_descriptors_are_lone_key_reads) {
  static_assert(lone_key_read<cmd::get> && lone_key_read<cmd::smembers>);
  static_assert(!lone_key_read<cmd::set>, "a write");
  static_assert(!lone_key_read<cmd::hget>, "a read of a key and a field");
  static_assert(!lone_key_read<cmd::exists>, "a read of any number of keys");
  SUCCEED();
}

}  // namespace
}  // namespace uredis::cache
