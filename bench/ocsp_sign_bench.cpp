// What one OCSP answer costs inside the responder, without HTTP, against its peers in the same
// run (Google Benchmark, P-256 delegated responder, a store of 40,000 certificates):
//   RevocoreStoredAnswer   a pre-signed response read from LMDB (the RFC 9919 model)
//   RevocoreNonceAnswer    a nonce request: decode, look up, encode, sign
//   OpenSslOcspBasicSign   peer: the same answer built with OpenSSL's OCSP API, as `openssl ocsp`
//                          (and revocore until 2026-11) does it
//   EcdsaSignOnly          peer: the P-256 signature alone, as `openssl speed ecdsap256` times it
// Usage: ocsp_sign_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
#include <benchmark/benchmark.h>
#include <openssl/ocsp.h>

#include <fstream>

#include "bench/bench_support.hpp"
#include "cli/demo_pki.hpp"
#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "ocsp/ocsp_responder.hpp"
#include "pki/openssl_handles.hpp"

namespace {

using namespace revocore;

struct Fixture {
  Fixture() : dir("ocsp-sign") {
    const UnixTime now = system_clock()();
    ca.emplace(pki::issue_certificate(
        {pki::CertificateRole::kRootCa, "bench CA", "revocore bench", now - 60, now + 86400},
        nullptr));
    signer.emplace(pki::issue_certificate({pki::CertificateRole::kOcspResponder, "bench responder",
                                           "revocore bench", now - 60, now + 86400},
                                          &*ca));
    pki::write_certificate_pem(dir.path() / "ca.pem", ca->certificate);
    pki::write_private_key_pem(dir.path() / "ca.key", ca->key.get());
    pki::write_certificate_pem(dir.path() / "responder.pem", signer->certificate);
    pki::write_private_key_pem(dir.path() / "responder.key", signer->key.get());
    config.emplace(config::Configuration::parse(
        std::string(config::kDefaultConfigToml) +
            "\n[[issuer]]\nname = \"bench-ca\"\ncertificate = \"ca.pem\"\n"
            "private_key = \"ca.key\"\nocsp_certificate = \"responder.pem\"\n"
            "ocsp_private_key = \"responder.key\"\n",
        "revocore.toml", dir.path()));
    store.emplace(Store::create(dir.path() / "store"));
    bench::populate(*store, 10'000, CertificateStatus::kValid, "bench-ca", ca->certificate.der());
    responder.emplace(*store, *config, system_clock());
    plain = make_request(false);
    nonce = make_request(true);
  }

  std::string make_request(bool with_nonce) const {
    pki::ScopedOcspRequest request(::OCSP_REQUEST_new());
    pki::ScopedAsn1Integer serial(::ASN1_INTEGER_new());
    ::ASN1_INTEGER_set_uint64(serial.get(), 20'001);
    ::OCSP_request_add0_id(
        request.get(),
        ::OCSP_cert_id_new(::EVP_sha1(), ::X509_get_subject_name(ca->certificate.handle()),
                           ::X509_get0_pubkey_bitstr(ca->certificate.handle()), serial.get()));
    if (with_nonce) {
      ::OCSP_request_add1_nonce(request.get(), nullptr, 16);
    }
    unsigned char* der = nullptr;
    const int length = ::i2d_OCSP_REQUEST(request.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  }

  bench::ScratchDirectory dir;
  std::optional<pki::IssuedCertificate> ca, signer;
  std::optional<config::Configuration> config;
  std::optional<Store> store;
  std::optional<ocsp::OcspResponder> responder;
  std::string plain, nonce;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

void RevocoreStoredAnswer(benchmark::State& state) {
  Fixture& f = fixture();
  ocsp::OcspAnswer answer;
  f.responder->answer(f.plain, answer);
  f.responder->flush_pending();
  for (auto _ : state) {
    f.responder->answer(f.plain, answer);
    if (!answer.from_store) {
      state.SkipWithError("not answered from the store");
    }
  }
}
BENCHMARK(RevocoreStoredAnswer);

void RevocoreNonceAnswer(benchmark::State& state) {
  Fixture& f = fixture();
  ocsp::OcspAnswer answer;
  for (auto _ : state) {
    f.responder->answer(f.nonce, answer);
    if (answer.outcome != ocsp::OcspOutcome::kGood) {
      state.SkipWithError("not answered good");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
// Two threads too: the HTTP server signs on both its worker threads at once.
BENCHMARK(RevocoreNonceAnswer)->Threads(1)->Threads(2)->UseRealTime();

void OpenSslOcspBasicSign(benchmark::State& state) {
  Fixture& f = fixture();
  const X509* signer = f.signer->certificate.handle();
  for (auto _ : state) {
    const auto* p = reinterpret_cast<const unsigned char*>(f.nonce.data());
    pki::ScopedOcspRequest request(
        ::d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(f.nonce.size())));
    pki::ScopedOcspBasicResponse basic(::OCSP_BASICRESP_new());
    pki::ScopedAsn1Time now(::X509_gmtime_adj(nullptr, 0));
    pki::ScopedAsn1Time next(::X509_gmtime_adj(nullptr, 3600));
    OCSP_CERTID* id = ::OCSP_onereq_get0_id(::OCSP_request_onereq_get0(request.get(), 0));
    ::OCSP_basic_add1_status(basic.get(), id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, now.get(),
                             next.get());
    ::OCSP_copy_nonce(basic.get(), request.get());
    ::OCSP_basic_sign(basic.get(), const_cast<X509*>(signer), f.signer->key.get(), ::EVP_sha256(),
                      nullptr, OCSP_RESPID_KEY);
    pki::ScopedOcspResponse response(
        ::OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    unsigned char* der = nullptr;
    const int length = ::i2d_OCSP_RESPONSE(response.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    benchmark::DoNotOptimize(length);
  }
}
BENCHMARK(OpenSslOcspBasicSign);

void EcdsaSignOnly(benchmark::State& state) {
  Fixture& f = fixture();
  pki::ScopedEvpPkeyCtx ctx(::EVP_PKEY_CTX_new(f.signer->key.get(), nullptr));
  ::EVP_PKEY_sign_init(ctx.get());
  const unsigned char digest[32] = {1, 2, 3};
  unsigned char signature[80];
  for (auto _ : state) {
    std::size_t length = sizeof signature;
    if (::EVP_PKEY_sign(ctx.get(), signature, &length, digest, sizeof digest) != 1) {
      state.SkipWithError("sign failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(EcdsaSignOnly)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
