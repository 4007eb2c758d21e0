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
#include "revocation/lmdb.hpp"
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
  // Closes the store and leaves its files, for a peer that opens them itself.
  const std::filesystem::path& close_store() {
    store_.reset();
    return directory_.path();
  }

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

// The same writes with none of revocore's work: what LMDB alone costs for this transaction. The
// population is made as for BM_LockUsersBatchOrder and the store closed; its files are then
// opened as a plain LMDB environment (revocore's store keeps its own handles to revocation/), and
// the timed part overwrites every credential and certificate record with its own bytes and
// appends one journal entry per certificate, in one transaction with its commit. This is the one
// place outside revocation/ that calls LMDB, on purpose: it is the peer.
void BM_LmdbFloor(benchmark::State& state) {
  const std::size_t users = bench::user_count();
  for (auto _ : state) {
    state.PauseTiming();
    auto population = std::make_unique<Population>(users);
    std::vector<std::pair<std::string, std::string>> credentials;  // key -> value
    std::vector<std::pair<std::string, std::string>> certificates;
    std::optional<lmdb::Environment> env;
    env.emplace(population->close_store(), std::size_t{16} << 30, 16);
    MDB_dbi credential_db = 0, certificate_db = 0, journal_db = 0;
    {
      lmdb::Transaction txn(*env, lmdb::Transaction::Mode::kWrite);
      credential_db = txn.open_database("credentials", 0);
      certificate_db = txn.open_database("certificates", 0);
      journal_db = txn.open_database("journal", 0);
      std::string_view key, value;
      lmdb::Cursor cursor(txn, credential_db);
      for (bool found = cursor.get(key, value, MDB_FIRST); found;
           found = cursor.get(key, value, MDB_NEXT)) {
        credentials.emplace_back(std::string(key), std::string(value));
      }
      lmdb::Cursor certs(txn, certificate_db);
      for (bool found = certs.get(key, value, MDB_FIRST); found;
           found = certs.get(key, value, MDB_NEXT)) {
        certificates.emplace_back(std::string(key), std::string(value));
      }
      txn.commit();
    }
    std::string journal_value(60, 'j');
    reset_peak_rss();
    state.ResumeTiming();

    lmdb::Transaction txn(*env, lmdb::Transaction::Mode::kWrite);
    for (const auto& [key, value] : credentials) {
      txn.put(credential_db, key, value);
    }
    char sequence[8];
    std::uint64_t next = 1;
    for (const auto& [key, value] : certificates) {
      txn.put(certificate_db, key, value);
      codec::store_u64_at(sequence, next++);
      txn.put(journal_db, std::string_view(sequence, 8), journal_value, MDB_APPEND);
    }
    txn.commit();

    state.PauseTiming();
    state.counters["peak_rss_mib"] = peak_rss_mib();
    env.reset();  // before the population's directory goes
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
