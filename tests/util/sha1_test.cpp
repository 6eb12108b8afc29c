// sha1: the FIPS 180 example vectors, incremental hashing split at every block boundary, and
// agreement with Python's hashlib on random inputs of every length around the padding edges.

#include "uredis/util/sha1.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/util/random.hpp"

namespace uredis::util {
namespace {

std::string hex(std::string_view bytes) {
  const sha1::hex_digest d = sha1_hex(bytes);
  return std::string(d.data(), d.size());
}

TEST(Sha1, FipsVectors) {
  // FIPS 180-2 appendix A (one block, two blocks, a million 'a'), plus the empty message and
  // the 896-bit message of the NIST examples.
  EXPECT_EQ(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  EXPECT_EQ(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqkl"
                "mnopqrlmnopqrsmnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1, ScriptHandleAsRedisComputesIt) {
  // What SCRIPT LOAD answers for this script (redis-server 7).
  EXPECT_EQ(hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(Sha1, IncrementalEqualsOneShot) {
  std::string message;
  for (int i = 0; i < 300; ++i)
    message.push_back(static_cast<char>(i * 7 + 3));
  const sha1::digest_bytes whole = sha1_digest(message);
  for (std::size_t split = 0; split <= message.size(); ++split) {
    sha1 h;
    h.update(std::string_view(message).substr(0, split));
    h.update("");
    h.update(std::string_view(message).substr(split));
    EXPECT_EQ(h.digest(), whole) << "split at " << split;
  }
  sha1 bytewise;
  for (const char c : message)
    bytewise.update(std::string_view(&c, 1));
  EXPECT_EQ(bytewise.digest(), whole);
}

// Python's hashlib as the reference: random messages (every length 0..200, then longer ones),
// written hex-encoded to a file that python3 hashes line by line.
TEST(Sha1, AgreesWithPythonHashlib) {
  rng random(20261205);
  std::vector<std::string> messages;
  for (std::size_t length = 0; length <= 200; ++length) {
    std::string m(length, '\0');
    for (char& c : m)
      c = static_cast<char>(random() & 0xff);
    messages.push_back(std::move(m));
  }
  for (std::size_t length : {511u, 512u, 513u, 4095u, 4096u, 65537u}) {
    std::string m(length, '\0');
    for (char& c : m)
      c = static_cast<char>(random() & 0xff);
    messages.push_back(std::move(m));
  }

  const std::string path = testing::TempDir() + "uredis_sha1_inputs.txt";
  {
    std::ofstream out(path);
    static constexpr char digits[] = "0123456789abcdef";
    for (const std::string& m : messages) {
      for (const char c : m) {
        const auto b = static_cast<unsigned char>(c);
        out << digits[b >> 4] << digits[b & 0xf];
      }
      out << '\n';
    }
  }
  const std::string command =
      "python3 -c 'import hashlib,sys\n"
      "for line in open(sys.argv[1]): "
      "print(hashlib.sha1(bytes.fromhex(line.strip())).hexdigest())' " +
      path;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<std::string> expected;
  char line[128];
  while (std::fgets(line, sizeof line, pipe) != nullptr)
    expected.emplace_back(line, 40);
  ASSERT_EQ(pclose(pipe), 0) << "python3 failed";
  std::remove(path.c_str());

  ASSERT_EQ(expected.size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i)
    EXPECT_EQ(hex(messages[i]), expected[i]) << "message of " << messages[i].size() << " bytes";
}

}  // namespace
}  // namespace uredis::util
