// `revocore import`: manifests and certificates made by the openssl command line (a third party,
// so that our own certificate code is not what produces the test inputs). Every refusal leaves
// the store as it was.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "importer/certificate_import.hpp"
#include "importer/manifest.hpp"
#include "revocation/error.hpp"
#include "tests/test_support.hpp"

namespace revocore::importer {
namespace {

namespace fs = std::filesystem;

// Runs a shell command; fails the test with its output when it does not succeed.
std::string shell(const std::string& command) {
  std::string output;
  EXPECT_EQ(testing::run_command(command, &output), 0) << command << "\n" << output;
  return output;
}

// A CA made by `openssl req`, and leaf certificates signed by it with `openssl x509 -req`.
class OpensslCa {
 public:
  OpensslCa(fs::path dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
    shell(fmt::format(
        "cd {} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-subj '/O=revocore test/CN={}' -keyout {}.key -out {}.pem -days 30 "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        dir_.string(), name_, name_, name_));
  }
  fs::path certificate() const { return dir_ / (name_ + ".pem"); }

  // Issues a leaf with the given hexadecimal serial into `file` (PEM, appended to when
  // `append` is set, so one file can hold several certificates).
  void issue(const fs::path& file, const std::string& serial_hex, const std::string& cn,
             bool append = false) const {
    shell(fmt::format(
        "cd {0} && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-subj '/CN={1}' -keyout leaf.key -out leaf.csr && openssl x509 -req -in leaf.csr "
        "-CA {2}.pem -CAkey {2}.key -set_serial 0x{3} -days 10 -out leaf.pem && cat leaf.pem "
        "{4} '{5}'",
        dir_.string(), cn, name_, serial_hex, append ? ">>" : ">", file.string()));
  }

 private:
  fs::path dir_;
  std::string name_;
};

class ImportTest : public ::testing::Test {
 protected:
  ImportTest()
      : ca_(dir_.path(), "test-issuing-ca"),
        config_(config::Configuration::parse(
            std::string(config::kDefaultConfigToml) +
                fmt::format("\n[[issuer]]\nname = \"issuing\"\ncertificate = \"{}\"\n",
                            ca_.certificate().string()),
            "revocore.toml", dir_.path())),
        store_(Store::create(dir_.path() / "store")) {
    fs::create_directories(certs());
  }

  fs::path certs() const { return dir_.path() / "certs"; }

  fs::path write_manifest(const std::string& name, const std::string& text) {
    const fs::path file = certs() / name;
    std::ofstream(file) << text;
    return file;
  }

  ImportSummary import(const fs::path& manifest, std::vector<fs::path> sources = {}) {
    return import_certificates(store_, config_, ImportRequest{manifest, std::move(sources), "op"},
                               testing::fixed_clock());
  }

  // Imports expecting a refusal with `code`; the store must stay empty of certificates.
  std::string refused(const fs::path& manifest, ErrorCode code,
                      std::vector<fs::path> sources = {}) {
    const auto before = store_.read().count_certificates();
    try {
      import(manifest, std::move(sources));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_EQ(store_.read().count_certificates(), before);
      return e.what();
    }
    ADD_FAILURE() << "import was accepted";
    return {};
  }

  std::optional<CertificateRecord> stored(const std::string& serial_hex) {
    const auto txn = store_.read();
    const auto issuer = txn.issuer_by_name("issuing");
    if (!issuer) {
      return std::nullopt;
    }
    return txn.certificate(CertificateKey{issuer->id, Serial::from_hex(serial_hex)});
  }

  testing::TempDir dir_;
  OpensslCa ca_;
  config::Configuration config_;
  Store store_;
};

TEST_F(ImportTest, CsvManifestRegistersCertificatesCredentialsAndUsers) {
  ca_.issue(certs() / "alice-card.pem", "1A2B3C", "Alice card auth");
  ca_.issue(certs() / "alice-card.pem", "80FF00", "Alice card sign", /*append=*/true);
  ca_.issue(certs() / "alice-mobile.pem", "0DDBA11", "Alice mobile");
  ca_.issue(certs() / "bob-token.pem", "B0B", "Bob token");
  const auto manifest = write_manifest("manifest.csv",
                                       "certificate,credential,type,user,user_name\n"
                                       "alice-card.pem,card-1001,card,1001,\"Andersson, Alice\"\n"
                                       "alice-mobile.pem,mobile-1001,mobile_id,1001,\n"
                                       "bob-token.pem,soft-1002,soft_token,1002,Bob\n");
  const ImportSummary summary = import(manifest);
  EXPECT_EQ(summary.certificates, 4u);
  EXPECT_EQ(summary.users_created, 2u);
  EXPECT_EQ(summary.credentials_created, 3u);

  // The serial as the openssl command line prints it finds the certificate.
  const std::string printed = shell(
      fmt::format("openssl x509 -serial -noout -in {}", (certs() / "bob-token.pem").string()));
  ASSERT_EQ(printed.rfind("serial=", 0), 0u);
  const auto bob = stored(printed.substr(7, printed.find('\n') - 7));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->credential_id, "soft-1002");
  EXPECT_EQ(bob->status, CertificateStatus::kValid);
  EXPECT_EQ(bob->subject, "CN=Bob token");
  // 80FF00 has its top bit set: stored with the DER sign octet, found by its hex.
  EXPECT_TRUE(stored("80FF00").has_value());

  const auto txn = store_.read();
  const auto alice = txn.user("1001");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "Andersson, Alice");
  EXPECT_EQ(alice->roles, std::vector<std::string>{"employee"});
  EXPECT_EQ(txn.credentials_of_user("1001").size(), 2u);
  EXPECT_EQ(txn.certificates_of_credential("card-1001").size(), 2u);
  EXPECT_EQ(txn.credential("mobile-1001")->type, CredentialType::kMobileId);
  EXPECT_EQ(txn.audit(1)[0].kind, AuditKind::kImport);
}

TEST_F(ImportTest, DirectoryOfDerAndPemWithAJsonLinesManifest) {
  ca_.issue(certs() / "a.pem", "0A", "A");
  shell(fmt::format("cd {0} && openssl x509 -in a.pem -outform DER -out a.der && rm a.pem",
                    certs().string()));
  ca_.issue(certs() / "b.crt", "0B", "B");
  const auto manifest = write_manifest(
      "manifest.jsonl",
      "{\"certificate\": \"a.der\", \"credential\": \"vsc-1\", \"type\": \"virtual_smart_card\", "
      "\"user\": \"1\"}\n"
      "\n"
      "{\"certificate\": \"b.crt\", \"credential\": \"tmp-1\", \"type\": \"temporary_card\", "
      "\"user\": \"1\"}\n");
  EXPECT_EQ(import(manifest, {certs()}).certificates, 2u);
  EXPECT_EQ(stored("0A")->credential_id, "vsc-1");
  EXPECT_EQ(stored("0B")->credential_id, "tmp-1");
}

TEST_F(ImportTest, MalformedManifestLinesNameFileAndLine) {
  ca_.issue(certs() / "a.pem", "01", "A");
  const auto short_line = write_manifest(
      "short.csv", "certificate,credential,type,user\na.pem,c1,card,1\na.pem,c2,card\n");
  EXPECT_EQ(refused(short_line, ErrorCode::kInvalidManifest),
            fmt::format("{}:3: 3 fields where the header names 4", short_line.string()));

  const auto bad_type =
      write_manifest("type.csv", "certificate,credential,type,user\na.pem,c1,badge,1\n");
  EXPECT_NE(refused(bad_type, ErrorCode::kInvalidManifest)
                .find("type.csv:2: unknown credential type 'badge'"),
            std::string::npos);

  const auto bad_column = write_manifest("column.csv", "cert,credential,type,user\n");
  EXPECT_NE(refused(bad_column, ErrorCode::kInvalidManifest).find("unknown column 'cert'"),
            std::string::npos);

  const auto bad_json = write_manifest(
      "bad.jsonl",
      "{\"certificate\": \"a.pem\", \"credential\": \"c1\", \"type\": \"card\", \"user\": \"1\"}\n"
      "{\"certificate\": \"a.pem\", \"credential\": \n");
  EXPECT_NE(refused(bad_json, ErrorCode::kInvalidManifest).find("bad.jsonl:2: not a JSON object"),
            std::string::npos);

  const auto empty_user =
      write_manifest("empty.csv", "certificate,credential,type,user\na.pem,c1,card,\n");
  EXPECT_NE(refused(empty_user, ErrorCode::kInvalidManifest).find("'user' is empty"),
            std::string::npos);
  EXPECT_FALSE(store_.read().user("1").has_value());
}

TEST_F(ImportTest, DuplicateSerialRefusesTheWholeImport) {
  ca_.issue(certs() / "a.pem", "0A", "A");
  ca_.issue(certs() / "b.pem", "0B", "B");
  const auto manifest = write_manifest("dup.csv",
                                       "certificate,credential,type,user\n"
                                       "b.pem,c0,card,1\n"
                                       "a.pem,c1,card,1\n"
                                       "a.pem,c2,mobile_id,1\n");
  const std::string message = refused(manifest, ErrorCode::kDuplicate);
  EXPECT_NE(message.find("dup.csv:4: certificate serial 0A of issuer issuing is already "
                         "registered"),
            std::string::npos)
      << message;
  EXPECT_FALSE(store_.read().user("1").has_value());
  EXPECT_FALSE(store_.read().credential("c0").has_value());

  // Importing the same certificate again later is refused the same way.
  const auto first =
      write_manifest("first.csv", "certificate,credential,type,user\na.pem,c1,card,1\n");
  import(first);
  refused(first, ErrorCode::kDuplicate);
  EXPECT_EQ(store_.read().count_certificates(), 1u);
}

TEST_F(ImportTest, CertificateOfAnUnconfiguredIssuerIsRefused) {
  const OpensslCa stranger(dir_.path(), "stranger-ca");
  stranger.issue(certs() / "x.pem", "0C", "X");
  const auto manifest =
      write_manifest("m.csv", "certificate,credential,type,user\nx.pem,c1,card,1\n");
  const std::string message = refused(manifest, ErrorCode::kUnknownIssuer);
  EXPECT_NE(message.find("m.csv:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("CN=stranger-ca,O=revocore test"), std::string::npos) << message;
  EXPECT_NE(message.find("add an [[issuer]]"), std::string::npos) << message;
}

TEST_F(ImportTest, MissingAndUnlistedFilesAreRefused) {
  const auto missing =
      write_manifest("m.csv", "certificate,credential,type,user\nnope.pem,c1,card,1\n");
  EXPECT_NE(refused(missing, ErrorCode::kInvalidCertificate)
                .find("m.csv:2: cannot read certificate "
                      "file"),
            std::string::npos);

  ca_.issue(certs() / "a.pem", "0A", "A");
  ca_.issue(certs() / "extra.pem", "0E", "E");
  const auto partial =
      write_manifest("p.csv", "certificate,credential,type,user\na.pem,c1,card,1\n");
  EXPECT_NE(refused(partial, ErrorCode::kInvalidManifest, {certs()}).find("extra.pem has no line"),
            std::string::npos);

  std::ofstream(certs() / "garbage.pem") << "-----BEGIN CERTIFICATE-----\nAAAA\n";
  const auto garbage =
      write_manifest("g.csv", "certificate,credential,type,user\ngarbage.pem,c1,card,1\n");
  EXPECT_NE(refused(garbage, ErrorCode::kInvalidCertificate).find("holds no PEM or DER"),
            std::string::npos);
}

TEST_F(ImportTest, ACredentialKeepsItsTypeAndUser) {
  ca_.issue(certs() / "a.pem", "0A", "A");
  ca_.issue(certs() / "b.pem", "0B", "B");
  import(write_manifest("1.csv", "certificate,credential,type,user\na.pem,c1,card,1\n"));
  const std::string message =
      refused(write_manifest("2.csv", "certificate,credential,type,user\nb.pem,c1,mobile_id,2\n"),
              ErrorCode::kInvalidManifest);
  EXPECT_NE(message.find("credential c1 is a card of user 1 in the store"), std::string::npos)
      << message;
}

// Registration (the API's POST /api/v1/certificates) of many certificates at once: the audit note
// names the first serials only. Regression: it named them all, and 3,000 certificates overflowed
// the audit record's 64 KiB text field, refusing the registration.
TEST_F(ImportTest, RegistrationOfManyCertificatesIsAuditedBriefly) {
  for (int i = 0; i < 25; ++i) {
    ca_.issue(certs() / "many.pem", fmt::format("{:X}", 0x5000 + i), "token", /*append=*/i > 0);
  }
  std::stringstream pem;
  pem << std::ifstream(certs() / "many.pem").rdbuf();
  const ImportSummary summary = register_certificates(
      store_, config_,
      CertificateRegistration{pem.str(), "token-9", CredentialType::kSoftToken, "9", "Nine", "op"},
      testing::fixed_clock());
  EXPECT_EQ(summary.certificates, 25u);
  const auto audit = store_.read().audit(1).front();
  EXPECT_EQ(audit.process, "Register");
  EXPECT_NE(audit.note.find("5000, 5001"), std::string::npos) << audit.note;
  EXPECT_NE(audit.note.find("and 5 more"), std::string::npos) << audit.note;
}

// A certificate follows its credential (hardening): registered on a locked credential it is
// revoked at once, on an inactive one held, journalled so OCSP and delta CRLs see it; a new
// credential of a locked user is locked, of an inactive user what Deactivate user makes it.
TEST_F(ImportTest, RegistrationFollowsTheCredentialsAndTheUsersState) {
  testing::StoreBuilder build(store_);
  build.user("7", LifecycleState::kLocked);
  build.credential("card-7", CredentialType::kCard, "7", LifecycleState::kLocked);
  build.user("8", LifecycleState::kInactive);
  build.credential("card-8", CredentialType::kCard, "8", LifecycleState::kInactive);
  const auto register_one = [&](const std::string& serial, const std::string& credential,
                                CredentialType type, const std::string& user) {
    ca_.issue(certs() / "one.pem", serial, "one");
    std::stringstream pem;
    pem << std::ifstream(certs() / "one.pem").rdbuf();
    return register_certificates(
        store_, config_, CertificateRegistration{pem.str(), credential, type, user, "", "op"},
        testing::fixed_clock());
  };
  const auto journal_before = store_.read().count_journal_entries();
  EXPECT_EQ(register_one("7001", "card-7", CredentialType::kCard, "7").revoked, 1u);
  EXPECT_EQ(stored("7001")->status, CertificateStatus::kRevoked);
  EXPECT_EQ(register_one("8001", "card-8", CredentialType::kCard, "8").held, 1u);
  EXPECT_EQ(stored("8001")->status, CertificateStatus::kOnHold);
  EXPECT_EQ(stored("8001")->reason, ReasonCode::kCertificateHold);
  // New credentials of those users.
  EXPECT_EQ(register_one("7002", "mobile-7", CredentialType::kMobileId, "7").revoked, 1u);
  EXPECT_EQ(store_.read().credential("mobile-7")->state, LifecycleState::kLocked);
  EXPECT_EQ(register_one("8002", "vsc-8", CredentialType::kVirtualSmartCard, "8").held, 1u);
  EXPECT_EQ(store_.read().credential("vsc-8")->state, LifecycleState::kInactive);
  // Deactivate user locks a temporary card: so is a new one, its certificate revoked.
  const ImportSummary temporary =
      register_one("8003", "temp-8", CredentialType::kTemporaryCard, "8");
  EXPECT_EQ(temporary.revoked, 1u);
  EXPECT_EQ(store_.read().credential("temp-8")->state, LifecycleState::kLocked);
  EXPECT_FALSE(temporary.issuers_changed.empty());
  EXPECT_EQ(store_.read().count_journal_entries(), journal_before + 5);
  // An active credential of an active user: valid, as before.
  EXPECT_EQ(register_one("9001", "card-9", CredentialType::kCard, "9").revoked, 0u);
  EXPECT_EQ(stored("9001")->status, CertificateStatus::kValid);

  // Configured to refuse instead: nothing is registered.
  config_ = config::Configuration::parse(
      std::string(config::kDefaultConfigToml) +
          fmt::format("\n[[issuer]]\nname = \"issuing\"\ncertificate = \"{}\"\n",
                      ca_.certificate().string()),
      "revocore.toml", dir_.path());
  config_.refuse_registration_when_not_active = true;
  try {
    register_one("7003", "card-7", CredentialType::kCard, "7");
    ADD_FAILURE() << "registered";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWrongState);
    EXPECT_NE(std::string(e.what()).find("credential card-7 is locked (user 7 is locked)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(stored("7003").has_value());
}

TEST(Manifest, CsvQuotingAndComments) {
  const auto entries = parse_manifest(
      "# exported from the identity manager\n"
      "user,type,credential,certificate,user_name\n"
      "42,card,card-42,\"a,b.pem\",\"Say \"\"hi\"\"\"\r\n",
      "m.csv");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].line, 3u);
  EXPECT_EQ(entries[0].certificate, "a,b.pem");
  EXPECT_EQ(entries[0].user_name, "Say \"hi\"");
  EXPECT_EQ(entries[0].user_id, "42");
}

TEST(Manifest, RefusesControlCharactersInIds) {
  EXPECT_THROW(parse_manifest("certificate,credential,type,user\na.pem,c\x01,card,1\n", "m.csv"),
               Error);
  EXPECT_THROW(check_identifier(std::string(129, 'x'), "user id"), Error);
  EXPECT_THROW(parse_manifest("", "m.csv"), Error);
}

}  // namespace
}  // namespace revocore::importer
