#pragma once
// ocsp_suite: the base of a revocation test suite: one certificate set and the OCSP responses
// about it, made once for the whole suite (openssl takes seconds per set) and removed after
// its last test. A suite derives from it and reads `certs` and `responses`.

#include <gtest/gtest.h>

#include "ocsp_responses.hpp"
#include "test_certificates.hpp"

namespace uredis::test {

class ocsp_suite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs = new test_certificates();
    responses = new ocsp_responses(*certs);
  }
  static void TearDownTestSuite() {
    delete responses;
    delete certs;
    responses = nullptr;
    certs = nullptr;
  }

  inline static test_certificates* certs = nullptr;
  inline static ocsp_responses* responses = nullptr;
};

}  // namespace uredis::test
