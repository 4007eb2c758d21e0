// The `revocore` program as an operator runs it: exit codes, messages on stderr, --json output,
// the approval flow across two operators, and the demo.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

class CliTest : public ::testing::Test {
 protected:
  // Runs `revocore --data-dir <demo> ARGS` and captures both streams.
  Result revocore(const std::string& args) {
    const fs::path err_file = dir_.path() / "stderr.txt";
    const std::string command = fmt::format("{} --data-dir '{}' {} 2>'{}'", REVOCORE_BINARY,
                                            data_dir().string(), args, err_file.string());
    Result result;
    FILE* pipe = ::popen(command.c_str(), "r");
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
      result.out.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_file);
    std::stringstream text;
    text << err.rdbuf();
    result.err = text.str();
    return result;
  }

  boost::json::value json(const std::string& args) {
    const Result result = revocore("--json " + args);
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
    return boost::json::parse(result.out);
  }

  void run_demo() {
    const Result demo = revocore("--operator demo-operator demo");
    ASSERT_EQ(demo.exit_code, 0) << demo.err;
  }

  fs::path data_dir() const { return dir_.path() / "data"; }

  testing::TempDir dir_;
};

TEST_F(CliTest, DemoBuildsADataDirectoryAndRunsEachProcess) {
  const Result demo = revocore("--operator demo-operator demo");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  for (const char* expected : {"Lock user 1001", "Deactivate user 1002", "Reactivate user 1002",
                               "Deactivate card card-1003", "Reactivate card card-1003",
                               "Lock card card-1004", "imported 21 certificates"}) {
    EXPECT_NE(demo.out.find(expected), std::string::npos) << expected;
  }
  EXPECT_TRUE(fs::exists(data_dir() / "pki/issuing-ca.pem"));
  EXPECT_EQ(fs::status(data_dir() / "pki/issuing-ca.key").permissions() & fs::perms::group_read,
            fs::perms::none);

  const auto alice = json("user show 1001").as_object();
  EXPECT_EQ(alice.at("state"), "locked");
  EXPECT_TRUE(alice.at("roles").as_array().empty());
  for (const auto& credential : alice.at("credentials").as_array()) {
    EXPECT_EQ(credential.at("state"), "locked");
    for (const auto& certificate : credential.at("certificates").as_array()) {
      EXPECT_EQ(certificate.at("status"), "revoked");
      EXPECT_EQ(certificate.at("reason"), "affiliationChanged");
    }
  }
  const auto eva = json("user show 1005").as_object();
  EXPECT_EQ(eva.at("state"), "inactive");

  // The demo's certificates verify against its CA hierarchy with the openssl command line.
  const std::string verify = fmt::format(
      "openssl verify -CAfile {0}/pki/root-ca.pem -untrusted {0}/pki/issuing-ca.pem "
      "{0}/import/card-1002.pem {0}/pki/ocsp-responder.pem >/dev/null",
      data_dir().string());
  EXPECT_EQ(std::system(verify.c_str()), 0);

  // A second run needs --force, and --force rebuilds.
  EXPECT_EQ(revocore("demo").exit_code, 2);
  EXPECT_EQ(revocore("--operator demo-operator demo --force").exit_code, 0);
}

TEST_F(CliTest, DemoNeverDeletesADirectoryItDidNotMake) {
  fs::create_directories(data_dir());
  std::ofstream(data_dir() / "precious.txt") << "keep me";
  const Result result = revocore("demo --force");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("was not made by `revocore demo`"), std::string::npos) << result.err;
  EXPECT_TRUE(fs::exists(data_dir() / "precious.txt"));
}

TEST_F(CliTest, ErrorsHaveClearMessagesAndExitCodes) {
  run_demo();
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {"user deactivate 1001 --reason 'Parental leave'", 4,
       "revocore: error: Deactivate user needs an active user; user 1001 is locked\n"},
      {"user lock 4242 --reason 'Key compromise'", 3,
       "revocore: error: user 4242 does not exist; `revocore user list --prefix 42` lists the "
       "users whose id starts the same way\n"},
      {"user lock 1003 --reason 'Bored'", 2,
       "revocore: error: reason 'Bored' is not offered for Lock user; choose one of 'Left the "
       "organisation', 'Key compromise', 'Account no longer used', 'Privileges withdrawn'\n"},
      {"card deactivate mobile-1003 --reason 'Card not in use'", 4,
       "revocore: error: Deactivate card applies to a card; credential mobile-1003 is a "
       "mobile_id\n"},
      {"card lock card-9 --reason 'Card lost'", 3, "revocore: error: card card-9 does not exist\n"},
      {"cert status demo-issuing-ca XYZ", 2,
       "revocore: error: serial number 'XYZ' is not hexadecimal; give it as printed by `openssl "
       "x509 -serial`, e.g. 1A2B3C\n"},
      {"cert status demo-issuing-ca 01", 3,
       "revocore: error: issuer 'demo-issuing-ca' has no certificate with serial 01\n"},
      {"user lock 1003 --reason 'Key compromise' --invalidity-date yesterday", 2,
       "revocore: error: --invalidity-date 'yesterday' is not a date; write 2026-11-22 or "
       "2026-11-22T08:30:00Z (UTC)\n"},
      {"approvals approve 7", 14,
       "revocore: error: `revocore approvals approve` is refused: the command line cannot tell "
       "who the second operator is (-o is only a label); approve through the operator API with a "
       "client certificate, or set local_approvals = true in [authorization] of " +
           (dir_.path() / "data" / "revocore.toml").string() + " (docs/AUTHORIZATION.md)\n"},
  };
  for (const Case& c : cases) {
    const Result result = revocore(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.args;
    EXPECT_EQ(result.err, c.message) << c.args;
  }
  // Nothing above changed the store: the audit trail still ends with the demo's last process.
  const auto audit = json("audit -n 1").as_array();
  EXPECT_EQ(audit[0].at("process"), "UsersProcDeactivate");
  EXPECT_EQ(audit[0].at("target"), "1005");
}

// Dates are parsed strictly: what strptime and timegm let through (a 30th of February, year 0,
// second 61, leading spaces, single digits) is refused, naming the option.
TEST_F(CliTest, InvalidityDatesAreParsedStrictly) {
  run_demo();
  for (const char* bad : {"2026-02-30", "0000-01-01", "2026-11-20T23:59:61Z", "' 2026-11-20'",
                          "2026-1-5", "2026-11-20T24:00:00Z", "2026-11-20T08:30:00", "1969-12-31",
                          "2026-11-20T08:30:00+01:00", "2026-13-01"}) {
    const Result result =
        revocore(fmt::format("user lock 1003 --reason 'Key compromise' --invalidity-date {}", bad));
    EXPECT_EQ(result.exit_code, 2) << bad << ": " << result.err;
    EXPECT_NE(result.err.find("--invalidity-date"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("is not a date"), std::string::npos) << result.err;
  }
  const Result future =
      revocore("user lock 1003 --reason 'Key compromise' --invalidity-date 2999-01-01");
  EXPECT_EQ(future.exit_code, 2) << future.err;
  EXPECT_NE(future.err.find("in the future"), std::string::npos) << future.err;
  const Result leap =
      revocore("user lock 1003 --reason 'Key compromise' --invalidity-date 2024-02-29T12:00:00Z");
  EXPECT_EQ(leap.exit_code, 0) << leap.err;
}

TEST_F(CliTest, UsersAreListedByPrefix) {
  run_demo();
  const Result listed = revocore("user list --prefix 100");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("1002 "), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("operator-1"), std::string::npos) << listed.out;
  const auto json_list = json("user list --prefix 100 --limit 2").as_array();
  EXPECT_EQ(json_list.size(), 2u);
  EXPECT_EQ(json_list[0].at("id"), "1001");
  EXPECT_NE(revocore("user list --prefix zz").out.find("no user id starts with 'zz'"),
            std::string::npos);
}

TEST_F(CliTest, SearchFindsWhatTheApiFinds) {
  run_demo();
  const Result carl = revocore("search carl");
  EXPECT_EQ(carl.exit_code, 0) << carl.err;
  EXPECT_EQ(carl.out, "user 1003 Cecilia Carlsson (active)\n");
  const Result cards = revocore("search card- -n 2");
  EXPECT_NE(cards.out.find("card card-1001 of user 1001 (locked)"), std::string::npos) << cards.out;
  EXPECT_NE(cards.out.find("... more: --offset 2 for the next 2"), std::string::npos) << cards.out;
  const auto hits = json("search card-1003").at("hits").as_array();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].at("kind"), "credential");
  EXPECT_EQ(hits[0].at("user"), "1003");
  EXPECT_NE(revocore("search nobody").out.find("nothing matches 'nobody'"), std::string::npos);
  const Result empty = revocore("search ''");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("the search is empty"), std::string::npos) << empty.err;
  EXPECT_EQ(revocore("search card --limit 101").exit_code, 2);
}

TEST_F(CliTest, DryRunPrintsThePreviewAndChangesNothing) {
  run_demo();
  const Result dry = revocore("user lock 1003 --reason 'Key compromise' --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(dry.out.starts_with("Dry run, nothing changed: Lock user 1003")) << dry.out;
  EXPECT_NE(dry.out.find("card card-1003: active -> locked"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find(": valid -> revoked (keyCompromise)"), std::string::npos) << dry.out;
  EXPECT_EQ(json("user show 1003").at("state"), "active");
  EXPECT_EQ(json("audit").as_array().size(), 8u);  // as the demo left it
  const auto preview = json("card deactivate card-1003 --reason 'Card left at home' --dry-run");
  EXPECT_EQ(preview.at("outcome"), "preview");
  EXPECT_EQ(preview.at("certificates").at("held"), 2);
  EXPECT_EQ(json("card show card-1003").at("state"), "active");
}

TEST_F(CliTest, UsageErrorsExitTwoAsDocumented) {
  // CLI11's own codes (105-109) say which check failed; the README promises 2 for all of them.
  EXPECT_EQ(revocore("user lock 1001").exit_code, 2);  // --reason missing
  EXPECT_EQ(revocore("frobnicate").exit_code, 2);
  EXPECT_EQ(revocore("audit --limit many").exit_code, 2);
  EXPECT_EQ(revocore("user show").exit_code, 2);
  EXPECT_EQ(revocore("--help").exit_code, 0);
}

TEST_F(CliTest, JsonIsAcceptedBeforeAndAfterTheSubcommand) {
  run_demo();
  const Result before = revocore("--json user show 1002");
  const Result after = revocore("user show 1002 --json");
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);
  EXPECT_TRUE(after.out.starts_with("{")) << after.out;
}

TEST_F(CliTest, EveryReadCommandSpeaksJson) {
  run_demo();
  const auto card = json("card show card-1003").as_object();
  EXPECT_EQ(card.at("state"), "active");
  EXPECT_EQ(card.at("relation_state"), "active");
  const std::string serial(card.at("certificates").as_array()[0].at("serial").as_string());
  const auto status = json("cert status demo-issuing-ca " + serial).as_object();
  EXPECT_EQ(status.at("status"), "valid");
  EXPECT_EQ(status.at("credential"), "card-1003");

  const auto audit = json("audit").as_array();
  EXPECT_EQ(audit.size(), 8u);  // the import and seven processes
  EXPECT_EQ(audit.back().at("kind"), "import");
  EXPECT_TRUE(json("approvals list").as_array().empty());
  const auto reasons = json("reasons UsersProcLock").as_object();
  EXPECT_EQ(reasons.at("UsersProcLock").at("reasons").as_array()[0].at("code"),
            "affiliationChanged");
  const auto lock = json("--operator carol user lock 1003 --reason 'Key compromise'").as_object();
  EXPECT_EQ(lock.at("outcome"), "applied");
  EXPECT_EQ(lock.at("certificates").at("revoked"), 3);
  const auto card_after = json("card show card-1003").as_object();
  EXPECT_FALSE(card_after.at("certificates").as_array()[0].as_object().contains("invalidity_date"));
  json("user lock 1004 --reason 'Key compromise' --invalidity-date 2026-01-02T03:04:05Z");
  const auto soft = json("card show soft-1004").as_object();
  EXPECT_EQ(soft.at("certificates").as_array()[0].at("invalidity_date"), "2026-01-02T03:04:05Z");
}

TEST_F(CliTest, ApprovalNeedsASecondOperator) {
  run_demo();
  // The administrator turns the approval step on for Lock card.
  const fs::path config = data_dir() / "revocore.toml";
  std::stringstream text;
  text << std::ifstream(config).rdbuf();
  std::string edited = text.str();
  const std::string anchor =
      "relations = \"deactivate\"\napproval = false\nreasons = [\n  { label = \"Card lost\"";
  ASSERT_NE(edited.find(anchor), std::string::npos);
  edited.replace(
      edited.find(anchor), anchor.size(),
      "relations = \"deactivate\"\napproval = true\nreasons = [\n  { label = \"Card lost\"");
  // Approving on the command line is refused unless the administrator trusts local approvals.
  std::ofstream(config) << edited;
  EXPECT_EQ(revocore("--operator bob approvals approve 1").exit_code, 14);
  std::ofstream(config, std::ios::app) << "\n[authorization]\nlocal_approvals = true\n";

  const Result filed = revocore("--operator alice card lock card-1003 --reason 'Card stolen'");
  ASSERT_EQ(filed.exit_code, 0) << filed.err;
  EXPECT_NE(filed.out.find("needs approval: request #1"), std::string::npos) << filed.out;
  EXPECT_EQ(json("card show card-1003").at("state"), "active");
  EXPECT_EQ(json("approvals list").as_array().size(), 1u);

  const Result own = revocore("--operator alice approvals approve 1");
  EXPECT_EQ(own.exit_code, 4);
  EXPECT_EQ(own.err,
            "revocore: error: operator alice filed approval request #1 and cannot decide it; "
            "another operator must\n");
  const Result approved = revocore("--operator bob approvals approve 1");
  EXPECT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(json("card show card-1003").at("state"), "locked");
  const auto all = json("approvals list --all").as_array();
  EXPECT_EQ(all[0].at("status"), "approved");
  EXPECT_EQ(all[0].at("decided_by"), "bob");
  const auto last = json("audit -n 1").as_array()[0];
  EXPECT_EQ(last.at("operator"), "bob");
  EXPECT_EQ(last.at("requested_by"), "alice");
}

TEST_F(CliTest, BadConfigurationIsRefusedWithFileAndLine) {
  run_demo();
  const fs::path config = data_dir() / "revocore.toml";
  std::ofstream(config, std::ios::app) << "\n[process.UsersProcLock.extra]\n";
  const Result result = revocore("user show 1001");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.err.find(config.string() + ":"), std::string::npos) << result.err;
}

TEST_F(CliTest, CorruptOrForeignDataDirectoryIsRefused) {
  run_demo();
  std::ofstream(data_dir() / "store/data.mdb", std::ios::trunc) << std::string(16384, '\x5a');
  const Result result = revocore("user show 1001");
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_NE(result.err.find("not a readable LMDB environment"), std::string::npos) << result.err;
}

TEST_F(CliTest, InitWritesTheDefaultConfigurationAndCanRunTwice) {
  const Result first = revocore("init");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(fs::exists(data_dir() / "revocore.toml"));
  EXPECT_NE(first.out.find("add an [[issuer]]"), std::string::npos);
  EXPECT_EQ(revocore("init").exit_code, 0);
  EXPECT_EQ(revocore("config check").exit_code, 0);
  EXPECT_EQ(revocore("audit").out, "the audit trail is empty\n");
}

TEST_F(CliTest, ImportThroughTheCommandLine) {
  run_demo();
  // Re-importing the demo's own manifest: every certificate is already there.
  const Result again =
      revocore(fmt::format("import --manifest {}/import/manifest.csv", data_dir().string()));
  EXPECT_EQ(again.exit_code, 5);
  EXPECT_NE(again.err.find("manifest.csv:2: certificate serial"), std::string::npos) << again.err;
}

TEST_F(CliTest, CrlsArePublishedAfterEachProcessAndShown) {
  run_demo();
  const fs::path crl = data_dir() / "crl/demo-issuing-ca.crl";
  const auto before = json("crl show " + crl.string()).as_object();
  EXPECT_EQ(before.at("entries").as_array().size(), 11u);  // 7 revoked + 4 held after the demo
  const Result lock = revocore("--operator carol user lock 1003 --reason 'Key compromise'");
  ASSERT_EQ(lock.exit_code, 0) << lock.err;
  EXPECT_NE(lock.out.find("CRL #"), std::string::npos) << lock.out;
  // The change is in a delta over the current full CRL (RFC 5280 5.2.4): 11 + 3 together.
  const auto delta = json("crl show " + (data_dir() / "crl/demo-issuing-ca-delta.crl").string());
  EXPECT_EQ(delta.at("delta_base"), before.at("number"));
  EXPECT_GT(std::stoi(std::string(delta.at("number").as_string())),
            std::stoi(std::string(before.at("number").as_string())));
  EXPECT_EQ(delta.at("entries").as_array().size(), 3u);

  EXPECT_EQ(revocore("crl generate --if-due").out, "no CRL is due\n");
  const auto generated = json("crl generate --delta").as_array();
  EXPECT_EQ(generated[0].at("kind"), "delta");
  EXPECT_EQ(revocore("crl show /nonexistent.crl").exit_code, 3);
}

TEST_F(CliTest, CrlShardOfACertificateForIssuanceAndInCertStatus) {
  run_demo();
  const auto user = json("user show 1002").as_object();
  const auto& certificate =
      user.at("credentials").as_array()[0].at("certificates").as_array()[0].as_object();
  const std::string serial(certificate.at("serial").as_string());
  const auto shard = json("crl shard demo-issuing-ca " + serial).as_object();
  EXPECT_EQ(shard.at("registered"), true);
  EXPECT_EQ(shard.at("crl_shard"), 0);
  EXPECT_EQ(shard.at("crl_distribution_point"), "http://127.0.0.1:8080/crl/demo-issuing-ca.crl");
  const Result status = revocore("cert status demo-issuing-ca " + serial);
  EXPECT_NE(status.out.find("listed in CRL shard 0: http://127.0.0.1:8080/crl/demo-issuing-ca.crl"),
            std::string::npos)
      << status.out;
  const Result fresh = revocore("crl shard demo-issuing-ca 7E57AB1E");
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_NE(fresh.out.find("not registered: the shard registration will bind it to"),
            std::string::npos)
      << fresh.out;
  EXPECT_EQ(revocore("crl shard demo-issuing-ca not-hex").exit_code, 2);
  EXPECT_EQ(revocore("crl shard nobody 01").exit_code, 3);
  // --shard needs --issuer.
  EXPECT_EQ(revocore("crl generate --shard 0").exit_code, 2);
  const auto one = json("crl generate --issuer demo-issuing-ca --shard 0").as_array();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].at("shard"), 0);
  EXPECT_EQ(revocore("crl generate --issuer demo-issuing-ca --shard 1").exit_code, 2);
}

TEST_F(CliTest, CrlWatchPublishesDueCrlsAndStopsOnSigterm) {
  run_demo();
  // The demo's CRLs are fresh, so nothing is due: the watcher starts, waits, and stops cleanly.
  // What it publishes when something is due is CrlTest.ScheduledRegeneration... (publish_due).
  const fs::path log = dir_.path() / "watch.log";
  const std::string start = fmt::format(
      "{} --data-dir '{}' crl watch --interval 1 >'{}' 2>&1 & "
      "echo $!",
      REVOCORE_BINARY, data_dir().string(), log.string());
  FILE* pipe = ::popen(start.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(std::fscanf(pipe, "%d", &pid), 1);
  ::pclose(pipe);
  for (int i = 0; i < 50 && !fs::exists(log); ++i) {
    ::usleep(100'000);
  }
  ::usleep(500'000);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i) {
    ::usleep(100'000);
  }
  EXPECT_NE(::kill(pid, 0), 0) << "crl watch did not stop on SIGTERM";
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  EXPECT_NE(text.str().find("watching 2 issuer(s)"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("stopped"), std::string::npos) << text.str();
}

TEST_F(CliTest, AProcessWhoseCrlCannotBePublishedStaysAppliedAndSaysSo) {
  run_demo();
  fs::remove_all(data_dir() / "crl");
  std::ofstream(data_dir() / "crl") << "a file where the publish directory should be";
  const Result result = revocore("--operator carol user lock 1003 --reason 'Key compromise'");
  EXPECT_EQ(result.exit_code, 8);
  EXPECT_NE(result.err.find("the process was applied and committed (audit #9), but its CRL was "
                            "not published: cannot create the publish directory"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(json("user show 1003").at("state"), "locked");
}

}  // namespace
}  // namespace revocore
