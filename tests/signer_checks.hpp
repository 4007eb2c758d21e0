#pragma once
// Signs from several threads at once with one pki::Signer and checks every signature against
// the certificate's public key (OpenSSL's verifier, through Signer::verifies): shared by the
// file-key tests (pki_test) and the token-key tests (hsm_test).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pki/signer.hpp"

namespace revocore::testing {

inline void expect_signs_from_threads(const pki::Signer& signer, int threads, int per_thread) {
  std::vector<std::vector<std::pair<std::string, std::string>>> signed_by(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      std::string signature;
      for (int i = 0; i < per_thread; ++i) {
        const std::string message = fmt::format("message {} of thread {}", i, t);
        signer.sign(message, signature);
        signed_by[t].emplace_back(message, signature);
      }
    });
  }
  for (auto& thread : running) {
    thread.join();
  }
  for (const auto& pairs : signed_by) {
    ASSERT_EQ(pairs.size(), static_cast<std::size_t>(per_thread));
    for (const auto& [message, signature] : pairs) {
      EXPECT_TRUE(signer.verifies(message, signature)) << message;
    }
  }
}

}  // namespace revocore::testing
