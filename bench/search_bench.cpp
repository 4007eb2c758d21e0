// Search (revocation/search.hpp) over 250,000 users with names, 1,000,000 credentials and
// 1,000,000 certificates: a serial prefix, a user's name word, a credential id prefix, a query
// that matches nothing. Each is one call of search(), a page of 20, in a read transaction.
//
// Peer in the same run: `grep` over an `openssl ca` index.txt of the same 1,000,000
// certificates, which is how an operator of `openssl ca` finds a certificate by serial
// (`grep -m 20 -P '\t1A2B' index.txt`: a linear scan, with the process's start).
//
// Run: build/bench/search_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//      (REVOCORE_BENCH_USERS changes the size)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <fstream>
#include <optional>

#include "bench/bench_support.hpp"
#include "revocation/search.hpp"
#include "revocation/store.hpp"

namespace revocore {
namespace {

constexpr const char* kFirstNames[] = {"Anna", "Bertil",  "Carl",  "Cecilia", "David",
                                       "Eva",  "Fredrik", "Greta", "Hans",    "Ingrid"};

// The store (names added to the shared population) and the peer's index.txt, made once.
class Population {
 public:
  Population() : directory_("search") {
    store_.emplace(Store::create(directory_.path() / "store", StoreOptions{std::size_t{16} << 30}));
    const std::size_t users = bench::user_count();
    bench::populate(*store_, users, CertificateStatus::kValid);
    WriteTransaction txn = store_->write();
    for (std::size_t user = 0; user < users; ++user) {
      User record = *txn.user(fmt::format("u{}", user));
      record.name = fmt::format("{} Surname{}", kFirstNames[user % 10], user);
      txn.put_user(record);
    }
    txn.commit();
    std::ofstream index(directory_.path() / "index.txt");
    for (std::size_t serial = 1; serial <= users * bench::kCredentialsPerUser; ++serial) {
      // openssl ca writes serials in upper-case hex of whole octets.
      index << fmt::format("V\t300101000000Z\t\t{}\tunknown\t/CN=c{}\n",
                           Serial::from_hex(fmt::format("{:X}", serial)).hex(), serial);
    }
  }
  const Store& store() const { return *store_; }
  std::filesystem::path index() const { return directory_.path() / "index.txt"; }

 private:
  bench::ScratchDirectory directory_;
  std::optional<Store> store_;
};

const Population& population() {
  static const Population instance;
  return instance;
}

void run_search(benchmark::State& state, std::string_view query) {
  const Store& store = population().store();
  std::size_t hits = 0;
  for (auto _ : state) {
    const StoreTransaction txn = store.read();
    hits = search(txn, query, 20, 0).hits.size();
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits"] = static_cast<double>(hits);
}

// Serials are 1..1,000,000 in hex: "A2B" starts 1 + 16 + 256 + 4096 of them.
void BM_SearchSerialPrefix(benchmark::State& state) {
  run_search(state, "A2B");
}
// Serial 1,000,000 as openssl and revocore print it (whole octets).
void BM_SearchFullSerial(benchmark::State& state) {
  run_search(state, "0F4240");
}
// "Cecilia" is every tenth user's first name: 25,000 index entries start with "cec".
void BM_SearchNameWord(benchmark::State& state) {
  run_search(state, "cecilia surname12");
}
void BM_SearchCredentialPrefix(benchmark::State& state) {
  run_search(state, "c12345-");
}
void BM_SearchNothing(benchmark::State& state) {
  run_search(state, "zzz-nobody");
}

void BM_GrepIndexTxtSerial(benchmark::State& state) {
  const std::string index = population().index().string();
  for (auto _ : state) {
    const bench::PeerRun run = bench::run_peer({"grep", "-m", "20", "-P", "\\t0F4240\\t", index});
    if (run.exit_code != 0) {
      state.SkipWithError("grep did not find the serial");
    }
  }
}

BENCHMARK(BM_SearchSerialPrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SearchFullSerial)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SearchNameWord)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SearchCredentialPrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SearchNothing)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GrepIndexTxtSerial)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace revocore

BENCHMARK_MAIN();
