// Linked into the test programs whose every test needs io_uring (a ring, a reactor, a client):
// where io_uring is unavailable (an old kernel, sysctl kernel.io_uring_disabled, a seccomp
// filter), the whole program is skipped, the Meson way (exit status 77) and saying why, before
// any test runs, instead of failing each test on its set-up. Any other set-up failure is left
// to the tests to report.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel_feature.hpp"
#include "uredis/io/ring.hpp"

namespace uredis::test {
namespace {

// Meson's (and automake's) exit status for "skipped".
constexpr int skip_status = 77;

class io_uring_required final : public ::testing::Environment {
 public:
  void SetUp() override {
    result<io::ring> r =
        io::ring::create({.entries = 2, .fast_setup = false, .probe_multishot = false});
    if (r.has_value() || !io_uring_unavailable(r.error())) return;
    std::printf("SKIPPED: every test of this program needs io_uring: %s (kernel %s)\n",
                r.error().message().c_str(), kernel_release().c_str());
    std::fflush(stdout);
    // No test ran, so no report: remove a stale one, lest it be read as this run's.
    const std::string output = GTEST_FLAG_GET(output);
    if (output.rfind("xml:", 0) == 0) std::remove(output.c_str() + 4);
    std::_Exit(skip_status);
  }
};

[[maybe_unused]] ::testing::Environment* const registered =
    ::testing::AddGlobalTestEnvironment(new io_uring_required);

}  // namespace
}  // namespace uredis::test
