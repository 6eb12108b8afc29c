#pragma once
// kernel_feature: what a test does on a kernel without an io_uring feature it is about
// (multishot recv, provided-buffer rings, SINGLE_ISSUER, MSG_RING, ...): it is skipped, with the
// reason, so it counts neither as a pass nor as a failure. A ring reports the features it
// obtained (io::ring_features); one it lacks on a kernel that has it is a set-up bug, and fails.
// Without io_uring itself, a test that needs it skips the same way (lacks_io_uring), and a
// program whose every test needs it skips as a whole (io_uring_required.cpp).
//
//   if (test::lacks(r.features().multishot_recv, {6, 0, 0}, "multishot recv")) return;
//   if (!created && test::lacks_io_uring(created.error())) return;

#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <string>
#include <system_error>

#include "uredis/error.hpp"
#include "uredis/util/version.hpp"

namespace uredis::test {

/// The running kernel's release (uname -r), as text.
inline std::string kernel_release() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

/// The running kernel's version, 0.0.0 when its release does not parse.
inline util::version kernel_version() {
  return util::parse_version(kernel_release()).value_or(util::version{});
}

/// Fails the test unless the running kernel predates `since`, the release that added `what`.
/// For a test that exercises the fallback when the ring lacks a feature.
inline void expect_kernel_predates(util::version since, const char* what) {
  EXPECT_TRUE(kernel_version() < since)
      << "kernel " << kernel_release() << " has " << what << " (since " << util::to_string(since)
      << "), but the ring failed to obtain it";
}

/// False when `feature` is there. Otherwise checks that the kernel really predates `since` (the
/// release that added `what`), marks the test skipped with the reason, and returns true: the
/// caller returns at once.
[[nodiscard]] inline bool lacks(bool feature, util::version since, const char* what) {
  if (feature) return false;
  expect_kernel_predates(since, what);
  // GTEST_SKIP returns from the function it is in: a lambda, so that this one can return true.
  [what] { GTEST_SKIP() << "kernel " << kernel_release() << " has no " << what; }();
  return true;
}

/// Whether `setup`, the error of creating a ring (or a reactor, a runtime), says io_uring itself
/// is unavailable here: no kernel support (ENOSYS), or disabled by sysctl
/// kernel.io_uring_disabled or a seccomp filter (EPERM). Any other failure is a real one.
inline bool io_uring_unavailable(std::error_code setup) {
  return setup == errc::io_uring_unsupported || setup == errc::io_uring_disabled;
}

/// False unless `setup` says io_uring is unavailable; then marks the test skipped with the cause
/// and returns true: the caller returns at once.
[[nodiscard]] inline bool lacks_io_uring(std::error_code setup) {
  if (!io_uring_unavailable(setup)) return false;
  [&setup] { GTEST_SKIP() << "no io_uring here: " << setup.message(); }();
  return true;
}

}  // namespace uredis::test
