// Full CRL of 1,000,000 entries: generate, sign and publish. Three contenders, same run, same
// serials, same P-256 key:
//   RevocoreCrlPublisher  CrlPublisher::publish: LMDB scan, DER encoded straight into one
//                         buffer, signed, written atomically (fsync);
//   OpensslCrlApi         the same entries through OpenSSL's per-entry X509_CRL API
//                         (X509_REVOKED per entry, X509_CRL_sort, X509_CRL_sign), in process:
//                         the library alternative the CRL issue asked to measure before choosing;
//   OpensslCaGencrl       `openssl ca -gencrl` on an index.txt holding the same revoked serials.
//
// Run: build/bench/crl_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <openssl/pem.h>

#include <fstream>

#include "bench/bench_support.hpp"
#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;

// Built once for all benchmarks: a CA made by openssl, a store of revoked certificates, and the
// same data as an `openssl ca` database.
struct CrlBenchData {
  bench::ScratchDirectory directory{"crl"};
  std::optional<Store> store;
  std::optional<config::Configuration> config;
  IssuerId issuer = 0;
  std::size_t certificates = 0;

  CrlBenchData() {
    const fs::path dir = directory.path();
    const std::string make_ca = fmt::format(
        "cd '{}' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "
        "'/CN=bench CA' -keyout ca.key -out ca.pem -days 30 -addext "
        "keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && chmod 600 ca.key",
        dir.string());
    if (std::system(make_ca.c_str()) != 0) {
      throw std::runtime_error("openssl req failed");
    }
    const auto ca = pki::X509Certificate::load_file(dir / "ca.pem");
    store.emplace(Store::create(dir / "store", StoreOptions{std::size_t{16} << 30}));
    const std::size_t users = bench::user_count();
    certificates = users * bench::kCredentialsPerUser;
    issuer =
        bench::populate(*store, users, CertificateStatus::kRevoked, "bench-ca", ca.front().der());
    config = config::Configuration::parse(
        std::string(config::kDefaultConfigToml) +
            "\n[[issuer]]\nname = \"bench-ca\"\ncertificate = \"ca.pem\"\nprivate_key = "
            "\"ca.key\"\npublish_directory = \"crl\"\n",
        "bench.toml", dir);

    // openssl ca's database: one "R" line per revoked certificate, same serials and reason.
    std::ofstream index(dir / "index.txt");
    for (std::size_t serial = 1; serial <= certificates; ++serial) {
      std::string hex = fmt::format("{:X}", serial);
      if (hex.size() % 2 != 0) {
        hex.insert(hex.begin(), '0');
      }
      index << "R\t300101000000Z\t260924000000Z,keyCompromise\t" << hex << "\tunknown\t/CN=c"
            << serial << "\n";
    }
    std::ofstream(dir / "index.txt.attr") << "unique_subject = no\n";
    std::ofstream(dir / "crlnumber") << "01\n";
    std::ofstream(dir / "openssl-ca.cnf")
        << "[ca]\ndefault_ca = bench\n[bench]\ndatabase = " << (dir / "index.txt").string()
        << "\ncrlnumber = " << (dir / "crlnumber").string()
        << "\ndefault_md = sha256\ndefault_crl_days = 1\n";
  }
};

CrlBenchData& data() {
  static CrlBenchData instance;
  return instance;
}

void BM_RevocoreCrlPublisher(benchmark::State& state) {
  CrlBenchData& d = data();
  crl::CrlPublisher publisher(*d.store, *d.config, system_clock());
  std::size_t entries = 0;
  for (auto _ : state) {
    bench::reset_peak_rss();
    entries = publisher.publish("bench-ca", crl::CrlKind::kFull).entries;
    state.counters["peak_rss_mib"] = bench::peak_rss_mib();
  }
  if (entries != d.certificates) {
    state.SkipWithError("the CRL does not list every certificate");
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["crl_mib"] =
      static_cast<double>(fs::file_size(d.directory.path() / "crl/bench-ca.crl")) / (1 << 20);
}

void BM_OpensslCrlApi(benchmark::State& state) {
  CrlBenchData& d = data();
  const fs::path dir = d.directory.path();
  const auto ca = pki::X509Certificate::load_file(dir / "ca.pem");
  pki::ScopedBio key_bio(::BIO_new_file((dir / "ca.key").c_str(), "r"));
  pki::ScopedEvpPkey key(::PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  for (auto _ : state) {
    bench::reset_peak_rss();
    pki::ScopedX509Crl crl(::X509_CRL_new());
    ::X509_CRL_set_version(crl.get(), 1);
    ::X509_CRL_set_issuer_name(crl.get(), ::X509_get_subject_name(ca.front().handle()));
    pki::ScopedOpenSslType<ASN1_TIME, ::ASN1_TIME_free> now(
        ::ASN1_TIME_set(nullptr, ::time(nullptr)));
    ::X509_CRL_set1_lastUpdate(crl.get(), now.get());
    ::X509_CRL_set1_nextUpdate(crl.get(), now.get());
    const StoreTransaction txn = d.store->read();
    txn.for_each_certificate_of(d.issuer, [&](const CertificateStatusView& c) {
      X509_REVOKED* entry = ::X509_REVOKED_new();
      pki::ScopedBignum number(
          ::BN_bin2bn(reinterpret_cast<const unsigned char*>(c.serial_octets.data()),
                      static_cast<int>(c.serial_octets.size()), nullptr));
      pki::ScopedAsn1Integer serial(::BN_to_ASN1_INTEGER(number.get(), nullptr));
      ::X509_REVOKED_set_serialNumber(entry, serial.get());
      pki::ScopedOpenSslType<ASN1_TIME, ::ASN1_TIME_free> date(
          ::ASN1_TIME_set(nullptr, static_cast<time_t>(c.revocation_time)));
      ::X509_REVOKED_set_revocationDate(entry, date.get());
      pki::ScopedOpenSslType<ASN1_ENUMERATED, ::ASN1_ENUMERATED_free> reason(
          ::ASN1_ENUMERATED_new());
      ::ASN1_ENUMERATED_set(reason.get(), static_cast<long>(c.reason));
      ::X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason.get(), 0, 0);
      ::X509_CRL_add0_revoked(crl.get(), entry);
    });
    ::X509_CRL_sort(crl.get());
    ::X509_CRL_sign(crl.get(), key.get(), ::EVP_sha256());
    unsigned char* der = nullptr;
    const int length = ::i2d_X509_CRL(crl.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    benchmark::DoNotOptimize(length);
    state.counters["peak_rss_mib"] = bench::peak_rss_mib();
  }
}

void BM_OpensslCaGencrl(benchmark::State& state) {
  CrlBenchData& d = data();
  const fs::path dir = d.directory.path();
  for (auto _ : state) {
    const bench::PeerRun run = bench::run_peer(
        {"openssl", "ca", "-gencrl", "-batch", "-config", (dir / "openssl-ca.cnf").string(),
         "-keyfile", (dir / "ca.key").string(), "-cert", (dir / "ca.pem").string(), "-out",
         (dir / "openssl.crl").string()});
    if (run.exit_code != 0) {
      state.SkipWithError("openssl ca -gencrl failed");
    }
    state.SetIterationTime(run.seconds);
    state.counters["peak_rss_mib"] = run.peak_rss_mib;
  }
}

BENCHMARK(BM_RevocoreCrlPublisher)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpensslCrlApi)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpensslCaGencrl)->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace
}  // namespace revocore

BENCHMARK_MAIN();
