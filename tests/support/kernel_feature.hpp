#pragma once
// kernel_feature: what a test does on a kernel without an io_uring feature it is about
// (multishot recv, provided-buffer rings, SINGLE_ISSUER, MSG_RING, ...): it is skipped, with the
// reason, so it counts neither as a pass nor as a failure. A ring reports the features it
// obtained (io::ring_features); one it lacks on a kernel that has it is a set-up bug, and fails.
// (A program that needs io_uring itself skips as a whole: io_uring_required.cpp.)
//
//   if (test::lacks(r.features().multishot_recv, {6, 0, 0}, "multishot recv")) return;

#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <string>

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
  EXPECT_LT(kernel_version(), since)
      << "kernel " << kernel_release() << " has " << what << ", but the ring failed to obtain it";
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

}  // namespace uredis::test
