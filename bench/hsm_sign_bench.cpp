// P-256 signatures through pki::Signer: the key in a PKCS#11 token (SoftHSM2 here) against the
// same kind of key in a file, same run, 1 and 2 threads. bench/hsm_bench.sh makes the token and
// the keys and passes them in; `openssl speed ecdsap256` is its peer outside revocore.
//
// Run: bench/hsm_bench.sh      (or: hsm_sign_bench FILE_CERT FILE_KEY TOKEN_CERT TOKEN_URI MODULE)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "pki/signer.hpp"

namespace revocore {
namespace {

std::unique_ptr<pki::Signer> file_signer;
std::unique_ptr<pki::Signer> token_signer;

// The size of an OCSP ResponseData for one certificate: what a nonce answer signs.
const std::string kMessage(220, 'r');

void sign_loop(benchmark::State& state, const pki::Signer& signer) {
  std::string signature;
  for (auto _ : state) {
    signer.sign(kMessage, signature);
    benchmark::DoNotOptimize(signature.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FileKey(benchmark::State& state) {
  sign_loop(state, *file_signer);
}
void TokenKey(benchmark::State& state) {
  sign_loop(state, *token_signer);
}

BENCHMARK(FileKey)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(TokenKey)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace revocore

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: hsm_sign_bench FILE_CERT FILE_KEY TOKEN_CERT TOKEN_URI MODULE "
                 "(bench/hsm_bench.sh prepares them)\n");
    return 2;
  }
  using revocore::pki::Signer;
  revocore::file_signer =
      std::make_unique<Signer>(Signer::load("bench file key", "issuer", argv[1], argv[2]));
  revocore::token_signer = std::make_unique<Signer>(
      Signer::load("bench token key", "issuer", argv[3], argv[4], argv[5]));
  benchmark::RunSpecifiedBenchmarks();
  revocore::token_signer.reset();
  revocore::file_signer.reset();
  benchmark::Shutdown();
  return 0;
}
