// The operator API through a real HTTPS client with client certificates (curl): every process,
// approvals by a second operator, the audit, certificate registration, batch jobs, and each
// error status (400, 401, 403, 404, 405, 409). Operators are authenticated by certificates of
// the demo's operator CA, which is one of revocore's own issuers; a second suite runs the same
// API with the operator CA's CRL made by `openssl ca` instead.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "api/admin_routes.hpp"
#include "cli/demo_pki.hpp"
#include "config/configuration.hpp"
#include "lifecycle/batch_job.hpp"
#include "pki/private_key.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Answer {
  int status = 0;
  json::value body;
  std::string text;
};

using testing::read_text;

// A demo data directory with CardsProcLock configured to need approval, and `revocore serve`
// with both listeners on free loopback ports; fresh for every test, since tests change it.
class ApiTest : public ::testing::Test {
 protected:
  static void prepare() {
    responder_ = {};
    dir_ = new testing::TempDir();
    ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data()), 0);
    ASSERT_TRUE(testing::give_approval_step(data() / "revocore.toml", "Lock card"));
    std::string config = read_text(data() / "revocore.toml");
    // Roles of the authorization tests (docs/AUTHORIZATION.md); the demo's operators hold
    // `operator` until a test gives them one of these.
    config +=
        "\n[[role]]\nname = \"help-desk\"\npermissions = [\"process:CardsProcDeactivate\", "
        "\"process:CardsProcLock\", \"read:users\"]\n"
        "[[role]]\nname = \"officer\"\npermissions = [\"approve:CardsProcLock\", "
        "\"process:CardsProcLock\", \"read\"]\n";
    config += extra_config_;
    std::ofstream(data() / "revocore.toml") << config;
    responder_ = testing::start_responder(REVOCORE_BINARY, data(), dir_->path());
  }

  void SetUp() override {
    prepare();
    ASSERT_NE(responder_.admin_port, 0) << read_text(dir_->path() / "serve.err");
  }

  void TearDown() override {
    testing::stop_responder(responder_);
    delete dir_;
    dir_ = nullptr;
  }

  static fs::path data() { return dir_->path() / "data"; }
  static std::string file(const std::string& name) { return (data() / name).string(); }
  static std::string operator_1() {
    return fmt::format("--cert {0} --key {1}", file("pki/operator-1.pem"),
                       file("pki/operator-1.key"));
  }
  static std::string operator_2() {
    return fmt::format("--cert {0} --key {1}", file("pki/operator-2.pem"),
                       file("pki/operator-2.key"));
  }

  // One request with curl; `credentials` are curl's --cert/--key options (or none).
  static Answer call(const std::string& credentials, const std::string& method,
                     const std::string& path, const std::string& body = "") {
    const fs::path body_file = dir_->path() / "request.json";
    const fs::path answer_file = dir_->path() / "answer.json";
    std::ofstream(body_file) << body;
    std::string status;
    testing::run_command(
        fmt::format("curl -sS --cacert {} {} -X {} {} -o {} -w '%{{http_code}}' "
                    "'https://127.0.0.1:{}{}'",
                    file("pki/root-ca.pem"), credentials, method,
                    body.empty() ? ""
                                 : fmt::format("-H 'Content-Type: application/json' "
                                               "--data-binary @{}",
                                               body_file.string()),
                    answer_file.string(), responder_.admin_port, path),
        &status);
    Answer answer;
    answer.status = std::atoi(status.c_str());
    answer.text = read_text(answer_file);
    boost::system::error_code ec;
    answer.body = json::parse(answer.text, ec);
    return answer;
  }
  static Answer get(const std::string& path) { return call(operator_1(), "GET", path); }
  static Answer post(const std::string& path, const std::string& body) {
    return call(operator_1(), "POST", path, body);
  }

  // `revocore user roles ID --set ROLES`: what that user's operator certificates may do from the
  // next request on.
  static void set_roles(const std::string& user, const std::string& roles) {
    ASSERT_EQ(testing::run_command(fmt::format("{} --data-dir {} --operator admin user roles {} "
                                               "--set '{}'",
                                               REVOCORE_BINARY, data().string(), user, roles)),
              0);
  }

  static std::vector<json::value> refusals() {
    std::vector<json::value> out;
    const Answer audit = get("/api/v1/audit?limit=1000");
    for (const auto& record : audit.body.as_array()) {
      if (record.at("kind") == "refused") {
        out.push_back(record);
      }
    }
    return out;
  }

  static std::string user_state(const std::string& id) {
    const Answer answer = get("/api/v1/users/" + id);
    return answer.status == 200 ? std::string(answer.body.at("state").as_string()) : "?";
  }

  // `openssl ocsp` against the public listener for a certificate file of the demo.
  static std::string ocsp_status(const std::string& certificate) {
    std::string out;
    testing::run_command(fmt::format("openssl ocsp -issuer {} -cert {} -url http://127.0.0.1:{}/ "
                                     "-no_nonce -VAfile {}",
                                     file("pki/issuing-ca.pem"), certificate, responder_.port,
                                     file("pki/ocsp-responder.pem")),
                         &out);
    return out;
  }

  // A problem details answer: the status, its content and the detail.
  static void expect_problem(const Answer& answer, int status, const std::string& detail_part) {
    EXPECT_EQ(answer.status, status) << answer.text;
    ASSERT_TRUE(answer.body.is_object()) << answer.text;
    EXPECT_EQ(answer.body.at("status").as_int64(), status);
    EXPECT_TRUE(answer.body.as_object().contains("type"));
    EXPECT_TRUE(answer.body.as_object().contains("title"));
    const std::string detail(answer.body.at("detail").as_string());
    EXPECT_NE(detail.find(detail_part), std::string::npos) << detail;
  }

  static testing::TempDir* dir_;
  static testing::ResponderProcess responder_;
  static std::string extra_config_;  // appended to the configuration by prepare()
};

testing::TempDir* ApiTest::dir_ = nullptr;
testing::ResponderProcess ApiTest::responder_;
std::string ApiTest::extra_config_;

// The same, with four eyes from another role.
class ApiTestOtherRole : public ApiTest {
 protected:
  void SetUp() override {
    extra_config_ = "[authorization]\napprover_needs_other_role = true\n";
    ApiTest::SetUp();
  }
  void TearDown() override {
    extra_config_.clear();
    ApiTest::TearDown();
  }
};

constexpr const char* kOperator1 = "CN=Olivia Olsson (operator),O=revocore demo";
constexpr const char* kOperator2 = "CN=Oskar Ohlin (operator),O=revocore demo";

TEST_F(ApiTest, WhoamiIsTheCertificateSubject) {
  const Answer answer = get("/api/v1/whoami");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("subject"), kOperator1);
}

TEST_F(ApiTest, EveryUserProcessAndOcspSeesItAtOnce) {
  // After the demo, user 1003 is active with card-1003 and mobile-1003.
  const std::string mobile = file("import/mobile-1003.pem");
  EXPECT_NE(ocsp_status(mobile).find(": good"), std::string::npos);

  Answer answer = post("/api/v1/processes/UsersProcDeactivate",
                       R"({"target": "1003", "reason": "Parental leave"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("outcome"), "applied");
  EXPECT_EQ(answer.body.at("audit").at("operator"), kOperator1);
  EXPECT_EQ(answer.body.at("certificates").at("held").as_int64(), 3);
  EXPECT_FALSE(answer.body.at("crls").as_array().empty());  // regenerated at once
  EXPECT_EQ(user_state("1003"), "inactive");
  EXPECT_NE(ocsp_status(mobile).find("Reason: certificateHold"), std::string::npos);

  answer = post("/api/v1/processes/UsersProcReactivate",
                R"({"target": "1003", "reason": "Returned from leave"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("certificates").at("released").as_int64(), 3);
  EXPECT_EQ(user_state("1003"), "active");
  EXPECT_NE(ocsp_status(mobile).find(": good"), std::string::npos);

  answer =
      post("/api/v1/processes/UsersProcLock",
           R"({"target": "1003", "reason": "Key compromise", "invalidity_date": "2026-11-01"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("certificates").at("revoked").as_int64(), 3);
  EXPECT_EQ(user_state("1003"), "locked");
  EXPECT_NE(ocsp_status(mobile).find("Reason: keyCompromise"), std::string::npos);
  const Answer card = get("/api/v1/credentials/card-1003");
  ASSERT_EQ(card.status, 200);
  const auto& certificate = card.body.at("certificates").as_array().at(0);
  EXPECT_EQ(certificate.at("status"), "revoked");
  EXPECT_EQ(certificate.at("invalidity_date"), "2026-11-01T00:00:00Z");
  const Answer by_serial = get(fmt::format("/api/v1/certificates/demo-issuing-ca/{}",
                                           std::string(certificate.at("serial").as_string())));
  ASSERT_EQ(by_serial.status, 200) << by_serial.text;
  EXPECT_EQ(by_serial.body.at("reason"), "keyCompromise");
  // The CRL it is listed in, for issuance to embed as its CRL distribution point.
  EXPECT_EQ(by_serial.body.at("crl_shard"), 0);
  EXPECT_EQ(by_serial.body.at("crl_distribution_point"),
            "http://127.0.0.1:8080/crl/demo-issuing-ca.crl");
}

TEST_F(ApiTest, CardProcessesAndApprovalByASecondOperator) {
  Answer answer = post("/api/v1/processes/CardsProcDeactivate",
                       R"({"target": "card-1002", "reason": "Card left at home"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "inactive");
  answer = post("/api/v1/processes/CardsProcReactivate",
                R"({"target": "card-1002", "reason": "Card found"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "active");

  // CardsProcLock needs approval in this suite's configuration.
  answer =
      post("/api/v1/processes/CardsProcLock", R"({"target": "card-1002", "reason": "Card lost"})");
  ASSERT_EQ(answer.status, 202) << answer.text;
  EXPECT_EQ(answer.body.at("outcome"), "pending_approval");
  const std::int64_t id = answer.body.at("approval").as_int64();
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "active");  // nothing yet
  const Answer pending = get("/api/v1/approvals");
  ASSERT_EQ(pending.status, 200);
  ASSERT_EQ(pending.body.as_array().size(), 1u);
  EXPECT_EQ(pending.body.as_array()[0].at("requested_by"), kOperator1);

  // The requester cannot approve their own request.
  expect_problem(post(fmt::format("/api/v1/approvals/{}/approve", id), ""), 409, "cannot decide");
  answer = call(operator_2(), "POST", fmt::format("/api/v1/approvals/{}/approve", id));
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("audit").at("operator"), kOperator2);
  EXPECT_EQ(answer.body.at("audit").at("requested_by"), kOperator1);
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "locked");
  EXPECT_NE(ocsp_status(file("import/card-1002.pem")).find("Reason: keyCompromise"),
            std::string::npos);
  // Decided once only.
  expect_problem(call(operator_2(), "POST", fmt::format("/api/v1/approvals/{}/reject", id)), 409,
                 "");

  // A rejected request changes nothing.
  answer = post("/api/v1/processes/CardsProcLock",
                R"({"target": "card-1003", "reason": "Card damaged"})");
  ASSERT_EQ(answer.status, 202) << answer.text;
  answer = call(operator_2(), "POST",
                fmt::format("/api/v1/approvals/{}/reject", answer.body.at("approval").as_int64()),
                R"({"note": "the card is in the drawer"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("outcome"), "rejected");
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "active");
  EXPECT_TRUE(get("/api/v1/approvals").body.as_array().empty());
  EXPECT_EQ(get("/api/v1/approvals?all=true").body.as_array().size(), 2u);
}

TEST_F(ApiTest, AuditAndProcessesAreListed) {
  ASSERT_EQ(post("/api/v1/processes/UsersProcDeactivate",
                 R"({"target": "1004", "reason": "Leave of absence"})")
                .status,
            200);
  const Answer audit = get("/api/v1/audit?limit=3");
  ASSERT_EQ(audit.status, 200) << audit.text;
  ASSERT_EQ(audit.body.as_array().size(), 3u);
  EXPECT_EQ(audit.body.as_array()[0].at("process"), "UsersProcDeactivate");
  EXPECT_EQ(audit.body.as_array()[0].at("operator"), kOperator1);
  const Answer processes = get("/api/v1/processes");
  ASSERT_EQ(processes.status, 200);
  EXPECT_EQ(processes.body.at("CardsProcLock").at("approval"), true);
  EXPECT_EQ(processes.body.at("UsersProcLock").at("target"), "user");
}

TEST_F(ApiTest, RegistersANewlyIssuedCertificate) {
  ASSERT_EQ(testing::run_command(fmt::format(
                "cd {0} && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                "-subj '/CN=Frida Fors (card)' -keyout frida.key -out frida.csr && openssl x509 "
                "-req -in frida.csr -CA pki/issuing-ca.pem -CAkey pki/issuing-ca.key -set_serial "
                "0x0F1DA -days 30 -out frida.pem && openssl req -x509 -newkey ec -pkeyopt "
                "ec_paramgen_curve:P-256 -nodes -subj /CN=nobody -keyout nobody.key -out "
                "nobody.pem -days 5",
                data().string())),
            0);
  const json::object registration{{"certificate", read_text(data() / "frida.pem")},
                                  {"credential", "card-1006"},
                                  {"type", "card"},
                                  {"user", "1006"},
                                  {"user_name", "Frida Fors"}};
  Answer answer = post("/api/v1/certificates", json::serialize(registration));
  ASSERT_EQ(answer.status, 201) << answer.text;
  EXPECT_EQ(answer.body.at("certificates").as_int64(), 1);
  EXPECT_EQ(answer.body.at("user_created"), true);
  const Answer user = get("/api/v1/users/1006");
  ASSERT_EQ(user.status, 200);
  EXPECT_EQ(user.body.at("name"), "Frida Fors");
  EXPECT_EQ(get("/api/v1/certificates/demo-issuing-ca/0F1DA").body.at("status"), "valid");
  EXPECT_NE(ocsp_status(file("frida.pem")).find(": good"), std::string::npos);
  const Answer audit = get("/api/v1/audit?limit=1");
  EXPECT_EQ(audit.body.as_array()[0].at("process"), "Register");

  // Registered twice: a conflict, nothing changes.
  expect_problem(post("/api/v1/certificates", json::serialize(registration)), 409, "");
  // A certificate of a CA revocore does not know.
  json::object stranger = registration;
  stranger["certificate"] = read_text(data() / "nobody.pem");
  stranger["credential"] = "card-1007";
  stranger["user"] = "1007";
  expect_problem(post("/api/v1/certificates", json::serialize(stranger)), 400,
                 "not a configured issuer");
  EXPECT_EQ(get("/api/v1/users/1007").status, 404);
  stranger["certificate"] = "not a certificate";
  expect_problem(post("/api/v1/certificates", json::serialize(stranger)), 400,
                 "not a DER X.509 certificate");
  stranger["type"] = "floppy";
  expect_problem(post("/api/v1/certificates", json::serialize(stranger)), 400, "credential types");
}

TEST_F(ApiTest, BatchJobReportsProgressAndFailures) {
  Answer answer = post("/api/v1/jobs", R"({"reason": "Left the organisation",
                                           "targets": ["1002", "1003", "no-such-user", "1001"]})");
  ASSERT_EQ(answer.status, 202) << answer.text;
  const std::int64_t id = answer.body.at("id").as_int64();
  // "done" is committed when the last chunk is; crls_published follows once the CRLs are out.
  for (int i = 0;
       i < 100 && (answer.body.at("status") != "done" || answer.body.at("crls_published") != true);
       ++i) {
    ::usleep(50'000);
    answer = get(fmt::format("/api/v1/jobs/{}", id));
  }
  ASSERT_EQ(answer.body.at("status"), "done") << answer.text;
  EXPECT_EQ(answer.body.at("total").as_int64(), 4);
  EXPECT_EQ(answer.body.at("applied").as_int64(), 2);
  EXPECT_EQ(answer.body.at("failed").as_int64(), 2);  // unknown, and 1001 already locked
  EXPECT_EQ(answer.body.at("crls_published"), true);
  EXPECT_EQ(answer.body.at("failures").as_array().size(), 2u);
  EXPECT_EQ(user_state("1002"), "locked");
  EXPECT_EQ(user_state("1003"), "locked");
  EXPECT_EQ(get("/api/v1/jobs").body.as_array().size(), 1u);

  expect_problem(post("/api/v1/jobs", R"({"reason": "Left the organisation", "targets": []})"), 400,
                 "no targets");
  expect_problem(post("/api/v1/jobs", R"({"reason": "Bored", "targets": ["1004"]})"), 400,
                 "Left the organisation");
  expect_problem(post("/api/v1/jobs", R"({"process": "CardsProcLock", "reason": "Card lost",
                                          "targets": ["card-1004"]})"),
                 409, "approval");
  expect_problem(get("/api/v1/jobs/99"), 404, "#99");
}

TEST_F(ApiTest, BadRequestsGetProblemDetailsAndChangeNothing) {
  const std::string lock = "/api/v1/processes/UsersProcLock";
  expect_problem(post(lock, "{not json"), 400, "not JSON");
  expect_problem(post(lock, "[1, 2]"), 400, "JSON object");
  expect_problem(post(lock, R"({"target": "1002"})"), 400, "needs 'reason'");
  expect_problem(post(lock, R"({"target": "1002", "reason": "x", "reson": "y"})"), 400,
                 "unknown field 'reson'");
  expect_problem(post(lock, R"({"target": 1002, "reason": "Key compromise"})"), 400,
                 "must be a string");
  expect_problem(post(lock, R"({"target": "1002", "reason": "Bored"})"), 400,
                 "Left the organisation");
  expect_problem(
      post(lock,
           R"({"target": "1002", "reason": "Key compromise", "invalidity_date": "yesterday"})"),
      400, "not a date");
  expect_problem(post(lock, R"({"target": "9999", "reason": "Key compromise"})"), 404, "user 9999");
  expect_problem(post(lock, R"({"target": "1001", "reason": "Key compromise"})"), 409, "locked");
  expect_problem(post("/api/v1/processes/UsersProcTeleport", "{}"), 404, "not configured");
  // Ids are checked at the boundary: 400 naming the field, never a 500 or a job that hangs.
  expect_problem(post(lock, R"({"target": "", "reason": "Key compromise"})"), 400,
                 "the target is empty");
  expect_problem(post(lock, R"({"target": "a\u0000b", "reason": "Key compromise"})"), 400,
                 "control character");
  expect_problem(post("/api/v1/jobs", R"({"reason": "Key compromise", "targets": ["1002", ""]})"),
                 400, "'targets' element 2 is empty");
  expect_problem(post("/api/v1/jobs", R"({"reason": "Key compromise", "targets": [")" +
                                          std::string(600, 'x') + R"("]})"),
                 400, "'targets' element 1 is 600 bytes long");
  expect_problem(post("/api/v1/jobs", R"({"process": "UsersProcTeleport", "reason": "x",
                                          "targets": ["1002"]})"),
                 404, "not configured");
  EXPECT_TRUE(get("/api/v1/jobs").body.as_array().empty());
  // Duplicate names are refused, not "last one wins"; echoed bytes keep the JSON valid.
  expect_problem(post(lock, R"({"target": "1003", "reason": "Key compromise", "target": "1002"})"),
                 400, "names 'target' twice");
  for (const std::string path :
       {"/api/v1/users/a%00b", "/api/v1/users/%FF%FE", "/api/v1/users/%C3"}) {
    const Answer answer = get(path);
    EXPECT_EQ(answer.status, 404) << path;
    EXPECT_TRUE(answer.body.is_object()) << path << ": " << answer.text;  // parsed: valid JSON
  }
  EXPECT_NE(get("/api/v1/users/%FF").body.at("detail").as_string().find("\\xFF"),
            std::string::npos);
  expect_problem(get("/api/v1/users/nobody"), 404, "nobody");
  expect_problem(get("/api/v1/credentials/card-0"), 404, "card-0");
  expect_problem(get("/api/v1/certificates/no-ca/01"), 404, "demo-issuing-ca");
  expect_problem(get("/api/v1/certificates/demo-issuing-ca/ZZ"), 400, "");
  expect_problem(get("/api/v1/approvals/x/approve"), 405, "POST");
  expect_problem(get("/api/v2/users/1001"), 404, "/api/v1/");
  expect_problem(get("/api/v1/users/%zz"), 400, "%25");
  const Answer method = call(operator_1(), "DELETE", "/api/v1/users/1002");
  expect_problem(method, 405, "GET");
  EXPECT_EQ(user_state("1002"), "active");  // nothing above changed anything
  EXPECT_EQ(get("/api/v1/audit?limit=1000").body.as_array().size(),
            get("/api/v1/audit?limit=1000").body.as_array().size());
}

TEST_F(ApiTest, RefusedCertificatesGet401Or403) {
  // No certificate at all.
  expect_problem(call("", "GET", "/api/v1/whoami"), 401, "no client certificate");
  // A certificate from another CA (self-signed, for client authentication).
  ASSERT_EQ(testing::run_command(fmt::format(
                "cd {} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                "-subj /CN=intruder -addext extendedKeyUsage=clientAuth -keyout intruder.key "
                "-out intruder.pem -days 5",
                data().string())),
            0);
  expect_problem(
      call(fmt::format("--cert {0}/intruder.pem --key {0}/intruder.key", data().string()), "GET",
           "/api/v1/whoami"),
      403, "not issued by the operator CA");

  // Certificates of the operator CA: expired, not registered with revocore, locked.
  const pki::ScopedEvpPkey ca_key = pki::load_private_key("test", data() / "pki/operator-ca.key");
  ::EVP_PKEY_up_ref(ca_key.get());
  const pki::IssuedCertificate ca{
      std::move(pki::X509Certificate::load_file(data() / "pki/operator-ca.pem").front()),
      pki::ScopedEvpPkey(ca_key.get())};
  const UnixTime now = static_cast<UnixTime>(::time(nullptr));
  auto issue = [&](const char* name, UnixTime not_before, UnixTime not_after) {
    const auto issued = pki::issue_certificate(
        {pki::CertificateRole::kEndEntity, name, "revocore test", not_before, not_after}, &ca);
    pki::write_certificate_pem(data() / fmt::format("{}.pem", name), issued.certificate);
    pki::write_private_key_pem(data() / fmt::format("{}.key", name), issued.key.get());
    return fmt::format("--cert {0}/{1}.pem --key {0}/{1}.key", data().string(), name);
  };
  expect_problem(call(issue("expired", now - 100 * 86400, now - 86400), "GET", "/api/v1/whoami"),
                 403, "expired");
  expect_problem(call(issue("unregistered", now - 86400, now + 86400), "GET", "/api/v1/whoami"),
                 403, "not registered");

  // Locking an operator in revocore revokes their certificate, and their access with it.
  ASSERT_EQ(call(operator_2(), "GET", "/api/v1/whoami").status, 200);
  ASSERT_EQ(post("/api/v1/processes/UsersProcLock",
                 R"({"target": "operator-2", "reason": "Key compromise"})")
                .status,
            200);
  expect_problem(call(operator_2(), "GET", "/api/v1/whoami"), 403, "revoked");
  // Refusals are refused before any route runs: the locked operator cannot change anything.
  expect_problem(call(operator_2(), "POST", "/api/v1/processes/UsersProcLock",
                      R"({"target": "1002", "reason": "Key compromise"})"),
                 403, "revoked");
  EXPECT_EQ(user_state("1002"), "active");
}

// Raw bytes over TLS with `openssl s_client` (optionally as an operator); what came back.
std::string raw_tls(int port, const std::string& credentials, const std::string& feed_command) {
  std::string out;
  testing::run_command(
      fmt::format("( ({}) | timeout 20 openssl s_client -quiet -connect 127.0.0.1:{} {} "
                  "2>/dev/null )",
                  feed_command, port, credentials),
      &out);
  return out;
}

// A client without a certificate is answered 401 on the header alone: its body is never read
// (before, up to max_body_bytes of it were buffered first).
TEST_F(ApiTest, UnauthenticatedBodiesAreNeverRead) {
  const long before = testing::peak_rss_kb(responder_.pid);
  const std::string answer = raw_tls(
      responder_.admin_port, "",
      "printf 'POST /api/v1/jobs HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: "
      "application/json\\r\\nContent-Length: 60000000\\r\\n\\r\\n'; head -c 60000000 /dev/zero");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 401 Unauthorized\r\n")) << answer.substr(0, 300);
  const long after = testing::peak_rss_kb(responder_.pid);
  EXPECT_LT(after - before, 8 * 1024) << before << " -> " << after << " kB";
}

// An authenticated caller that may not do what it asks is refused on the header alone too: a
// help desk's 60 MB batch job, a card holder's process that is not self-service.
TEST_F(ApiTest, RefusedBodiesAreNeverRead) {
  set_roles("operator-2", "help-desk");
  const long before = testing::peak_rss_kb(responder_.pid);
  constexpr std::string_view header =
      "printf '{} HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\n"
      "Content-Length: 60000000\\r\\n\\r\\n'; head -c 60000000 /dev/zero";
  const std::string jobs =
      raw_tls(responder_.admin_port, operator_2(), fmt::format(header, "POST /api/v1/jobs"));
  EXPECT_TRUE(jobs.starts_with("HTTP/1.1 403 Forbidden\r\n")) << jobs.substr(0, 300);
  EXPECT_NE(jobs.find("permission 'jobs'"), std::string::npos) << jobs.substr(0, 600);
  const std::string holder =
      raw_tls(responder_.admin_port,
              fmt::format("-cert {} -key {}", file("pki/holder-mobile-1003.pem"),
                          file("pki/holder-mobile-1003.key")),
              fmt::format(header, "POST /api/v1/self/processes/CardsProcLock"));
  EXPECT_TRUE(holder.starts_with("HTTP/1.1 403 Forbidden\r\n")) << holder.substr(0, 300);
  EXPECT_NE(holder.find("not a self-service process"), std::string::npos) << holder.substr(0, 600);
  const long after = testing::peak_rss_kb(responder_.pid);
  EXPECT_LT(after - before, 8 * 1024) << before << " -> " << after << " kB";
  // Each refused once, and audited.
  const auto refused = refusals();
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[1].at("note"), "missing permission jobs");
  EXPECT_EQ(refused[0].at("note"), "missing self-service CardsProcLock");
}

// The operator API applies the same framing rules as the public port (RFC 9112 6.1, 6.3, 3.2).
TEST_F(ApiTest, AmbiguousFramingIsRefusedOnTheApiToo) {
  const std::string hidden = "GET /api/v1/whoami HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n";
  const std::string smuggled =
      raw_tls(responder_.admin_port, operator_1(),
              "printf 'POST /api/v1/processes/UsersProcLock HTTP/1.1\\r\\nHost: x\\r\\n"
              "Content-Type: application/json\\r\\nTransfer-Encoding: chunked, gzip\\r\\n"
              "Content-Length: 43\\r\\n\\r\\n" +
                  hidden + "'");
  EXPECT_TRUE(smuggled.starts_with("HTTP/1.1 400 Bad Request\r\n")) << smuggled;
  EXPECT_EQ(smuggled.find("operator-1"), std::string::npos) << "the hidden request was answered";
  const std::string no_host =
      raw_tls(responder_.admin_port, operator_1(),
              "printf 'GET /api/v1/whoami HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n'");
  EXPECT_TRUE(no_host.starts_with("HTTP/1.1 400 Bad Request\r\n")) << no_host;
}

// Cross-site request forgery: what a foreign page can make an operator's browser send is refused
// before any route runs, and changes nothing.
TEST_F(ApiTest, CrossSiteRequestsAreRefused) {
  ASSERT_EQ(
      post("/api/v1/processes/CardsProcLock", R"({"target": "card-1002", "reason": "Card lost"})")
          .status,
      202);  // an approval request for operator-2 to decide
  const std::string approve = "/api/v1/approvals/1/approve";
  const std::string lock = "/api/v1/processes/UsersProcLock";
  const std::string body = R"({"target": "1002", "reason": "Key compromise"})";
  const auto raw = [&](const std::string& headers, const std::string& path,
                       const std::string& data) {
    std::string out;
    testing::run_command(
        fmt::format("curl -s --cacert {} {} -X POST {} --data-binary '{}' -o /dev/null -w "
                    "'%{{http_code}}' https://127.0.0.1:{}{}",
                    file("pki/root-ca.pem"), operator_2(), headers, data, responder_.admin_port,
                    path),
        &out);
    return out;
  };
  EXPECT_EQ(raw("-H 'Content-Type: application/x-www-form-urlencoded' -H 'Origin: "
                "https://evil.example'",
                approve, ""),
            "403");
  EXPECT_EQ(raw("-H 'Content-Type: application/x-www-form-urlencoded'", approve, "a=b"), "415");
  EXPECT_EQ(raw("-H 'Content-Type: text/plain'", lock, body), "415");
  EXPECT_EQ(raw("-H 'Content-Type: application/json' -H 'Origin: null'", lock, body), "403");
  EXPECT_EQ(raw("-H 'Content-Type: application/json' -H 'Sec-Fetch-Site: cross-site'", lock, body),
            "403");
  EXPECT_EQ(raw("-H 'Content-Type: application/json' -H 'Sec-Fetch-Site: same-site'", lock, body),
            "403");
  EXPECT_EQ(user_state("1002"), "active");
  EXPECT_EQ(get("/api/v1/approvals").body.as_array().at(0).at("status"), "pending");
  // The API's own origin, as its own pages would send it, is accepted.
  EXPECT_EQ(raw(fmt::format("-H 'Content-Type: application/json; charset=utf-8' -H 'Origin: "
                            "https://127.0.0.1:{}' -H 'Sec-Fetch-Site: same-origin'",
                            responder_.admin_port),
                lock, body),
            "200");
  EXPECT_EQ(user_state("1002"), "locked");
}

TEST_F(ApiTest, EveryAnswerCarriesTheSecurityHeaders) {
  for (const std::string& credentials : {operator_1(), std::string()}) {
    std::string headers;
    testing::run_command(fmt::format("curl -s -D - -o /dev/null --cacert {} {} "
                                     "https://127.0.0.1:{}/api/v1/whoami",
                                     file("pki/root-ca.pem"), credentials, responder_.admin_port),
                         &headers);
    EXPECT_NE(headers.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Cache-Control: no-store\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"),
              std::string::npos)
        << headers;
  }
}

// TLS session resumption (issue 19): with openssl s_client (TLS 1.2 session ids and TLS 1.3) and
// GnuTLS; a resumed session's certificate is checked again on every request.
TEST_F(ApiTest, TlsSessionsResumeAndEveryRequestIsCheckedAgain) {
  const std::string request =
      "printf 'GET /api/v1/whoami HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
      "close\\r\\n\\r\\n'";
  const auto s_client = [&](const std::string& credentials, const std::string& options) {
    std::string out;
    testing::run_command(
        fmt::format("{} | timeout 20 openssl s_client -ign_eof -connect "
                    "127.0.0.1:{} -CAfile {} {} {}",
                    request, responder_.admin_port, file("pki/root-ca.pem"), credentials, options),
        &out);
    return out;
  };
  for (const std::string version : {"-tls1_2", "-tls1_3"}) {
    const fs::path session = dir_->path() / ("session" + version);
    const std::string first = s_client(operator_1(), version + " -sess_out " + session.string());
    EXPECT_NE(first.find("New, TLSv1."), std::string::npos) << first;
    const std::string again = s_client(operator_1(), version + " -sess_in " + session.string());
    EXPECT_NE(again.find("Reused, TLSv1."), std::string::npos) << version << "\n" << again;
    EXPECT_NE(again.find("\"subject\":\"CN=Olivia Olsson (operator)"), std::string::npos) << again;
    EXPECT_EQ(again.find("session id context uninitialized"), std::string::npos) << again;
  }
  for (const std::string priority : {"NORMAL", "NORMAL:-VERS-TLS1.3"}) {
    std::string out;
    testing::run_command(
        fmt::format("printf 'GET /api/v1/whoami HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | timeout 20 "
                    "gnutls-cli --priority {} --x509cafile {} --x509certfile {} --x509keyfile {} "
                    "--resume -p {} 127.0.0.1",
                    priority, file("pki/root-ca.pem"), file("pki/operator-1.pem"),
                    file("pki/operator-1.key"), responder_.admin_port),
        &out);
    EXPECT_NE(out.find("*** This is a resumed session"), std::string::npos) << priority << out;
    EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  }
  // operator-2's session outlives the lock of operator-2's user, but not its access.
  const fs::path session = dir_->path() / "session-operator-2";
  ASSERT_NE(s_client(operator_2(), "-sess_out " + session.string()).find("\"subject\""),
            std::string::npos);
  ASSERT_EQ(post("/api/v1/processes/UsersProcLock",
                 R"({"target": "operator-2", "reason": "Key compromise"})")
                .status,
            200);
  const std::string resumed = s_client(operator_2(), "-sess_in " + session.string());
  EXPECT_NE(resumed.find("Reused, TLSv1."), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("HTTP/1.1 403 Forbidden"), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("revoked"), std::string::npos) << resumed;
}

TEST_F(ApiTest, OnlyAeadCipherSuitesAndEndEntityOperators) {
  std::string out;
  EXPECT_NE(testing::run_command(
                fmt::format("echo | timeout 10 openssl s_client -connect 127.0.0.1:{} -tls1_2 "
                            "-cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
                            "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384' {}",
                            responder_.admin_port, operator_1()),
                &out),
            0)
      << out;
  EXPECT_NE(out.find("handshake failure"), std::string::npos) << out;
  // Certificates of the operator CA that are not operators' logins.
  const auto issue = [&](const std::string& name, const std::string& extensions) {
    EXPECT_EQ(testing::run_command(fmt::format(
                  "cd {0} && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-subj '/CN={1}' -keyout {1}.key -out {1}.csr && printf '{2}' > {1}.ext && "
                  "openssl x509 -req -in {1}.csr -CA pki/operator-ca.pem -CAkey "
                  "pki/operator-ca.key -CAcreateserial -days 5 -extfile {1}.ext -out {1}.pem",
                  data().string(), name, extensions)),
              0);
    return fmt::format("--cert {0}/{1}.pem --key {0}/{1}.key", data().string(), name);
  };
  expect_problem(call(issue("sub-ca",
                            "basicConstraints=critical,CA:TRUE\\nkeyUsage="
                            "digitalSignature,keyCertSign\\n"),
                      "GET", "/api/v1/whoami"),
                 403, "is a CA certificate");
  expect_problem(call(issue("encipher-only",
                            "keyUsage=keyEncipherment\\nextendedKeyUsage="
                            "clientAuth\\n"),
                      "GET", "/api/v1/whoami"),
                 403, "its keyUsage allows neither digitalSignature");
}

// Every request leaves one structured log line (issue 19), reads included, without query values.
TEST_F(ApiTest, EveryRequestIsLoggedAndReadsAuditedWhenConfigured) {
  ASSERT_EQ(get("/api/v1/users/1002").status, 200);
  ASSERT_EQ(get("/api/v1/audit?limit=7&secret=hunter2").status, 200);
  EXPECT_EQ(call("", "GET", "/api/v1/users/1002").status, 401);
  ASSERT_EQ(get("/api/v1/users/nobody").status, 404);
  const std::string log = read_text(dir_->path() / "serve.err");
  EXPECT_TRUE(std::regex_search(
      log, std::regex("event=api_request operator=\"CN=Olivia Olsson \\(operator\\),O=revocore "
                      "demo\" method=GET path=\"/api/v1/users/1002\" status=200 bytes=[1-9][0-9]* "
                      "duration_ms=[0-9.]+ tls_resumed=false")))
      << log;
  EXPECT_NE(log.find("path=\"/api/v1/audit?limit=...&secret=...\""), std::string::npos) << log;
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << log;
  EXPECT_NE(log.find("operator=\"-\" method=GET path=\"/api/v1/users/1002\" status=401"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("path=\"/api/v1/users/nobody\" status=404"), std::string::npos) << log;
  // Off by default: reads leave no audit record.
  const Answer before = get("/api/v1/audit?limit=1000");
  for (const auto& record : before.body.as_array()) {
    EXPECT_NE(record.at("kind"), "read");
  }

  // On: each read of a user or credential is an audit record naming the operator.
  testing::stop_responder(responder_);
  std::string config = read_text(data() / "revocore.toml");
  const std::string admin = "\n[admin]\n";
  ASSERT_NE(config.find(admin), std::string::npos);
  config.replace(config.find(admin), admin.size(), admin + "audit_reads = true\n");
  std::ofstream(data() / "revocore.toml") << config;
  responder_ = testing::start_responder(REVOCORE_BINARY, data(), dir_->path());
  ASSERT_NE(responder_.admin_port, 0) << read_text(dir_->path() / "serve.err");
  ASSERT_EQ(get("/api/v1/users/1002").status, 200);
  ASSERT_EQ(get("/api/v1/credentials/card-1002").status, 200);
  const auto audit = get("/api/v1/audit?limit=2").body.as_array();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].at("kind"), "read");
  EXPECT_EQ(audit[0].at("target"), "card-1002");
  EXPECT_EQ(audit[1].at("target"), "1002");
  EXPECT_EQ(audit[1].at("operator"), "CN=Olivia Olsson (operator),O=revocore demo");
}

// One certificate by issuer and serial: hold, release, revoke; OCSP sees each at once, the
// credential and user stay as they are, and each is audited.
TEST_F(ApiTest, OneCertificateIsHeldReleasedAndRevoked) {
  const std::string mobile = file("import/mobile-1003.pem");
  std::string serial;
  testing::run_command(fmt::format("openssl x509 -serial -noout -in {}", mobile), &serial);
  serial = serial.substr(7, serial.find('\n') - 7);
  const std::string base = "/api/v1/certificates/demo-issuing-ca/" + serial;
  Answer answer = post(base + "/hold", R"({"reason": "Suspected loss"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_EQ(answer.body.at("certificates").at("held").as_int64(), 1);
  EXPECT_NE(ocsp_status(mobile).find("Reason: certificateHold"), std::string::npos);
  ASSERT_EQ(post(base + "/release", R"({"reason": "Found again"})").status, 200);
  EXPECT_NE(ocsp_status(mobile).find(": good"), std::string::npos);
  answer =
      post(base + "/revoke", R"({"reason": "Key compromise", "invalidity_date": "2026-11-01"})");
  ASSERT_EQ(answer.status, 200) << answer.text;
  EXPECT_FALSE(answer.body.at("crls").as_array().empty());
  EXPECT_NE(ocsp_status(mobile).find("Reason: keyCompromise"), std::string::npos);
  EXPECT_EQ(user_state("1003"), "active");
  EXPECT_EQ(get("/api/v1/credentials/mobile-1003").body.at("state"), "active");
  const auto audit = get("/api/v1/audit?limit=3").body.as_array();
  EXPECT_EQ(audit[0].at("process"), "CertsProcRevoke");
  EXPECT_EQ(audit[0].at("target").as_string(), "demo-issuing-ca/" + serial);
  // Revoked is final; an unknown serial is 404; a reason not offered 400.
  expect_problem(post(base + "/release", R"({"reason": "Found again"})"), 409, "is revoked");
  expect_problem(post("/api/v1/certificates/demo-issuing-ca/0BADBAD/revoke",
                      R"({"reason": "Key compromise"})"),
                 404, "no certificate with serial BADBAD");
  expect_problem(post(base + "/hold", R"({"reason": "Bored"})"), 400, "not offered");
}

TEST_F(ApiTest, TheApiIsNotOnThePublicListener) {
  std::string out;
  testing::run_command(
      fmt::format("curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{}/api/v1/whoami",
                  responder_.port),
      &out);
  EXPECT_EQ(out, "404");
  // And the operator API speaks nothing but TLS.
  EXPECT_NE(testing::run_command(fmt::format("curl -s -m 5 http://127.0.0.1:{}/api/v1/whoami",
                                             responder_.admin_port)),
            0);
}

// Nothing secret reaches a log: after requests that succeed and requests that are refused, the
// server's output holds no private key material, and neither do the errors about bad key files.
TEST_F(ApiTest, LogsCarryNoKeyMaterial) {
  ASSERT_EQ(get("/api/v1/whoami").status, 200);
  EXPECT_EQ(call("", "GET", "/api/v1/whoami").status, 401);
  EXPECT_EQ(post("/api/v1/processes/UsersProcLock", "{bad").status, 400);
  EXPECT_NE(ocsp_status(file("import/card-1001.pem")).find("revoked"), std::string::npos);

  // Errors about key files: readable by others, and a key that is not the CA's.
  const fs::path copy = dir_->path() / "copy";
  ASSERT_EQ(testing::run_command(fmt::format("cp -a {} {}", data().string(), copy.string())), 0);
  fs::permissions(copy / "pki/issuing-ca.key", fs::perms::others_read, fs::perm_options::add);
  std::string errors;
  testing::run_command(fmt::format("{} --data-dir {} crl generate", REVOCORE_BINARY, copy.string()),
                       &errors);
  EXPECT_NE(errors.find("readable by"), std::string::npos) << errors;
  fs::copy_file(copy / "pki/operator-1.key", copy / "pki/issuing-ca.key",
                fs::copy_options::overwrite_existing);
  fs::permissions(copy / "pki/issuing-ca.key", fs::perms::owner_read | fs::perms::owner_write);
  std::string mismatch;
  testing::run_command(fmt::format("{} --data-dir {} crl generate", REVOCORE_BINARY, copy.string()),
                       &mismatch);
  EXPECT_NE(mismatch.find("issuing-ca.key"), std::string::npos) << mismatch;
  errors += mismatch;

  const std::string logs =
      read_text(dir_->path() / "serve.err") + read_text(dir_->path() / "serve.out") + errors;
  EXPECT_NE(logs.find("event=api_refused"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("PRIVATE KEY"), std::string::npos) << logs;
  for (const auto& entry : fs::directory_iterator(data() / "pki")) {
    if (entry.path().extension() != ".key") {
      continue;
    }
    std::istringstream key(read_text(entry.path()));
    std::string line;
    while (std::getline(key, line)) {
      if (line.size() > 16 && !line.starts_with("-----")) {
        EXPECT_EQ(logs.find(line.substr(0, 16)), std::string::npos)
            << "material of " << entry.path() << " in the logs";
      }
    }
  }
}

// A batch job left unfinished (here: created and never run, as after a crash right after its
// creation) is picked up by the job runner when `revocore serve` starts, and finishes.
TEST_F(ApiTest, HelpDeskMayDeactivateACardButNotLockAUser) {
  set_roles("operator-2", "help-desk");
  const Answer lock = call(operator_2(), "POST", "/api/v1/processes/UsersProcLock",
                           R"({"target": "1003", "reason": "Left the organisation"})");
  EXPECT_EQ(lock.status, 403) << lock.text;
  EXPECT_EQ(lock.body.at("type"), "urn:revocore:problem:permission-denied") << lock.text;
  EXPECT_NE(lock.text.find("permission 'process:UsersProcLock'"), std::string::npos) << lock.text;
  EXPECT_NE(lock.text.find("help-desk"), std::string::npos) << lock.text;
  EXPECT_EQ(user_state("1003"), "active");  // nothing changed
  // Reading the audit trail is not the help desk's either.
  EXPECT_EQ(call(operator_2(), "GET", "/api/v1/audit").status, 403);
  // Every refusal is audited: who, what was missing.
  const auto refused = refusals();
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[1].at("operator"), kOperator2);
  EXPECT_EQ(refused[1].at("process"), "UsersProcLock");
  EXPECT_EQ(refused[1].at("note"), "missing permission process:UsersProcLock");
  EXPECT_EQ(refused[0].at("note"), "missing permission read:audit");

  const Answer card = call(operator_2(), "POST", "/api/v1/processes/CardsProcDeactivate",
                           R"({"target": "card-1003", "reason": "Card left at home"})");
  EXPECT_EQ(card.status, 200) << card.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "inactive");
  const Answer whoami = call(operator_2(), "GET", "/api/v1/whoami");
  EXPECT_EQ(whoami.body.at("user"), "operator-2");
  EXPECT_EQ(whoami.body.at("roles"), json::array{"help-desk"});
  // What those roles permit, spelt out for the console.
  EXPECT_EQ(whoami.body.at("permissions"),
            (json::array{"process:CardsProcDeactivate", "process:CardsProcLock", "read:users"}));
  const Answer everything = get("/api/v1/whoami");
  EXPECT_NE(everything.text.find("\"approve:CardsProcLock\""), std::string::npos)
      << everything.text;
  EXPECT_NE(everything.text.find("\"process:UsersProcLock\""), std::string::npos)
      << everything.text;
  EXPECT_EQ(everything.text.find("\"approve:UsersProcLock\""), std::string::npos)
      << "no approval step, no approve permission: " << everything.text;
}

TEST_F(ApiTest, AnOfficerApprovesWhatTheHelpDeskAskedForNotTheirOwn) {
  set_roles("operator-1", "officer");
  set_roles("operator-2", "help-desk");
  const Answer filed = call(operator_2(), "POST", "/api/v1/processes/CardsProcLock",
                            R"({"target": "card-1003", "reason": "Card lost"})");
  ASSERT_EQ(filed.status, 202) << filed.text;
  const std::int64_t id = filed.body.at("approval").as_int64();
  // The help desk may ask, not approve (not even someone else's request).
  const Answer help_desk =
      call(operator_2(), "POST", fmt::format("/api/v1/approvals/{}/approve", id), "{}");
  EXPECT_EQ(help_desk.status, 403) << help_desk.text;
  EXPECT_NE(help_desk.text.find("approve:CardsProcLock"), std::string::npos) << help_desk.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "active");
  const Answer approved = post(fmt::format("/api/v1/approvals/{}/approve", id), "{}");
  EXPECT_EQ(approved.status, 200) << approved.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "locked");

  // The officer's own request needs someone else.
  const Answer own_request =
      post("/api/v1/processes/CardsProcLock", R"({"target": "card-1002", "reason": "Card lost"})");
  ASSERT_EQ(own_request.status, 202) << own_request.text;
  const Answer own =
      post(fmt::format("/api/v1/approvals/{}/approve", own_request.body.at("approval").as_int64()),
           "{}");
  EXPECT_EQ(own.status, 409) << own.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "active");
}

TEST_F(ApiTestOtherRole, AnApproverNeedsARoleTheRequesterDidNotHold) {
  set_roles("operator-1", "officer");
  set_roles("operator-2", "officer");
  const Answer filed = call(operator_2(), "POST", "/api/v1/processes/CardsProcLock",
                            R"({"target": "card-1003", "reason": "Card lost"})");
  ASSERT_EQ(filed.status, 202) << filed.text;
  const std::string approve =
      fmt::format("/api/v1/approvals/{}/approve", filed.body.at("approval").as_int64());
  const Answer same_role = post(approve, "{}");
  EXPECT_EQ(same_role.status, 403) << same_role.text;
  EXPECT_NE(same_role.text.find("the requester held officer"), std::string::npos) << same_role.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "active");
  // Another approving role (the request keeps the roles it was filed with).
  set_roles("operator-1", "operator");
  set_roles("operator-2", "operator");
  EXPECT_EQ(post(approve, "{}").status, 200);
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "locked");
}

// Roles are read on every request: an operator whose roles are withdrawn (here by the local
// administrator; Lock user and Deactivate user withdraw them too) is refused on the keep-alive
// connection it already has open, and a user who is not active has no rights at all.
TEST_F(ApiTest, AnOperatorLosesItsRightsOnAnOpenConnection) {
  const fs::path script = dir_->path() / "keepalive.py";
  std::ofstream(script) << fmt::format(
      R"(import http.client, ssl, subprocess, sys
context = ssl.create_default_context(cafile="{ca}")
context.load_cert_chain("{cert}", "{key}")
connection = http.client.HTTPSConnection("127.0.0.1", {port}, context=context)
def status():
    connection.request("GET", "/api/v1/users/1003")
    answer = connection.getresponse()
    body = answer.read().decode()
    return answer.status, body
first, _ = status()
sock = connection.sock
subprocess.run(sys.argv[1], shell=True, check=True, stdout=subprocess.DEVNULL)
second, body = status()
print(first, second, "same-connection" if connection.sock is sock else "reconnected", body)
)",
      fmt::arg("ca", file("pki/root-ca.pem")), fmt::arg("cert", file("pki/operator-1.pem")),
      fmt::arg("key", file("pki/operator-1.key")), fmt::arg("port", responder_.admin_port));
  std::string out;
  testing::run_command(fmt::format("python3 {} '{} --data-dir {} user roles operator-1 --set \"\"'",
                                   script.string(), REVOCORE_BINARY, data().string()),
                       &out);
  EXPECT_EQ(out.substr(0, 24), "200 403 same-connection ") << out;
  EXPECT_NE(out.find("permission-denied"), std::string::npos) << out;
  // Given back, then the user deactivated by the process: refused again (its roles are
  // withdrawn, its token's certificate put on hold).
  set_roles("operator-1", "operator");
  EXPECT_EQ(get("/api/v1/users/1003").status, 200);
  testing::run_command(
      fmt::format("python3 {} '{} --data-dir {} user deactivate operator-1 --reason \"{}\"'",
                  script.string(), REVOCORE_BINARY, data().string(), "Leave of absence"),
      &out);
  EXPECT_EQ(out.substr(0, 8), "200 403 ") << out;
}

// One search box: users by id or name, credentials, certificates by serial; paged and bounded.
TEST_F(ApiTest, SearchFindsUsersCredentialsAndCertificates) {
  const Answer carl = get("/api/v1/search?q=carl");
  ASSERT_EQ(carl.status, 200) << carl.text;
  ASSERT_EQ(carl.body.at("hits").as_array().size(), 1u) << carl.text;
  EXPECT_EQ(carl.body.at("hits").at(0).at("kind"), "user");
  EXPECT_EQ(carl.body.at("hits").at(0).at("id"), "1003");
  EXPECT_EQ(carl.body.at("hits").at(0).at("name"), "Cecilia Carlsson");
  EXPECT_EQ(get("/api/v1/search?q=cecilia%20carl").body.at("hits").as_array().size(), 1u);
  // A certificate by its serial as openssl prints it, with colons.
  std::string serial;
  testing::run_command(fmt::format("openssl x509 -noout -serial -in {} | cut -d= -f2",
                                   file("pki/holder-card-1003.pem")),
                       &serial);
  serial = serial.substr(0, serial.find('\n'));
  ASSERT_EQ(serial.size(), 32u) << serial;
  std::string colons;
  for (std::size_t i = 0; i < 8; i += 2) {
    colons += (i == 0 ? "" : ":") + serial.substr(i, 2);
  }
  const Answer certificate = get("/api/v1/search?q=" + colons);
  ASSERT_EQ(certificate.status, 200) << certificate.text;
  bool seen = false;
  for (const auto& hit : certificate.body.at("hits").as_array()) {
    seen = seen || (hit.at("kind") == "certificate" && hit.at("serial") == json::value(serial) &&
                    hit.at("credential") == "card-1003" && hit.at("user") == "1003");
  }
  EXPECT_TRUE(seen) << certificate.text;
  const Answer cards = get("/api/v1/search?q=card-&limit=2");
  EXPECT_EQ(cards.body.at("hits").as_array().size(), 2u);
  EXPECT_EQ(cards.body.at("more"), true);
  EXPECT_EQ(get("/api/v1/search?q=card-&limit=2&offset=4").body.at("more"), false);
  expect_problem(get("/api/v1/search?q=card-&limit=500"), 400, "the limit must be 1 to 100");
  expect_problem(get("/api/v1/search"), 400, "the search is empty");
  // It reads users: read:users, like the profiles it leads to.
  set_roles("operator-2", "");
  expect_problem(call(operator_2(), "GET", "/api/v1/search?q=carl"), 403, "read:users");
}

// What the console's status page shows: CRLs per issuer and shard, the OCSP responder's counts.
TEST_F(ApiTest, StatusShowsCrlsAndOcspCounters) {
  EXPECT_NE(ocsp_status(file("import/mobile-1003.pem")).find(": good"), std::string::npos);
  const Answer status = get("/api/v1/status");
  ASSERT_EQ(status.status, 200) << status.text;
  EXPECT_GE(status.body.at("certificates").as_int64(), 20);
  EXPECT_GE(status.body.at("ocsp").at("responses").at("good").as_int64(), 1);
  bool seen = false;
  for (const auto& issuer : status.body.at("issuers").as_array()) {
    if (issuer.at("name") == "demo-issuing-ca") {
      seen = true;
      EXPECT_EQ(issuer.at("crl_shards"), 1);
      EXPECT_GE(issuer.at("crls").at(0).at("number").as_int64(), 1);
      EXPECT_TRUE(issuer.at("crls").at(0).as_object().contains("next_update"));
    }
  }
  EXPECT_TRUE(seen) << status.text;
  set_roles("operator-2", "help-desk");
  expect_problem(call(operator_2(), "GET", "/api/v1/status"), 403, "read:jobs");
}

// The audit trail filtered as the console's audit page and profile history ask for it.
TEST_F(ApiTest, TheAuditTrailIsFilteredByOperatorProcessTargetUserAndTime) {
  ASSERT_EQ(call(operator_2(), "POST", "/api/v1/processes/CardsProcDeactivate",
                 R"({"target": "card-1003", "reason": "Card left at home"})")
                .status,
            200);
  const auto kinds = [](const Answer& answer) {
    std::vector<std::string> out;
    for (const auto& record : answer.body.as_array()) {
      out.push_back(fmt::format("{} {}", std::string(record.at("process").as_string()),
                                std::string(record.at("target").as_string())));
    }
    return out;
  };
  EXPECT_EQ(kinds(get("/api/v1/audit?operator=Oskar")),
            std::vector<std::string>{"CardsProcDeactivate card-1003"});
  EXPECT_EQ(
      kinds(get("/api/v1/audit?process=CardsProcDeactivate")),
      (std::vector<std::string>{"CardsProcDeactivate card-1003", "CardsProcDeactivate card-1003"}));
  EXPECT_EQ(kinds(get("/api/v1/audit?target=1002")),
            (std::vector<std::string>{"UsersProcReactivate 1002", "UsersProcDeactivate 1002"}));
  // A user's history: its own processes and its credentials'.
  EXPECT_EQ(
      kinds(get("/api/v1/audit?user=1003")),
      (std::vector<std::string>{"CardsProcDeactivate card-1003", "CardsProcReactivate card-1003",
                                "CardsProcDeactivate card-1003"}));
  EXPECT_EQ(kinds(get("/api/v1/audit?user=1003&limit=1")).size(), 1u);
  EXPECT_TRUE(get("/api/v1/audit?since=2100-01-01").body.as_array().empty());
  EXPECT_TRUE(get("/api/v1/audit?until=2000-01-01").body.as_array().empty());
  expect_problem(get("/api/v1/audit?since=yesterday"), 400, "since 'yesterday' is not a date");
}

// The console's preview: ?dry_run=true runs the process's own code path and keeps nothing; Next
// with the preview's fingerprint applies it, or refuses if the target changed meanwhile.
TEST_F(ApiTest, ADryRunPreviewsAndNextAppliesOnlyWhatWasPreviewed) {
  const std::string lock = R"({"target": "1003", "reason": "Key compromise"})";
  const Answer preview = post("/api/v1/processes/UsersProcLock?dry_run=true", lock);
  ASSERT_EQ(preview.status, 200) << preview.text;
  EXPECT_EQ(preview.body.at("outcome"), "preview");
  EXPECT_EQ(preview.body.at("user_state").at("to"), "locked");
  EXPECT_EQ(preview.body.at("credentials").as_array().size(), 2u);
  EXPECT_EQ(preview.body.at("changes").as_array().size(), 3u);
  EXPECT_EQ(preview.body.at("changes").at(0).at("to"), "revoked");
  EXPECT_EQ(preview.body.at("certificates").at("revoked"), 3);
  // Nothing changed, nothing audited, OCSP still good.
  EXPECT_EQ(user_state("1003"), "active");
  EXPECT_EQ(get("/api/v1/audit?limit=1").body.at(0).at("kind"), "process_applied");
  EXPECT_NE(get("/api/v1/audit?limit=1").body.at(0).at("target"), "1003");
  EXPECT_NE(ocsp_status(file("import/mobile-1003.pem")).find(": good"), std::string::npos);

  // Meanwhile another operator holds one of the user's certificates: Next refuses.
  const std::string serial(preview.body.at("changes").at(0).at("serial").as_string());
  ASSERT_EQ(call(operator_2(), "POST",
                 fmt::format("/api/v1/certificates/demo-issuing-ca/{}/hold", serial),
                 R"({"reason": "Suspected loss"})")
                .status,
            200);
  const std::string next = fmt::format(R"({{"target": "1003", "reason": "Key compromise", )"
                                       R"("preview": "{}"}})",
                                       std::string(preview.body.at("preview").as_string()));
  expect_problem(post("/api/v1/processes/UsersProcLock", next), 409,
                 "no longer what the preview showed");
  EXPECT_EQ(user_state("1003"), "active");
  // Previewed again, and Next with that preview.
  const Answer again = post("/api/v1/processes/UsersProcLock?dry_run=true", lock);
  EXPECT_NE(again.body.at("preview"), preview.body.at("preview"));
  EXPECT_EQ(again.body.at("changes").at(0).at("from"), "on_hold");
  const Answer applied =
      post("/api/v1/processes/UsersProcLock",
           fmt::format(R"({{"target": "1003", "reason": "Key compromise", "preview": "{}"}})",
                       std::string(again.body.at("preview").as_string())));
  ASSERT_EQ(applied.status, 200) << applied.text;
  EXPECT_EQ(user_state("1003"), "locked");
  EXPECT_NE(ocsp_status(file("import/mobile-1003.pem")).find(": revoked"), std::string::npos);
  // A process with an approval step previews what approving it would do.
  const Answer approval = post("/api/v1/processes/CardsProcLock?dry_run=true",
                               R"({"target": "card-1002", "reason": "Card lost"})");
  EXPECT_EQ(approval.body.at("approval_step"), true) << approval.text;
  EXPECT_TRUE(get("/api/v1/approvals").body.as_array().empty());
}

// Self-service ([self_service] of the demo: CardsProcDeactivate and CardsProcReactivate, with
// certificates of demo-issuing-ca). The demo keeps the keys of user 1003's card and mobile ID.
TEST_F(ApiTest, ACardHolderSeesOnlyTheirOwnUser) {
  const auto mobile = fmt::format("--cert {} --key {}", file("pki/holder-mobile-1003.pem"),
                                  file("pki/holder-mobile-1003.key"));
  const Answer self = call(mobile, "GET", "/api/v1/self");
  ASSERT_EQ(self.status, 200) << self.text;
  EXPECT_EQ(self.body.at("user").at("id"), "1003");
  EXPECT_EQ(self.body.at("user").at("credentials").as_array().size(), 2u);
  EXPECT_EQ(self.body.at("subject"),
            "CN=Cecilia Carlsson (mobile_id authentication),O=revocore demo");
  const std::string certificate(self.body.at("certificate").as_string());
  EXPECT_EQ(certificate.substr(0, 16), "demo-issuing-ca/") << certificate;
  EXPECT_EQ(certificate.size(), 16u + 32u) << certificate;  // the demo's 128-bit serials
  const auto& processes = self.body.at("processes").as_object();
  EXPECT_EQ(processes.size(), 2u);
  EXPECT_TRUE(processes.contains("CardsProcDeactivate"));
  EXPECT_TRUE(processes.contains("CardsProcReactivate"));
  for (const char* other : {"1001", "1002", "1004", "1005", "Bertil", "operator"}) {
    EXPECT_EQ(self.text.find(other), std::string::npos) << other << " in " << self.text;
  }
  // Nothing of the operator API opens to a card holder's certificate, and no operator
  // certificate opens self-service.
  expect_problem(call(mobile, "GET", "/api/v1/users/1003"), 403, "not issued by the operator CA");
  expect_problem(call(mobile, "GET", "/api/v1/whoami"), 403, "not issued by the operator CA");
  expect_problem(call(operator_1(), "GET", "/api/v1/self"), 403,
                 "not issued by a self-service issuer (demo-issuing-ca)");
  // The path as the routes decode it decides who may sign in.
  expect_problem(call(operator_1(), "GET", "/api/v1/%73elf"), 403,
                 "not issued by a self-service issuer (demo-issuing-ca)");
  expect_problem(call("", "GET", "/api/v1/self"), 401,
                 "certificate of one of your own credentials");
  expect_problem(call(mobile, "GET", "/api/v1/self/nothing"), 404, "no such self-service path");
  expect_problem(call(mobile, "DELETE", "/api/v1/self"), 405, "use GET");
}

TEST_F(ApiTest, ACardHolderDeactivatesTheirOwnCardNotAnotherUsers) {
  const auto mobile = fmt::format("--cert {} --key {}", file("pki/holder-mobile-1003.pem"),
                                  file("pki/holder-mobile-1003.key"));
  const json::value certificate = call(mobile, "GET", "/api/v1/self").body.at("certificate");
  // Another user's card, and one that does not exist: refused alike, nothing changed, and the
  // answer says nothing about user 1002.
  const Answer other = call(mobile, "POST", "/api/v1/self/processes/CardsProcDeactivate",
                            R"({"target": "card-1002", "reason": "Card left at home"})");
  expect_problem(other, 403, "credential card-1002 is not one of yours");
  EXPECT_EQ(other.body.at("type"), "urn:revocore:problem:permission-denied");
  EXPECT_EQ(other.text.find("Bertil"), std::string::npos) << other.text;
  EXPECT_EQ(other.text.find("active"), std::string::npos) << other.text;
  const Answer missing = call(mobile, "POST", "/api/v1/self/processes/CardsProcDeactivate",
                              R"({"target": "card-9999", "reason": "Card left at home"})");
  expect_problem(missing, 403, "credential card-9999 is not one of yours");
  EXPECT_EQ(get("/api/v1/credentials/card-1002").body.at("state"), "active");
  // A process that is not self-service, even on their own card.
  expect_problem(call(mobile, "POST", "/api/v1/self/processes/CardsProcLock",
                      R"({"target": "card-1003", "reason": "Card lost"})"),
                 403, "'CardsProcLock' is not a self-service process here");
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "active");
  // Every refusal audited, as self-service with the certificate used.
  const auto refused = refusals();
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[2].at("target"), "card-1002");
  EXPECT_EQ(refused[2].at("process"), "CardsProcDeactivate");
  EXPECT_EQ(refused[2].at("self_service_certificate"), certificate);
  EXPECT_EQ(refused[1].at("target"), "card-9999");
  EXPECT_EQ(refused[0].at("note"), "missing self-service CardsProcLock");
  EXPECT_EQ(refused[0].at("self_service_certificate"), certificate);

  // Their own card, with their mobile ID: applied, audited as self-service, OCSP sees it.
  const Answer own = call(mobile, "POST", "/api/v1/self/processes/CardsProcDeactivate",
                          R"({"target": "card-1003", "reason": "Card temporarily misplaced"})");
  ASSERT_EQ(own.status, 200) << own.text;
  EXPECT_EQ(own.body.at("audit").at("self_service_certificate"), certificate);
  EXPECT_EQ(own.body.at("audit").at("operator"),
            "CN=Cecilia Carlsson (mobile_id authentication),O=revocore demo");
  EXPECT_EQ(own.text.find(data().string()), std::string::npos) << "no server path in " << own.text;
  EXPECT_EQ(get("/api/v1/credentials/card-1003").body.at("state"), "inactive");
  EXPECT_NE(ocsp_status(file("pki/holder-card-1003.pem")).find("Reason: certificateHold"),
            std::string::npos);
  // Found again: reactivated the same way.
  const Answer found = call(mobile, "POST", "/api/v1/self/processes/CardsProcReactivate",
                            R"({"target": "card-1003", "reason": "Card found"})");
  ASSERT_EQ(found.status, 200) << found.text;
  EXPECT_NE(ocsp_status(file("pki/holder-card-1003.pem")).find(": good"), std::string::npos);
  const Answer audit = get("/api/v1/audit?limit=2");
  EXPECT_EQ(audit.body.at(0).at("process"), "CardsProcReactivate");
  EXPECT_EQ(audit.body.at(0).at("self_service_certificate"), certificate);
}

// Deactivating the card whose certificate signed in puts that certificate on hold, and with it
// the holder's access ends, on the connection already open.
TEST_F(ApiTest, ACardHoldersOwnDeactivationEndsTheirAccess) {
  const fs::path script = dir_->path() / "self.py";
  std::ofstream(script) << fmt::format(
      R"(import http.client, json, ssl
context = ssl.create_default_context(cafile="{ca}")
context.load_cert_chain("{cert}", "{key}")
connection = http.client.HTTPSConnection("127.0.0.1", {port}, context=context)
def call(method, path, body=None):
    headers = {{"Content-Type": "application/json"}} if body else {{}}
    connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.read().decode()
first, _ = call("GET", "/api/v1/self")
sock = connection.sock
second, _ = call("POST", "/api/v1/self/processes/CardsProcDeactivate",
                 {{"target": "card-1003", "reason": "Card left at home"}})
third, body = call("GET", "/api/v1/self")
print(first, second, third, "same-connection" if connection.sock is sock else "reconnected", body)
)",
      fmt::arg("ca", file("pki/root-ca.pem")), fmt::arg("cert", file("pki/holder-card-1003.pem")),
      fmt::arg("key", file("pki/holder-card-1003.key")), fmt::arg("port", responder_.admin_port));
  std::string out;
  testing::run_command(fmt::format("python3 {}", script.string()), &out);
  EXPECT_EQ(out.substr(0, 28), "200 200 403 same-connection ") << out;
  EXPECT_NE(out.find("it is on_hold (certificateHold)"), std::string::npos) << out;
  // Their mobile ID still signs in, and may bring the card back.
  const auto mobile = fmt::format("--cert {} --key {}", file("pki/holder-mobile-1003.pem"),
                                  file("pki/holder-mobile-1003.key"));
  EXPECT_EQ(call(mobile, "GET", "/api/v1/self").status, 200);
  // Locked by an operator (all the user's certificates revoked): no self-service at all.
  ASSERT_EQ(
      post("/api/v1/processes/UsersProcLock", R"({"target": "1003", "reason": "Key compromise"})")
          .status,
      200);
  expect_problem(call(mobile, "GET", "/api/v1/self"), 403, "it is revoked (keyCompromise)");
}

// The routes check the caller's kind themselves, whatever the listener authenticated it as.
TEST(ApiRoutes, ACallerOfOneKindIsRefusedThePathsOfTheOther) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data), 0);
  const auto config = config::Configuration::load_file(data / "revocore.toml");
  Store store = Store::open(data / "store");
  const api::AdminRoutes routes(store, config, testing::fixed_clock(), [](std::uint64_t) {});
  const auto request = [](const char* target) {
    api::HttpRequest out{boost::beast::http::verb::get, target, 11};
    out.set(boost::beast::http::field::host, "127.0.0.1");
    return out;
  };
  api::ApiCaller holder{api::ApiCaller::Kind::kCardHolder,
                        "CN=holder",
                        "01",
                        "1003",
                        {"operator"},
                        "demo-issuing-ca/01"};
  const api::ApiCaller operator_caller{
      api::ApiCaller::Kind::kOperator, "CN=op", "02", "operator-1", {"operator"}, ""};
  // A card holder is no operator, whatever roles it was given.
  const auto as_operator = routes.handle(request("/api/v1/users/1002"), holder);
  EXPECT_EQ(as_operator.result_int(), 403u);
  EXPECT_NE(as_operator.body().find("signs in to self-service only"), std::string::npos)
      << as_operator.body();
  const auto as_holder = routes.handle(request("/api/v1/self"), operator_caller);
  EXPECT_EQ(as_holder.result_int(), 403u);
  EXPECT_NE(as_holder.body().find("operators use the operator paths"), std::string::npos)
      << as_holder.body();
  EXPECT_EQ(routes.handle(request("/api/v1/self"), holder).result_int(), 200u);
  EXPECT_TRUE(api::AdminRoutes::is_self_service("/api/v1/self"));
  EXPECT_TRUE(api::AdminRoutes::is_self_service("/api/v1/%73elf/processes/X?x=1"));
  EXPECT_TRUE(api::AdminRoutes::is_self_service("//api//v1/self"));
  EXPECT_FALSE(api::AdminRoutes::is_self_service("/api/v1/selfie"));
  EXPECT_FALSE(api::AdminRoutes::is_self_service("/api/v1/users/self"));
  EXPECT_FALSE(api::AdminRoutes::is_self_service("/api/v1/%zzself"));
  // Both refusals audited.
  const auto audit = store.read().audit(2);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].kind, AuditKind::kRefused);
  EXPECT_EQ(audit[0].operator_name, "CN=op");
  EXPECT_EQ(audit[1].self_service_certificate, "demo-issuing-ca/01");
}

TEST(ApiJobs, UnfinishedJobsResumeWhenTheServerStarts) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data), 0);
  {
    const auto config = config::Configuration::load_file(data / "revocore.toml");
    Store store = Store::open(data / "store");
    lifecycle::BatchJobs jobs(store, config, testing::fixed_clock());
    ASSERT_EQ(jobs.create(config::kUsersProcLock, {"1002", "1003"}, "Left the organisation",
                          "CN=a crashed operator", "test"),
              1u);
  }
  testing::ResponderProcess server = testing::start_responder(REVOCORE_BINARY, data, dir.path());
  ASSERT_NE(server.admin_port, 0) << read_text(dir.path() / "serve.err");
  std::string answer;
  for (int i = 0; i < 100 && answer.find("\"status\":\"done\"") == std::string::npos; ++i) {
    ::usleep(50'000);
    testing::run_command(
        fmt::format("curl -s --cacert {0}/pki/root-ca.pem --cert {0}/pki/operator-1.pem --key "
                    "{0}/pki/operator-1.key https://127.0.0.1:{1}/api/v1/jobs/1",
                    data.string(), server.admin_port),
        &answer);
  }
  EXPECT_NE(answer.find("\"applied\":2"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"crls_published\":true"), std::string::npos) << answer;
  EXPECT_NE(read_text(dir.path() / "serve.err").find("event=job_resume job=1"), std::string::npos);
  testing::stop_responder(server);
}

// A full store (LMDB's map) is a 507 naming the setting to raise; nothing is half-registered and
// both listeners keep answering.
TEST(ApiFaults, StoreFullIs507AndTheServiceStaysUp) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data), 0);
  std::string config = read_text(data / "revocore.toml");
  config.replace(config.find("map_size_mib = 4096"), 19, "map_size_mib = 1");
  std::ofstream(data / "revocore.toml") << config;

  // A batch job of 300,000 targets: storing its list needs more room than the store has.
  json::array targets;
  for (int i = 0; i < 300'000; ++i) {
    targets.emplace_back(fmt::format("user-{:06}", i));
  }
  std::ofstream(data / "bulk.json") << json::serialize(
      json::object{{"reason", "Left the organisation"}, {"targets", std::move(targets)}});

  testing::ResponderProcess server = testing::start_responder(REVOCORE_BINARY, data, dir.path());
  ASSERT_NE(server.admin_port, 0) << read_text(dir.path() / "serve.err");
  auto curl = [&](const std::string& extra, const std::string& path) {
    std::string out;
    testing::run_command(
        fmt::format("curl -s --cacert {0}/pki/root-ca.pem --cert {0}/pki/operator-1.pem --key "
                    "{0}/pki/operator-1.key {1} -o {0}/answer.json -w '%{{http_code}}' "
                    "https://127.0.0.1:{2}{3}",
                    data.string(), extra, server.admin_port, path),
        &out);
    return out + " " + read_text(data / "answer.json");
  };
  const std::string full = curl(
      fmt::format("-H 'Content-Type: application/json' --data-binary @{}/bulk.json", data.string()),
      "/api/v1/jobs");
  EXPECT_EQ(full.substr(0, 3), "507") << full.substr(0, 400);
  EXPECT_NE(full.find("map_size_mib"), std::string::npos) << full.substr(0, 400);
  EXPECT_EQ(curl("", "/api/v1/jobs"), "200 []\n");  // nothing half-created
  EXPECT_EQ(curl("", "/api/v1/whoami").substr(0, 3), "200");
  std::string health;
  testing::run_command(fmt::format("curl -s http://127.0.0.1:{}/health", server.port), &health);
  EXPECT_EQ(health, "ok\n");
  testing::stop_responder(server);
}

// The same API when the operator CA is not one of revocore's issuers: revocations come from the
// CA's CRL file, here made by `openssl ca`, read on every request.
TEST(ApiWithOperatorCrl, RevokedOperatorsAreRefusedByTheCrl) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data), 0);
  ASSERT_EQ(testing::run_command(fmt::format(
                "cd {} && mkdir ca && touch ca/index.txt && echo 1000 > ca/crlnumber && printf "
                "'[ca]\\ndefault_ca = d\\n[d]\\ndatabase = ca/index.txt\\ncrlnumber = "
                "ca/crlnumber\\ndefault_md = sha256\\ndefault_crl_days = 30\\n' > ca/ca.cnf && "
                "openssl ca -config ca/ca.cnf -keyfile pki/operator-ca.key -cert "
                "pki/operator-ca.pem -revoke pki/operator-2.pem && openssl ca -config ca/ca.cnf "
                "-keyfile pki/operator-ca.key -cert pki/operator-ca.pem -gencrl -out "
                "ca/operator-ca.crl",
                data.string())),
            0);
  // The operator CA is no longer an issuer of this revocore; its CRL says who is revoked.
  std::string config = read_text(data / "revocore.toml");
  const auto issuer = config.find("[[issuer]]\nname = \"demo-operator-ca\"");
  ASSERT_NE(issuer, std::string::npos);
  config.erase(issuer, config.find("\n[admin]\n", issuer) + 1 - issuer);
  const std::string client_ca = "client_ca = \"pki/operator-ca.pem\"\n";
  ASSERT_NE(config.find(client_ca), std::string::npos);
  config.insert(config.rfind(client_ca) + client_ca.size(),
                "client_crl = \"ca/operator-ca.crl\"\n");
  // Without the store's users, roles come from the certificate's subject.
  config +=
      "[[role]]\nname = \"help-desk\"\npermissions = [\"process:CardsProcDeactivate\", "
      "\"read:users\"]\n[authorization.subject_roles]\n"
      "\"CN=Olivia Olsson (operator),O=revocore demo\" = [\"help-desk\"]\n";
  std::ofstream(data / "revocore.toml") << config;

  testing::ResponderProcess server = testing::start_responder(REVOCORE_BINARY, data, dir.path());
  ASSERT_NE(server.admin_port, 0) << read_text(dir.path() / "serve.err");
  // The status and answer of one request by the operator `who`.
  const auto call = [&](const char* who, const char* method, const std::string& path,
                        const std::string& body) {
    std::string out;
    testing::run_command(
        fmt::format("curl -s --cacert {0}/pki/root-ca.pem --cert {0}/pki/{1}.pem --key "
                    "{0}/pki/{1}.key -X {2} -H 'Content-Type: application/json' "
                    "--data-binary '{3}' -o {0}/answer.json -w '%{{http_code}}' "
                    "https://127.0.0.1:{4}{5}",
                    data.string(), who, method, body, server.admin_port, path),
        &out);
    return out + " " + read_text(data / "answer.json");
  };
  const auto status = [&](const char* who) { return call(who, "GET", "/api/v1/whoami", ""); };
  EXPECT_EQ(status("operator-1").substr(0, 3), "200");
  EXPECT_NE(status("operator-1").find("\"roles\":[\"help-desk\"]"), std::string::npos);
  EXPECT_EQ(call("operator-1", "GET", "/api/v1/users/1003", "").substr(0, 3), "200");
  const std::string lock = call("operator-1", "POST", "/api/v1/processes/UsersProcLock",
                                R"({"target": "1003", "reason": "Left the organisation"})");
  EXPECT_EQ(lock.substr(0, 3), "403") << lock;
  EXPECT_NE(lock.find("process:UsersProcLock"), std::string::npos) << lock;
  const std::string card = call("operator-1", "POST", "/api/v1/processes/CardsProcDeactivate",
                                R"({"target": "card-1003", "reason": "Card left at home"})");
  EXPECT_EQ(card.substr(0, 3), "200") << card;
  std::string refused = status("operator-2");
  EXPECT_EQ(refused.substr(0, 3), "403") << refused;
  EXPECT_NE(refused.find("revoked"), std::string::npos) << refused;
  // Without a readable CRL nobody gets in: fail closed.
  fs::remove(data / "ca/operator-ca.crl");
  refused = status("operator-1");
  EXPECT_EQ(refused.substr(0, 3), "403") << refused;
  EXPECT_NE(refused.find("CRL cannot be read"), std::string::npos) << refused;
  testing::stop_responder(server);
}

}  // namespace
}  // namespace revocore
