// cache::command_index, the store's flat hash table of commands, against std::unordered_map as
// the model: random inserts, finds and erases (many enough that runs wrap around the end of
// the table and erases shift slots back across it), growth, clear(), and util::hash_bytes on
// every length its tail reads differently.

#include "uredis/cache/command_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uredis/util/hash_bytes.hpp"

namespace uredis::cache {
namespace {

struct value {
  std::string command;
};

TEST(CommandIndex, EmptyFindsNothing) {
  command_index<value> index(nullptr);
  EXPECT_EQ(index.find("*1\r\n$4\r\nPING\r\n"), nullptr);
  EXPECT_EQ(index.find(""), nullptr);
  EXPECT_TRUE(index.empty());
}

TEST(CommandIndex, FindsWhatWasInsertedAndNotWhatWasErased) {
  command_index<value> index(nullptr);
  value a{"GET a"};
  value b{"GET b"};
  index.insert(a.command, &a);
  index.insert(b.command, &b);
  EXPECT_EQ(index.find("GET a"), &a);
  EXPECT_EQ(index.find("GET b"), &b);
  EXPECT_EQ(index.find("GET c"), nullptr);
  EXPECT_EQ(index.find("GET "), nullptr);  // a prefix is another command
  index.erase(a.command, &a);
  EXPECT_EQ(index.find("GET a"), nullptr);
  EXPECT_EQ(index.find("GET b"), &b);
  EXPECT_EQ(index.size(), 1u);
}

// The model test: every operation checked against std::unordered_map, then every command
// looked up, so a slot lost or left behind by a backward shift shows.
TEST(CommandIndex, MatchesAMapOverRandomInsertsAndErases) {
  std::mt19937_64 random(20261206);
  std::vector<value> values(600);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i].command = "*2\r\n$3\r\nGET\r\n$" + std::to_string(i) + "\r\nkey:" + std::to_string(i);
  command_index<value> index(nullptr);
  std::unordered_map<std::string_view, value*> model;
  for (int step = 0; step < 20000; ++step) {
    value& v = values[random() % values.size()];
    if (model.contains(v.command)) {
      index.erase(v.command, &v);
      model.erase(v.command);
    } else {
      index.insert(v.command, &v);
      model.emplace(v.command, &v);
    }
    ASSERT_EQ(index.size(), model.size());
    if (step % 97 == 0) {
      for (value& w : values) {
        const auto it = model.find(w.command);
        ASSERT_EQ(index.find(w.command), it == model.end() ? nullptr : it->second)
            << "step " << step << ": " << w.command;
      }
    }
  }
}

TEST(CommandIndex, ClearVisitsEveryValueOnceAndEmpties) {
  std::vector<value> values(100);
  command_index<value> index(nullptr);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i].command = "GET " + std::to_string(i);
    index.insert(values[i].command, &values[i]);
  }
  std::set<value*> seen;
  index.clear([&](value* v) { EXPECT_TRUE(seen.insert(v).second); });
  EXPECT_EQ(seen.size(), values.size());
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.find(values[0].command), nullptr);
  index.insert(values[0].command, &values[0]);  // usable again
  EXPECT_EQ(index.find(values[0].command), &values[0]);
}

TEST(CommandIndexHash, EveryLengthAndEveryByteChangesTheHash) {
  // Lengths 0 to 40 cover each way the tail is read (none, 1-3 bytes, two 4-byte and two
  // 8-byte words) and the 16-byte loop; flipping any one byte must change the hash.
  std::string bytes;
  std::set<std::uint64_t> hashes;
  for (std::size_t n = 0; n <= 40; ++n) {
    bytes.assign(n, 'a');
    const std::uint64_t h = util::hash_bytes(bytes);
    EXPECT_TRUE(hashes.insert(h).second) << "length " << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string flipped = bytes;
      flipped[i] = 'b';
      EXPECT_NE(util::hash_bytes(flipped), h) << "length " << n << ", byte " << i;
    }
  }
  EXPECT_EQ(util::hash_bytes("GET k"), util::hash_bytes(std::string("GET k")));
}

}  // namespace
}  // namespace uredis::cache
