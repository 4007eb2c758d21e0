// Crash consistency: `revocore` is killed with SIGKILL at random moments while it runs lifecycle
// processes (batch orders), batch jobs and CRL publishing, at least 60 times, and the OCSP
// responder itself now and then. After every kill:
//   - the store opens;
//   - the journal and the certificate states agree (replaying the journal gives every status,
//     each entry starts from the status the previous one left), and users, credentials and
//     certificates agree with each other (nothing half-applied);
//   - no CRL number goes backwards, and the published CRLs are whole and correctly signed;
//   - OCSP never answers good for a revocation or hold that committed, and answers good for a
//     released hold.
// At the end, unfinished jobs are resumed and the CRL lists exactly what the store says.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "pki/x509_crl.hpp"
#include "revocation/store.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
constexpr int kUsers = 2000;
constexpr int kKillsWanted = 60;
constexpr std::uint64_t kFirstSerial = 0xC0000;

std::string user_id(int i) {
  return fmt::format("c{}", i);
}

// Runs `revocore ARGS...` and kills it after `delay_us` unless it ended first. True when the kill
// landed (the process was still running).
bool run_and_kill(const fs::path& data, const std::vector<std::string>& args, int delay_us) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::vector<std::string> all = {REVOCORE_BINARY, "--data-dir", data.string(), "--operator",
                                    "crash-test"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::usleep(static_cast<useconds_t>(delay_us));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

class CrashConsistency : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command(fmt::format("{} --data-dir {} --operator demo demo",
                                               REVOCORE_BINARY, data().string())),
              0);
    // Many more users than the demo has, each with one card and one certificate of the demo's
    // issuing CA (whose key signs the CRLs).
    Store store = Store::open(data() / "store");
    WriteTransaction txn = store.write();
    issuer_ = txn.issuer_by_name("demo-issuing-ca")->id;
    for (int i = 0; i < kUsers; ++i) {
      txn.put_user(User{user_id(i), "", LifecycleState::kActive, {"employee"}});
      Credential card;
      card.id = user_id(i) + "-card";
      card.user_id = user_id(i);
      txn.put_credential(card);
      CertificateRecord record;
      record.not_after = static_cast<UnixTime>(::time(nullptr)) + 365 * 86400;
      record.credential_id = card.id;
      txn.add_certificate(testing::key_for(issuer_, kFirstSerial + i), record);
    }
    txn.commit();
    issuing_ca_ = pki::X509Certificate::load_file(data() / "pki/issuing-ca.pem");
    start_responder();
  }

  void TearDown() override { testing::stop_responder(responder_); }

  fs::path data() const { return dir_.path() / "data"; }

  void start_responder() {
    responder_ = testing::start_responder(REVOCORE_BINARY, data(), dir_.path());
    ASSERT_NE(responder_.port, 0) << "revocore serve did not start";
  }

  // "good", "revoked" or what went wrong, from `openssl ocsp` by serial.
  std::string ocsp_status(const Serial& serial) const {
    std::string out;
    testing::run_command(fmt::format("openssl ocsp -issuer {0}/pki/issuing-ca.pem -serial 0x{1} "
                                     "-url http://127.0.0.1:{2}/ -no_nonce -VAfile "
                                     "{0}/pki/ocsp-responder.pem",
                                     data().string(), serial.hex(), responder_.port),
                         &out);
    if (out.find("Response verify OK") == std::string::npos) {
      return "unverified: " + out;
    }
    if (out.find(": good") != std::string::npos) {
      return "good";
    }
    return out.find(": revoked") != std::string::npos ? "revoked" : out;
  }

  // The published CRL (full or delta) is whole, signed by the CA, and its number has not gone
  // backwards. Returns its serials.
  std::set<std::string> check_crl(const std::string& name, std::uint64_t& last_number) {
    std::set<std::string> serials;
    const fs::path file = data() / "crl" / name;
    if (!fs::exists(file)) {
      return serials;
    }
    const pki::ScopedX509Crl crl = pki::load_crl_file(file);
    EXPECT_EQ(::X509_CRL_verify(crl.get(), ::X509_get0_pubkey(issuing_ca_.front().handle())), 1)
        << name << " does not verify";
    const pki::ScopedAsn1Integer number(static_cast<ASN1_INTEGER*>(
        ::X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
    EXPECT_TRUE(number) << name << " has no cRLNumber";
    const auto value = static_cast<std::uint64_t>(::ASN1_INTEGER_get(number.get()));
    EXPECT_GE(value, last_number) << name << " went backwards";
    last_number = value;
    STACK_OF(X509_REVOKED)* revoked = ::X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; revoked != nullptr && i < sk_X509_REVOKED_num(revoked); ++i) {
      serials.insert(
          pki::serial_of(::X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)))
              .hex());
    }
    return serials;
  }

  void check_everything(std::mt19937& random) {
    Store store = Store::open(data() / "store");  // must open after any kill
    const StoreTransaction txn = store.read();

    // Replay the journal: each entry starts where the previous one for that certificate ended.
    std::map<std::string, std::pair<CertificateStatus, std::uint64_t>> replayed;
    const std::uint64_t last = txn.last_journal_sequence();
    for (const JournalEntry& entry : txn.journal(1, last)) {
      auto& [status, sequence] =
          replayed.try_emplace(entry.certificate.serial.hex(), CertificateStatus::kValid, 0)
              .first->second;
      ASSERT_EQ(entry.old_status, status) << "journal #" << entry.sequence << " does not follow on";
      status = entry.new_status;
      sequence = entry.sequence;
    }

    std::vector<Serial> not_valid, released;
    const std::uint64_t crl_last_number = txn.crl_state(issuer_).last_number;
    EXPECT_GE(crl_last_number, reserved_number_) << "a reserved CRL number went backwards";
    reserved_number_ = crl_last_number;
    for (int i = 0; i < kUsers; ++i) {
      const auto user = txn.user(user_id(i));
      const auto card = txn.credential(user_id(i) + "-card");
      const auto key = testing::key_for(issuer_, kFirstSerial + i);
      const auto record = txn.certificate(key);
      ASSERT_TRUE(user && card && record);
      // One process is one transaction: the user, the card and the certificate moved together.
      const auto expected = user->state == LifecycleState::kActive ? CertificateStatus::kValid
                            : user->state == LifecycleState::kInactive
                                ? CertificateStatus::kOnHold
                                : CertificateStatus::kRevoked;
      ASSERT_EQ(card->state, user->state) << user->id;
      ASSERT_EQ(record->status, expected) << user->id;
      const auto found = replayed.find(key.serial.hex());
      const auto journal_status =
          found == replayed.end() ? CertificateStatus::kValid : found->second.first;
      ASSERT_EQ(record->status, journal_status) << user->id << ": journal and state disagree";
      if (found != replayed.end()) {
        EXPECT_EQ(record->status_sequence, found->second.second) << user->id;
      }
      if (record->status != CertificateStatus::kValid) {
        not_valid.push_back(key.serial);
      } else if (found != replayed.end()) {
        released.push_back(key.serial);
      }
    }

    check_crl("demo-issuing-ca.crl", full_number_);
    check_crl("demo-issuing-ca-delta.crl", delta_number_);

    // What committed is what OCSP says, for a sample.
    std::shuffle(not_valid.begin(), not_valid.end(), random);
    std::shuffle(released.begin(), released.end(), random);
    for (std::size_t i = 0; i < std::min<std::size_t>(2, not_valid.size()); ++i) {
      EXPECT_EQ(ocsp_status(not_valid[i]), "revoked") << not_valid[i].hex();
      ++ocsp_checks_;
    }
    if (!released.empty()) {
      EXPECT_EQ(ocsp_status(released.front()), "good") << released.front().hex();
      ++ocsp_checks_;
    }
  }

  testing::TempDir dir_;
  IssuerId issuer_ = 0;
  std::vector<pki::X509Certificate> issuing_ca_;
  testing::ResponderProcess responder_;
  std::uint64_t full_number_ = 0, delta_number_ = 0, reserved_number_ = 0;
  int ocsp_checks_ = 0;
};

TEST_F(CrashConsistency, SigkillAtRandomMomentsNeverLosesOrHalfAppliesAnything) {
  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> any_user(0, kUsers - 1);
  int kills = 0, responder_kills = 0, iterations = 0;
  std::map<std::string, int> kills_by_operation;
  for (; kills < kKillsWanted && iterations < 300; ++iterations) {
    std::vector<std::string> args;
    std::string operation;
    switch (random() % 6) {
      case 0:
        operation = "user lock";
        args = {"user", "lock", user_id(any_user(random)), "--reason", "Key compromise"};
        break;
      case 1:
        operation = "user deactivate";
        args = {"user", "deactivate", user_id(any_user(random)), "--reason", "Parental leave"};
        break;
      case 2:
        operation = "user reactivate";
        // Reactivate someone who is inactive, when there is such a user.
        args = {"user", "reactivate", user_id(any_user(random)), "--reason", "Returned from leave"};
        {
          Store store = Store::open(data() / "store");
          const StoreTransaction txn = store.read();
          for (int tries = 0; tries < 200; ++tries) {
            const std::string candidate = user_id(any_user(random));
            if (txn.user(candidate)->state == LifecycleState::kInactive) {
              args[2] = candidate;
              break;
            }
          }
        }
        break;
      case 3: {
        operation = "batch lock";
        const fs::path list = dir_.path() / fmt::format("list-{}.txt", iterations);
        std::ofstream out(list);
        for (int i = 0; i < 200; ++i) {
          out << user_id(any_user(random)) << "\n";
        }
        out.close();
        args = {"batch",   "lock", "--file", list.string(), "--reason", "Left the organisation",
                "--chunk", "10"};
        break;
      }
      case 4:
        operation = "crl generate";
        args = {"crl", "generate"};
        break;
      default:
        operation = "crl generate --delta";
        args = {"crl", "generate", "--delta"};
        break;
    }
    // A whole run takes about 15 ms (start-up, store, CRL signing and publishing): kill within it.
    if (run_and_kill(data(), args, 500 + static_cast<int>(random() % 15000))) {
      ++kills;
      ++kills_by_operation[operation];
    }
    if (iterations % 10 == 9) {
      // The responder too: it writes pre-signed responses to the store from a thread of its own.
      testing::stop_responder(responder_);
      ++responder_kills;
      start_responder();
    }
    check_everything(random);
    if (HasFatalFailure()) {
      break;
    }
  }
  EXPECT_GE(kills, kKillsWanted);

  // Resume whatever jobs the kills left unfinished, publish, and compare the CRL with the store.
  std::string status;
  ASSERT_EQ(testing::run_command(fmt::format("{} --data-dir {} --json batch status",
                                             REVOCORE_BINARY, data().string()),
                                 &status),
            0);
  int resumed = 0;
  boost::system::error_code ec;
  const boost::json::value jobs = boost::json::parse(status, ec);
  ASSERT_TRUE(!ec && jobs.is_array()) << status;
  for (const auto& job : jobs.as_array()) {
    if (job.at("status") != "done" || job.at("crls_published") != true) {
      ASSERT_EQ(
          testing::run_command(fmt::format("{} --data-dir {} batch resume {}", REVOCORE_BINARY,
                                           data().string(), job.at("id").as_int64())),
          0);
      ++resumed;
    }
  }
  ASSERT_EQ(testing::run_command(
                fmt::format("{} --data-dir {} crl generate", REVOCORE_BINARY, data().string())),
            0);
  check_everything(random);
  std::set<std::string> in_store;
  {
    Store store = Store::open(data() / "store");
    const StoreTransaction txn = store.read();
    txn.for_each_certificate_of(issuer_, [&](const CertificateStatusView& view) {
      if (view.status != CertificateStatus::kValid) {
        in_store.insert(Serial::from_der_content(view.serial_octets).hex());
      }
    });
  }
  std::uint64_t number = 0;
  EXPECT_EQ(check_crl("demo-issuing-ca.crl", number), in_store);
  int leftovers = 0;
  for (const auto& entry : fs::directory_iterator(data() / "crl")) {
    leftovers += entry.path().filename().string().find(".tmp.") != std::string::npos;
  }
  EXPECT_EQ(leftovers, 0) << "temporary CRL files of killed writers were not cleaned up";

  std::string by_operation;
  for (const auto& [operation, count] : kills_by_operation) {
    by_operation += fmt::format(" {}={}", operation, count);
  }
  // The figures docs/RELIABILITY.md quotes.
  std::cout << fmt::format(
      "crash consistency: {} iterations, {} kills of revocore ({}), {} of the responder, {} jobs "
      "resumed, {} OCSP answers checked, {} certificates revoked or held at the end\n",
      iterations, kills, by_operation.substr(1), responder_kills, resumed, ocsp_checks_,
      in_store.size());
}

}  // namespace
}  // namespace revocore
