// CRLs of 1,000,000 entries: generate, sign and publish. Contenders in the same run, same
// serials, same P-256 key:
//   RevocoreCrlPublisher  CrlPublisher::publish: one LMDB scan, DER written straight into the
//                         file, signed from its pages, published atomically (fsync); the time
//                         split into scan+encode+write, headers+hash+sign, publish;
//   RevocoreCrlGenerate   the same as a process (`revocore crl generate`), its RssAnon and RssFile
//                         sampled apart (LMDB's map and the CRL's pages are file-backed);
//   OpensslCrlApi         the same entries through OpenSSL's per-entry X509_CRL API
//                         (X509_REVOKED per entry, X509_CRL_sort, X509_CRL_sign), in process;
//   OpensslCaGencrl       `openssl ca -gencrl` on an index.txt holding the same revoked serials.
// And partitioned CRLs (issue 13): 1,000,000 revoked of 2,000,000 certificates of an issuer with
// 128 shards, after one revocation (one shard regenerated) and after a mass revocation touching
// every shard (all 128), in process and as `revocore crl generate` processes.
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
#include "revocation/crl_shard.hpp"
#include "revocation/status_transition.hpp"

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
  IssuerId sharded = 0;
  std::size_t sharded_certificates = 0;
  std::uint64_t next_valid = 1;  // the sharded issuer's odd serials are valid until revoked here

  // `count` certificates of "bench-sharded", serials 1..count, every even one revoked, each
  // bound to one of 128 CRL shards as registration binds them.
  static IssuerId populate_sharded(Store& store, const std::string& ca_der, std::size_t count) {
    WriteTransaction txn = store.write();
    IssuerRecord record;
    record.name = "bench-sharded";
    record.certificate_der = ca_der;
    record.crl_shards = 128;
    record.unsharded_certificates = 0;
    const IssuerId id = txn.add_issuer(record);
    CertificateRecord certificate;
    certificate.not_after = 1'900'000'000;
    certificate.credential_id = "sharded";
    for (std::uint64_t serial = 1; serial <= count; ++serial) {
      const CertificateKey key{id, Serial::from_hex(fmt::format("{:X}", serial))};
      const bool revoked = serial % 2 == 0;
      certificate.status = revoked ? CertificateStatus::kRevoked : CertificateStatus::kValid;
      certificate.reason = revoked ? ReasonCode::kKeyCompromise : ReasonCode::kUnspecified;
      certificate.revocation_time = revoked ? 1'790'000'000 : 0;
      certificate.crl_shard = crl_shard_for(key.serial, 128);
      txn.add_certificate(key, certificate);
    }
    txn.commit();
    return id;
  }

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
    sharded_certificates = 2 * certificates;
    sharded = populate_sharded(*store, ca.front().der(), sharded_certificates);
    const std::string toml =
        std::string(config::kDefaultConfigToml) +
        "\n[[issuer]]\nname = \"bench-ca\"\ncertificate = \"ca.pem\"\nprivate_key = "
        "\"ca.key\"\npublish_directory = \"crl\"\n"
        "\n[[issuer]]\nname = \"bench-sharded\"\ncertificate = \"ca.pem\"\nprivate_key = "
        "\"ca.key\"\npublish_directory = \"crl\"\ncrl_shards = 128\n"
        "distribution_point = \"http://crl.bench/crl/bench-sharded/{shard}.crl\"\n";
    std::ofstream(dir / "revocore.toml") << toml;  // for the `revocore crl generate` processes
    config = config::Configuration::parse(toml, "revocore.toml", dir);

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

// Where a publication's time went, and the RssAnon it added, as counters.
void report(benchmark::State& state, const crl::CrlPublisher& publisher,
            const bench::RssSampler& sampler, const bench::RssSplit& peak) {
  const crl::CrlPublishTimings& t = publisher.last_timings();
  state.counters["write_ms"] = t.write_seconds * 1000;
  state.counters["sign_ms"] = t.sign_seconds * 1000;
  state.counters["publish_ms"] = t.publish_seconds * 1000;
  state.counters["rss_anon_added_mib"] = peak.anon_mib - sampler.baseline().anon_mib;
  state.counters["rss_file_peak_mib"] = peak.file_mib;
}

void BM_RevocoreCrlPublisher(benchmark::State& state) {
  CrlBenchData& d = data();
  crl::CrlPublisher publisher(*d.store, *d.config, system_clock());
  std::size_t entries = 0;
  for (auto _ : state) {
    bench::reset_peak_rss();
    bench::RssSampler sampler;
    entries = publisher.publish("bench-ca", crl::CrlKind::kFull).entries;
    const bench::RssSplit peak = sampler.stop();
    state.counters["peak_rss_mib"] = bench::peak_rss_mib();
    report(state, publisher, sampler, peak);
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

// A contender run as a process of its own: its time, and its memory apart from the bench's.
void record_process(benchmark::State& state, const bench::PeerRun& run, const char* failure) {
  if (run.exit_code != 0) {
    state.SkipWithError(failure);
  }
  state.SetIterationTime(run.seconds);
  state.counters["peak_rss_mib"] = run.peak_rss_mib;
  state.counters["rss_anon_peak_mib"] = run.peak_split.anon_mib;
  state.counters["rss_file_peak_mib"] = run.peak_split.file_mib;
}

void BM_OpensslCaGencrl(benchmark::State& state) {
  CrlBenchData& d = data();
  const fs::path dir = d.directory.path();
  for (auto _ : state) {
    const bench::PeerRun run = bench::run_peer(
        {"openssl", "ca", "-gencrl", "-batch", "-config", (dir / "openssl-ca.cnf").string(),
         "-keyfile", (dir / "ca.key").string(), "-cert", (dir / "ca.pem").string(), "-out",
         (dir / "openssl.crl").string()});
    record_process(state, run, "openssl ca -gencrl failed");
  }
}

// The scan alone: every certificate of the 1,000,000 visited as the CRL publisher visits them,
// nothing encoded. What the publisher's write_ms has on top of this is encoding and writing.
void BM_StoreScanOnly(benchmark::State& state) {
  CrlBenchData& d = data();
  std::size_t listed = 0;
  for (auto _ : state) {
    listed = 0;
    const StoreTransaction txn = d.store->read();
    txn.for_each_certificate_of(d.issuer, [&](const CertificateStatusView& certificate) {
      listed += certificate.status != CertificateStatus::kValid ? 1 : 0;
    });
    benchmark::DoNotOptimize(listed);
  }
  state.counters["listed"] = static_cast<double>(listed);
}

// `revocore crl generate` as its own process, for its RssAnon apart from the bench's own.
void run_generate(benchmark::State& state, const std::vector<std::string>& arguments) {
  CrlBenchData& d = data();
  std::vector<std::string> argv = {REVOCORE_BINARY, "--data-dir", d.directory.path().string(),
                                   "crl", "generate"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  for (auto _ : state) {
    const bench::PeerRun run = bench::run_peer(argv);
    record_process(state, run, "revocore crl generate failed");
  }
}

void BM_RevocoreCrlGenerate(benchmark::State& state) {
  run_generate(state, {"--issuer", "bench-ca"});
}

// Revokes the sharded issuer's next valid certificates until `shards` shards are touched (1: one
// revocation), then times what publish_after makes: those shards' CRLs.
void revoke_then_publish(benchmark::State& state, std::size_t shards) {
  CrlBenchData& d = data();
  crl::CrlPublisher publisher(*d.store, *d.config, system_clock());
  std::size_t published = 0;
  std::size_t entries = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      WriteTransaction txn = d.store->write();
      std::vector<bool> touched(128, false);
      for (std::size_t left = shards; left > 0; d.next_valid += 2) {
        const CertificateKey key{d.sharded, Serial::from_hex(fmt::format("{:X}", d.next_valid))};
        set_certificate_status(txn, {key, CertificateStatus::kRevoked, ReasonCode::kKeyCompromise,
                                     1'790'000'200, "bench", "bench", 0});
        const std::uint16_t shard = crl_shard_for(key.serial, 128);
        if (!touched[shard]) {
          touched[shard] = true;
          --left;
        }
      }
      txn.commit();
    }
    state.ResumeTiming();
    bench::RssSampler sampler;
    const auto crls = publisher.publish_after({d.sharded});
    const bench::RssSplit peak = sampler.stop();
    published = crls.size();
    entries = 0;
    for (const auto& crl : crls) {
      entries += crl.entries;
    }
    report(state, publisher, sampler, peak);
  }
  state.counters["shards_published"] = static_cast<double>(published);
  state.counters["entries"] = static_cast<double>(entries);
}

// One more certificate revoked: its one shard is regenerated.
void BM_ShardedAfterOneRevocation(benchmark::State& state) {
  revoke_then_publish(state, 1);
}

// A mass revocation touching every shard (128 or more certificates): all 128 shards, 1,000,000
// entries and more in all.
void BM_ShardedAfterMassRevocation(benchmark::State& state) {
  revoke_then_publish(state, 128);
}

void BM_ShardedOneShardGenerate(benchmark::State& state) {
  run_generate(state, {"--issuer", "bench-sharded", "--shard", "17"});
}

void BM_ShardedEveryShardGenerate(benchmark::State& state) {
  run_generate(state, {"--issuer", "bench-sharded"});
}

BENCHMARK(BM_StoreScanOnly)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RevocoreCrlGenerate)->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_ShardedAfterOneRevocation)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ShardedAfterMassRevocation)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ShardedOneShardGenerate)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();
BENCHMARK(BM_ShardedEveryShardGenerate)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();
BENCHMARK(BM_RevocoreCrlPublisher)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpensslCrlApi)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpensslCaGencrl)->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace
}  // namespace revocore

BENCHMARK_MAIN();
