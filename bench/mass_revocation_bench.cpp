// Mass revocation: one BatchOrder that locks 250,000 users' 1,000,000 credentials and revokes
// their 1,000,000 certificates in one LMDB write transaction (commit and fsync included).
//
// Peer in the same run: "LmdbFloor" writes the same records (credential, certificate, journal
// entry per certificate) straight to LMDB with no lookups or state machine, in one transaction.
// The ratio says how much of the time is revocore's own work and how much is LMDB's.
//
// Run: build/bench/mass_revocation_bench --benchmark_repetitions=3
//      --benchmark_report_aggregates_only=true   (REVOCORE_BENCH_USERS changes the size)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "revocation/batch_order.hpp"
#include "revocation/codec.hpp"
#include "revocation/store.hpp"

namespace revocore {
namespace {

constexpr int kCredentialsPerUser = 4;
constexpr CredentialType kTypes[kCredentialsPerUser] = {
    CredentialType::kCard, CredentialType::kVirtualSmartCard, CredentialType::kMobileId,
    CredentialType::kSoftToken};

std::size_t user_count() {
  const char* value = std::getenv("REVOCORE_BENCH_USERS");
  return value != nullptr ? std::strtoul(value, nullptr, 10) : 250'000;
}

std::string credential_id(std::size_t user, int slot) {
  return fmt::format("c{}-{}", user, slot);
}

// A fresh store under $TMPDIR holding `users` users with 4 credentials of one valid certificate
// each. Removed when the object goes away.
class Population {
 public:
  explicit Population(std::size_t users)
      : directory_(std::filesystem::temp_directory_path() /
                   fmt::format("revocore-bench-{}", ::getpid())) {
    std::filesystem::remove_all(directory_);
    store_.emplace(Store::create(directory_, StoreOptions{std::size_t{16} << 30}));
    WriteTransaction txn = store_->write();
    IssuerRecord issuer;
    issuer.name = "bench-ca";
    issuer_ = txn.add_issuer(issuer);
    std::uint64_t serial = 1;
    for (std::size_t user = 0; user < users; ++user) {
      const std::string user_id = fmt::format("u{}", user);
      txn.put_user(User{user_id, "", LifecycleState::kActive, {"employee"}});
      for (int slot = 0; slot < kCredentialsPerUser; ++slot) {
        Credential credential;
        credential.id = credential_id(user, slot);
        credential.type = kTypes[slot];
        credential.user_id = user_id;
        txn.put_credential(credential);
        CertificateRecord record;
        record.not_after = 1'900'000'000;
        record.credential_id = credential.id;
        record.subject = fmt::format("CN=user {} credential {}", user, slot);
        txn.add_certificate(
            CertificateKey{issuer_, Serial::from_hex(fmt::format("{:X}", serial++))}, record);
      }
    }
    txn.commit();
  }
  ~Population() {
    store_.reset();
    std::filesystem::remove_all(directory_);
  }
  Store& store() { return *store_; }

 private:
  std::filesystem::path directory_;
  std::optional<Store> store_;
  IssuerId issuer_ = 0;
};

// Resets the kernel's peak-RSS mark (Linux clear_refs "5"), so VmHWM afterwards is the peak of
// the measured part only.
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
  }
  return 0;
}

void BM_LockUsersBatchOrder(benchmark::State& state) {
  const std::size_t users = user_count();
  for (auto _ : state) {
    state.PauseTiming();
    auto population = std::make_unique<Population>(users);
    BatchOrder order;
    order.process = "UsersProcLock";
    order.operator_name = "bench";
    order.time = 1'800'000'000;
    order.changes.reserve(users * kCredentialsPerUser);
    for (std::size_t user = 0; user < users; ++user) {
      for (int slot = 0; slot < kCredentialsPerUser; ++slot) {
        order.changes.push_back({credential_id(user, slot), LifecycleState::kLocked,
                                 CertificateTarget::kRevoked, ReasonCode::kAffiliationChanged,
                                 std::nullopt});
      }
    }
    reset_peak_rss();
    state.ResumeTiming();

    const BatchResult result = apply_batch_order(population->store(), order);

    state.PauseTiming();
    state.counters["peak_rss_mib"] = peak_rss_mib();
    if (result.revoked != users * kCredentialsPerUser) {
      state.SkipWithError("not every certificate was revoked");
    }
    population.reset();
    state.ResumeTiming();
  }
  state.counters["certificates_per_s"] =
      benchmark::Counter(static_cast<double>(users * kCredentialsPerUser),
                         benchmark::Counter::kIsIterationInvariantRate);
}

// The same writes with none of revocore's work: what LMDB alone costs for this transaction.
void BM_LmdbFloor(benchmark::State& state) {
  const std::size_t users = user_count();
  for (auto _ : state) {
    state.PauseTiming();
    auto population = std::make_unique<Population>(users);
    std::vector<std::pair<std::string, std::string>> credentials;  // id -> new value
    std::vector<std::pair<std::string, std::string>> certificates;
    {
      const StoreTransaction txn = population->store().read();
      lmdb::Cursor cursor(txn.raw(), txn.databases().credentials);
      std::string_view key, value;
      for (bool found = cursor.get(key, value, MDB_FIRST); found;
           found = cursor.get(key, value, MDB_NEXT)) {
        credentials.emplace_back(std::string(key), std::string(value));
      }
      lmdb::Cursor certs(txn.raw(), txn.databases().certificates);
      for (bool found = certs.get(key, value, MDB_FIRST); found;
           found = certs.get(key, value, MDB_NEXT)) {
        certificates.emplace_back(std::string(key), std::string(value));
      }
    }
    std::string journal_value(60, 'j');
    reset_peak_rss();
    state.ResumeTiming();

    WriteTransaction txn = population->store().write();
    const Databases& dbs = txn.databases();
    for (const auto& [key, value] : credentials) {
      txn.raw().put(dbs.credentials, key, value);
    }
    char sequence[8];
    std::uint64_t next = 1;
    for (const auto& [key, value] : certificates) {
      txn.raw().put(dbs.certificates, key, value);
      codec::store_u64_at(sequence, next++);
      txn.raw().put(dbs.journal, std::string_view(sequence, 8), journal_value, MDB_APPEND);
    }
    txn.commit();

    state.PauseTiming();
    state.counters["peak_rss_mib"] = peak_rss_mib();
    population.reset();
    state.ResumeTiming();
  }
  state.counters["certificates_per_s"] =
      benchmark::Counter(static_cast<double>(users * kCredentialsPerUser),
                         benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_LockUsersBatchOrder)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LmdbFloor)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace revocore

BENCHMARK_MAIN();
