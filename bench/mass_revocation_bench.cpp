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

#include "bench/bench_support.hpp"
#include "revocation/batch_order.hpp"
#include "revocation/codec.hpp"
#include "revocation/store.hpp"

namespace revocore {
namespace {

using bench::credential_id;
using bench::kCredentialsPerUser;
using bench::peak_rss_mib;
using bench::reset_peak_rss;

// A store of users with 4 valid certificates each, in a scratch directory.
class Population {
 public:
  explicit Population(std::size_t users) : directory_("batch") {
    store_.emplace(Store::create(directory_.path(), StoreOptions{std::size_t{16} << 30}));
    bench::populate(*store_, users, CertificateStatus::kValid);
  }
  Store& store() { return *store_; }

 private:
  bench::ScratchDirectory directory_;
  std::optional<Store> store_;  // closed before the directory is removed
};

void BM_LockUsersBatchOrder(benchmark::State& state) {
  const std::size_t users = bench::user_count();
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
  const std::size_t users = bench::user_count();
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
