#pragma once
// The golden corpus of RESP replies (tests/resp/golden/) for the tests that read it: each case is
// NAME.resp, the bytes of one or more replies, and NAME.txt, what redis-cli --no-raw prints for
// them. Header-only, so a test needs no extra build wiring to use it.
//
// The corpus is found through $UREDIS_GOLDEN_DIR if set, else next to this header in the source
// tree: __FILE__ is relative to the build directory, an ancestor of the test executable's.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace uredis::test {

struct golden_case {
  std::string name;      // "redis-cli/map_in_array"
  std::string input;     // the .resp bytes
  std::string expected;  // the .txt bytes
};

/// The golden directory, or an empty path if it cannot be found.
inline std::filesystem::path golden_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("UREDIS_GOLDEN_DIR"); env != nullptr && *env != '\0')
    return fs::path(env);
  const fs::path here = fs::path(__FILE__).parent_path() / ".." / "resp" / "golden";
  if (here.is_absolute()) return fs::exists(here, ec) ? here : fs::path();
  fs::path base = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (; !ec && !base.empty(); base = base.parent_path()) {
    if (fs::exists(base / here, ec)) return fs::weakly_canonical(base / here, ec);
    if (base == base.parent_path()) break;
  }
  return fs::exists(here, ec) ? here : fs::path();
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Every case of `subdir` ("redis-cli" or "rules"), sorted by name.
inline std::vector<golden_case> golden_cases(const std::string& subdir) {
  namespace fs = std::filesystem;
  std::vector<golden_case> cases;
  const fs::path dir = golden_dir() / subdir;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".resp") continue;
    fs::path txt = p;
    txt.replace_extension(".txt");
    cases.push_back({subdir + "/" + p.stem().string(), read_file(p), read_file(txt)});
  }
  std::sort(cases.begin(), cases.end(),
            [](const golden_case& a, const golden_case& b) { return a.name < b.name; });
  return cases;
}

}  // namespace uredis::test
