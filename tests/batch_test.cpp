// Batch lock jobs through the `revocore` program: a job of 100,000 users killed with SIGKILL
// several times and resumed ends exactly where an uninterrupted run does, with the same journal
// entries and none twice; unknown ids and wrong states are reported, not fatal.
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

#include "config/default_config.hpp"
#include "revocation/store.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kUsers = 100'000;

// A data directory with the default configuration and `users` users holding one card with one
// certificate each (an issuer without a key: no CRLs), plus the list of their ids.
void populate(const fs::path& dir, std::size_t users) {
  fs::create_directories(dir);
  std::ofstream(dir / "revocore.toml") << config::kDefaultConfigToml;
  Store store = Store::create(dir / "store");
  WriteTransaction txn = store.write();
  IssuerRecord issuer;
  issuer.name = "test-ca";
  const IssuerId issuer_id = txn.add_issuer(issuer);
  std::ofstream list(dir / "users.txt");
  for (std::size_t i = 1; i <= users; ++i) {
    const std::string user = fmt::format("u{}", i);
    txn.put_user(User{user, "", LifecycleState::kActive, {"employee"}});
    Credential card;
    card.id = fmt::format("card-{}", i);
    card.user_id = user;
    txn.put_credential(card);
    CertificateRecord record;
    record.not_after = testing::kTestTime + 86400 * 365;
    record.credential_id = card.id;
    txn.add_certificate(testing::key_for(issuer_id, i), record);
    list << user << "\n";
  }
  txn.commit();
}

std::string revocore_command(const fs::path& dir, const std::string& args) {
  return fmt::format("{} --data-dir '{}' --operator batch-operator {}", REVOCORE_BINARY,
                     dir.string(), args);
}

// What a run leaves behind, without times and sequence numbers.
struct Outcome {
  std::map<std::string, std::pair<int, int>> certificates;  // serial -> status, reason
  std::multiset<std::string> journal;  // serial, old, new, reason, process, operator
  std::size_t locked_users = 0;
  std::size_t audit_records = 0;
};

Outcome read_outcome(const fs::path& dir) {
  Outcome out;
  Store store = Store::open(dir / "store");
  const StoreTransaction txn = store.read();
  txn.for_each_certificate_of(1, [&](const CertificateStatusView& c) {
    out.certificates[Serial::from_der_content(c.serial_octets).hex()] = {
        static_cast<int>(c.status), static_cast<int>(c.reason)};
  });
  for (const auto& entry : txn.journal(1, txn.last_journal_sequence())) {
    out.journal.insert(
        fmt::format("{} {} {} {} {} {}", entry.certificate.serial.hex(),
                    static_cast<int>(entry.old_status), static_cast<int>(entry.new_status),
                    static_cast<int>(entry.reason), entry.process, entry.operator_name));
  }
  for (const User& user : txn.users_with_prefix("", kUsers + 1)) {
    out.locked_users += user.state == LifecycleState::kLocked;
  }
  out.audit_records = txn.audit(10 * kUsers).size();
  return out;
}

TEST(BatchJob, KilledAndResumedEndsExactlyLikeAnUninterruptedRun) {
  testing::TempDir tmp;
  const fs::path killed = tmp.path() / "killed";
  const fs::path straight = tmp.path() / "straight";
  populate(killed, kUsers);
  populate(straight, kUsers);
  const std::string lock =
      fmt::format("batch lock --file {} --reason 'Key compromise' --chunk 1000",
                  (killed / "users.txt").string());

  std::string output;
  ASSERT_EQ(
      testing::run_command(
          revocore_command(straight, fmt::format("batch lock --file {} --reason 'Key compromise' "
                                                 "--chunk 1000",
                                                 (straight / "users.txt").string())),
          &output),
      0)
      << output;

  // Start, kill at a random moment, resume, kill again... then let it finish. A kill can land
  // before the job's creation committed (nothing to resume: start it again), or after it ended.
  std::mt19937 random(20261122);
  int kills = 0;
  std::uint64_t last_done = 0;
  bool job_exists = false;
  auto check_job = [&] {
    std::string status_json;
    ASSERT_EQ(testing::run_command(revocore_command(killed, "--json batch status"), &status_json),
              0)
        << status_json;
    const auto jobs = boost::json::parse(status_json).as_array();
    ASSERT_LE(jobs.size(), 1u);  // a killed creation leaves no job behind, never half a job
    job_exists = !jobs.empty();
    if (job_exists) {
      const auto done = jobs[0].at("done").to_number<std::uint64_t>();
      EXPECT_GE(done, last_done);  // progress never goes back
      last_done = done;
    }
  };
  for (int attempt = 0; attempt < 8 && kills < 3; ++attempt) {
    const std::string command = revocore_command(killed, job_exists ? "batch resume 1" : lock);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::usleep(std::uniform_int_distribution<int>(150'000, 600'000)(random));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
      ++kills;
    }
    check_job();
  }
  EXPECT_GE(kills, 1) << "the job finished before it could be killed; raise kUsers";
  ASSERT_EQ(
      testing::run_command(revocore_command(killed, job_exists ? "batch resume 1" : lock), &output),
      0)
      << output;

  const Outcome a = read_outcome(killed);
  const Outcome b = read_outcome(straight);
  EXPECT_EQ(a.locked_users, kUsers);
  EXPECT_EQ(a.certificates.size(), kUsers);
  EXPECT_EQ(a.certificates, b.certificates);
  EXPECT_EQ(a.journal.size(), kUsers);  // one entry per certificate: none applied twice
  EXPECT_EQ(a.journal, b.journal);
  EXPECT_EQ(a.audit_records, b.audit_records);
  std::set<std::string> unique(a.journal.begin(), a.journal.end());
  EXPECT_EQ(unique.size(), a.journal.size());

  std::string status_json;
  ASSERT_EQ(testing::run_command(revocore_command(killed, "--json batch status 1"), &status_json),
            0);
  const auto job = boost::json::parse(status_json).as_array()[0].as_object();
  EXPECT_EQ(job.at("status"), "done");
  EXPECT_EQ(job.at("applied").to_number<std::uint64_t>(), kUsers);
  EXPECT_EQ(job.at("failed").to_number<std::uint64_t>(), 0u);
}

TEST(BatchJob, UnknownIdsAndWrongStatesAreReportedNotFatal) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  populate(dir, 10);
  std::string output;
  ASSERT_EQ(testing::run_command(revocore_command(dir, "user lock u3 --reason 'Key compromise'")),
            0);
  std::ofstream(dir / "mixed.txt") << "u1\nnobody\n# a comment\n\nu3\nu2\n";
  ASSERT_EQ(testing::run_command(
                revocore_command(dir, fmt::format("--json batch lock --file {} --reason 'Left the "
                                                  "organisation'",
                                                  (dir / "mixed.txt").string())),
                &output),
            0)
      << output;
  const auto job = boost::json::parse(output.substr(output.find('{'))).as_object();
  EXPECT_EQ(job.at("applied").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(job.at("failed").to_number<std::uint64_t>(), 2u);
  const auto& failures = job.at("failures").as_array();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].at("target"), "nobody");
  EXPECT_EQ(failures[1].at("target"), "u3");
  EXPECT_EQ(failures[1].at("reason"),
            "Lock user needs an active or inactive user; user u3 is locked");

  // Bad reason or empty list: refused before a job exists.
  EXPECT_EQ(testing::run_command(
                revocore_command(dir, fmt::format("batch lock --file {} --reason 'Bored'",
                                                  (dir / "mixed.txt").string())),
                &output),
            2)
      << output;
  std::ofstream(dir / "empty.txt") << "# nothing\n";
  EXPECT_EQ(testing::run_command(
                revocore_command(dir, fmt::format("batch lock --file {} --reason 'Key compromise'",
                                                  (dir / "empty.txt").string()))),
            2);
  EXPECT_EQ(testing::run_command(revocore_command(dir, "batch resume 42"), &output), 3) << output;
}

}  // namespace
}  // namespace revocore
