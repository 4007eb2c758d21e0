// CRLs: every key type, checked by parsers nobody here wrote (OpenSSL's d2i_X509_CRL and
// `openssl crl -verify`, GnuTLS `certtool --verify-crl` and `--crl-info`); entries equal to the
// store after lifecycle processes; numbers that only grow; deltas that rebuild the next full CRL;
// refusals that use up no number.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "pki/openssl_handles.hpp"
#include "revocation/error.hpp"
#include "revocation/status_transition.hpp"
#include "tests/test_support.hpp"

namespace revocore::crl {
namespace {

namespace fs = std::filesystem;
using S = CertificateStatus;

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A CRL as OpenSSL's parser sees it.
struct ParsedCrl {
  long number = -1;
  long delta_base = -1;                // -1: a full CRL
  std::map<std::string, int> entries;  // serial hex -> reason code (-1: none)
};

ParsedCrl parse(const fs::path& file) {
  const std::string der = read_file(file);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::ScopedX509Crl crl(::d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(crl) << file;
  ParsedCrl out;
  if (!crl) {
    return out;
  }
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der.data() + der.size()));
  EXPECT_EQ(::X509_CRL_get_version(crl.get()), 1);  // v2
  auto integer = [&](int nid) {
    pki::ScopedAsn1Integer value(
        static_cast<ASN1_INTEGER*>(::X509_CRL_get_ext_d2i(crl.get(), nid, nullptr, nullptr)));
    return value ? ::ASN1_INTEGER_get(value.get()) : -1;
  };
  out.number = integer(NID_crl_number);
  out.delta_base = integer(NID_delta_crl);
  STACK_OF(X509_REVOKED)* revoked = ::X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; revoked != nullptr && i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    pki::ScopedBignum serial(
        ::ASN1_INTEGER_to_BN(::X509_REVOKED_get0_serialNumber(entry), nullptr));
    char* hex = ::BN_bn2hex(serial.get());
    ASN1_ENUMERATED* reason = static_cast<ASN1_ENUMERATED*>(
        ::X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
    out.entries[hex] = reason ? static_cast<int>(::ASN1_ENUMERATED_get(reason)) : -1;
    ::ASN1_ENUMERATED_free(reason);
    pki::free_openssl_bytes(reinterpret_cast<unsigned char*>(hex));
  }
  return out;
}

// Third-party verification of a published CRL against the issuer certificate.
void expect_third_parties_accept(const fs::path& crl, const fs::path& issuer) {
  std::string output;
  EXPECT_EQ(testing::run_command(
                fmt::format("openssl crl -inform DER -in '{}' -noout -CAfile '{}' -verify",
                            crl.string(), issuer.string()),
                &output),
            0)
      << output;
  EXPECT_NE(output.find("verify OK"), std::string::npos) << output;
  const fs::path pem = crl.string() + ".pem";
  EXPECT_EQ(testing::run_command(fmt::format("openssl crl -inform DER -in '{}' -out '{}'",
                                             crl.string(), pem.string())),
            0);
  EXPECT_EQ(testing::run_command(
                fmt::format("certtool --verify-crl --load-ca-certificate '{}' --infile '{}'",
                            issuer.string(), pem.string()),
                &output),
            0)
      << output;
  EXPECT_NE(output.find("Verified."), std::string::npos) << output;
  EXPECT_EQ(
      testing::run_command(fmt::format("certtool --crl-info --infile '{}'", pem.string()), &output),
      0)
      << output;
}

// A full CRL with a delta applied (RFC 5280 5.2.4): removeFromCRL drops an entry, any other
// entry replaces it.
std::map<std::string, int> applied(const ParsedCrl& base, const ParsedCrl& delta) {
  std::map<std::string, int> out = base.entries;
  for (const auto& [serial, reason] : delta.entries) {
    if (reason == 8) {  // removeFromCRL
      out.erase(serial);
    } else {
      out[serial] = reason;
    }
  }
  return out;
}

struct KeyType {
  const char* name;
  const char* genkey;  // openssl req -newkey argument
};

// An issuing CA made by the openssl command line, registered in a fresh store.
class CrlTest : public ::testing::Test {
 protected:
  void make_issuer(const KeyType& key, const std::string& extra_config = "",
                   const std::string& key_usage = "critical,keyCertSign,cRLSign") {
    ASSERT_EQ(testing::run_command(
                  fmt::format("cd '{}' && openssl req -x509 -newkey {} -nodes -subj "
                              "'/O=revocore test/CN=CRL test CA {}' -keyout ca.key -out ca.pem "
                              "-days 30 -addext basicConstraints=critical,CA:TRUE -addext "
                              "keyUsage={} && chmod 600 ca.key",
                              dir_.path().string(), key.genkey, key.name, key_usage)),
              0);
    load_config(extra_config);
  }

  void load_config(const std::string& extra_config) {
    config_ = config::Configuration::parse(
        std::string(config::kDefaultConfigToml) +
            fmt::format("\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\n"
                        "private_key = \"ca.key\"\npublish_directory = \"crl\"\n{}\n",
                        extra_config),
        "revocore.toml", dir_.path());
    WriteTransaction txn = store_.write();
    issuer_ = importer::register_issuers(txn, *config_).front().id;
    txn.commit();
  }

  // CRLs that third-party tools verify must be current (they check nextUpdate against the real
  // clock), so the default is now; logic tests pass their own times.
  CrlPublisher publisher(std::optional<UnixTime> now = std::nullopt) {
    return CrlPublisher(store_, *config_, testing::fixed_clock(now.value_or(system_clock()())));
  }

  // What the store says a full CRL must list: serial hex -> RFC 5280 reason code.
  std::map<std::string, int> expected_entries() {
    std::map<std::string, int> out;
    store_.read().for_each_certificate_of(issuer_, [&](const CertificateStatusView& c) {
      if (c.status != S::kValid) {
        out[Serial::from_der_content(c.serial_octets).hex()] =
            c.reason == ReasonCode::kUnspecified ? -1 : static_cast<int>(c.reason);
      }
    });
    return out;
  }

  fs::path crl_dir() const { return dir_.path() / "crl"; }
  std::uint64_t last_number() { return store_.read().crl_state(issuer_).last_number; }

  testing::TempDir dir_;
  Store store_ = Store::create(dir_.path() / "store");
  std::optional<config::Configuration> config_;
  IssuerId issuer_ = 0;
};

class EveryKeyType : public CrlTest, public ::testing::WithParamInterface<KeyType> {};

TEST_P(EveryKeyType, FullAndDeltaCrlsAreAcceptedByOpensslAndGnutls) {
  make_issuer(GetParam(),
              "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"\n"
              "distribution_point = \"http://x/full.crl\"");
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  build.certificate(issuer_, 0x10, "c", S::kRevoked, ReasonCode::kKeyCompromise);
  build.certificate(issuer_, 0x11, "c", S::kOnHold);
  build.certificate(issuer_, 0x12, "c", S::kRevoked, ReasonCode::kUnspecified);
  build.certificate(issuer_, 0xFF00000000000001, "c");  // valid: not listed (top bit set)

  const PublishedCrl full = publisher().publish("ca", CrlKind::kFull);
  EXPECT_EQ(full.entries, 3u);
  expect_third_parties_accept(full.file, dir_.path() / "ca.pem");
  const ParsedCrl parsed = parse(full.file);
  EXPECT_EQ(parsed.number, 1);
  EXPECT_EQ(parsed.delta_base, -1);
  EXPECT_EQ(parsed.entries, expected_entries());
  EXPECT_EQ(parsed.entries.at("12"), -1);  // unspecified: no reasonCode (RFC 5280 5.3.1)
  EXPECT_EQ(read_file(full.file), read_file(full.numbered_file));

  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 0x11), S::kValid,
                                 ReasonCode::kUnspecified, testing::kTestTime, "t", "op", 0});
    txn.commit();
  }
  const PublishedCrl delta = publisher().publish("ca", CrlKind::kDelta);
  expect_third_parties_accept(delta.file, dir_.path() / "ca.pem");
  const ParsedCrl parsed_delta = parse(delta.file);
  EXPECT_EQ(parsed_delta.number, 2);
  EXPECT_EQ(parsed_delta.delta_base, 1);
  EXPECT_EQ(parsed_delta.entries, (std::map<std::string, int>{{"11", 8}}));  // removeFromCRL
}

INSTANTIATE_TEST_SUITE_P(Keys, EveryKeyType,
                         ::testing::Values(KeyType{"P256", "ec -pkeyopt ec_paramgen_curve:P-256"},
                                           KeyType{"P384", "ec -pkeyopt ec_paramgen_curve:P-384"},
                                           KeyType{"RSA2048", "rsa:2048"},
                                           KeyType{"RSA4096", "rsa:4096"},
                                           KeyType{"Ed25519", "ed25519"}),
                         [](const auto& info) { return std::string(info.param.name); });

const KeyType kP256{"P256", "ec -pkeyopt ec_paramgen_curve:P-256"};

TEST_F(CrlTest, EntriesFollowTheLifecycleProcesses) {
  make_issuer(kP256, "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"");
  testing::StoreBuilder build(store_);
  build.user("1042");
  build.user("7");
  std::uint64_t serial = 1;
  for (const auto type : kAllCredentialTypes) {
    const std::string id = fmt::format("{}-1042", to_string(type));
    build.credential(id, type, "1042");
    build.certificate(issuer_, serial++, id);
  }
  build.credential("card-7", CredentialType::kCard, "7");
  build.certificate(issuer_, serial++, "card-7");
  build.certificate(issuer_, serial++, "card-7");

  lifecycle::LifecycleProcesses processes(store_, *config_, testing::fixed_clock());
  CrlPublisher crls = publisher();
  crls.publish("ca", CrlKind::kFull);
  struct Step {
    std::string_view process;
    const char* target;
    const char* reason;
  };
  const Step steps[] = {
      {config::kUsersProcDeactivate, "1042", "Parental leave"},
      {config::kCardsProcDeactivate, "card-7", "Card not in use"},
      {config::kUsersProcReactivate, "1042", "Returned from leave"},
      {config::kCardsProcReactivate, "card-7", "Card found"},
      {config::kCardsProcDeactivate, "card-7", "Card not in use"},
      {config::kUsersProcLock, "1042", "Key compromise"},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.process);
    const auto outcome = processes.run(lifecycle::ProcessRequest{
        std::string(step.process), step.target, step.reason, "alice", std::nullopt});
    const auto published = crls.publish_after(outcome.batch.issuers_changed);
    // One delta over the current full CRL per batch, not per certificate: the newest full CRL
    // and the newest delta combine into the store's state (RFC 5280 5.2.4).
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].kind, CrlKind::kDelta);
    const ParsedCrl base = parse(crl_dir() / "ca.crl");
    const ParsedCrl delta = parse(published[0].file);
    EXPECT_EQ(delta.delta_base, base.number);
    EXPECT_GT(delta.number, base.number);
    EXPECT_EQ(applied(base, delta), expected_entries());
    expect_third_parties_accept(published[0].file, dir_.path() / "ca.pem");
  }
  // After the last step: 1042's five certificates revoked, card-7's two held.
  const auto final_entries =
      applied(parse(crl_dir() / "ca.crl"), parse(crl_dir() / "ca-delta.crl"));
  EXPECT_EQ(final_entries.size(), 7u);
  EXPECT_EQ(final_entries.at("06"), 6);  // certificateHold
  EXPECT_EQ(final_entries.at("01"), 1);  // keyCompromise
}

TEST_F(CrlTest, ADeltaAppliedToItsBaseGivesTheNextFullCrl) {
  make_issuer(kP256, "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"");
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  for (std::uint64_t serial = 1; serial <= 8; ++serial) {
    build.certificate(issuer_, serial, "c", serial <= 3 ? S::kOnHold : S::kValid);
  }
  const ParsedCrl base = parse(publisher().publish("ca", CrlKind::kFull).file);
  {
    WriteTransaction txn = store_.write();
    auto change = [&](std::uint64_t serial, S status, ReasonCode reason) {
      set_certificate_status(txn, {testing::key_for(issuer_, serial), status, reason,
                                   testing::kTestTime + 10, "t", "op", 0});
    };
    change(1, S::kValid, ReasonCode::kUnspecified);       // released
    change(2, S::kRevoked, ReasonCode::kKeyCompromise);   // hold -> revoked
    change(4, S::kRevoked, ReasonCode::kSuperseded);      // newly revoked
    change(5, S::kOnHold, ReasonCode::kCertificateHold);  // newly held
    change(6, S::kOnHold, ReasonCode::kCertificateHold);  // held and released again
    change(6, S::kValid, ReasonCode::kUnspecified);
    txn.commit();
  }
  const ParsedCrl delta = parse(publisher().publish("ca", CrlKind::kDelta).file);
  const ParsedCrl next = parse(publisher().publish("ca", CrlKind::kFull).file);
  EXPECT_EQ(delta.delta_base, base.number);
  EXPECT_GT(next.number, delta.number);

  EXPECT_EQ(applied(base, delta), next.entries);
  EXPECT_FALSE(delta.entries.contains("06"));  // never on the base, not on the next full CRL
  EXPECT_EQ(delta.entries.size(), 4u);
}

TEST_F(CrlTest, NumbersOnlyGrowAcrossRestartsAndFullAndDeltaShareThem) {
  make_issuer(kP256, "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"");
  EXPECT_EQ(publisher().publish("ca", CrlKind::kFull).number, 1u);
  EXPECT_EQ(publisher().publish("ca", CrlKind::kDelta).number, 2u);
  store_ = Store::open(dir_.path() / "store");
  EXPECT_EQ(publisher().publish("ca", CrlKind::kFull).number, 3u);
  EXPECT_EQ(publisher().publish("ca", CrlKind::kDelta).number, 4u);
  EXPECT_EQ(parse(crl_dir() / "ca-delta.crl").delta_base, 3);
  // A crash after the number was reserved leaves a gap, never a reused number.
  {
    WriteTransaction txn = store_.write();
    CrlState state = txn.crl_state(issuer_);
    ++state.last_number;  // as if publish() had reserved 5 and died
    txn.put_crl_state(issuer_, 0, state);
    txn.commit();
  }
  EXPECT_EQ(publisher().publish("ca", CrlKind::kFull).number, 6u);
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(crl_dir())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(CrlTest, ABatchTouchingTwoIssuersRegeneratesEachOnce) {
  make_issuer(kP256);
  ASSERT_EQ(testing::run_command(
                fmt::format("cd '{}' && openssl req -x509 -newkey ed25519 -nodes -subj '/CN=second "
                            "CA' -keyout ca2.key -out ca2.pem -days 30 -addext "
                            "keyUsage=critical,keyCertSign,cRLSign && chmod 600 ca2.key",
                            dir_.path().string())),
            0);
  load_config(
      "\n[[issuer]]\nname = \"ca2\"\ncertificate = \"ca2.pem\"\nprivate_key = "
      "\"ca2.key\"\npublish_directory = \"crl\"");
  const IssuerId second = store_.read().issuer_by_name("ca2")->id;
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("card", CredentialType::kCard, "u");
  build.credential("mobile", CredentialType::kMobileId, "u");
  for (std::uint64_t serial = 1; serial <= 50; ++serial) {
    build.certificate(issuer_, serial, "card");
    build.certificate(second, serial, "mobile");
  }
  lifecycle::LifecycleProcesses processes(store_, *config_, testing::fixed_clock());
  const auto outcome = processes.run(lifecycle::ProcessRequest{
      std::string(config::kUsersProcLock), "u", "Key compromise", "alice", std::nullopt});
  EXPECT_EQ(outcome.batch.revoked, 100u);
  const auto published = publisher().publish_after(outcome.batch.issuers_changed);
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(parse(crl_dir() / "ca.crl").entries.size(), 50u);
  EXPECT_EQ(parse(crl_dir() / "ca2.crl").entries.size(), 50u);
  expect_third_parties_accept(crl_dir() / "ca2.crl", dir_.path() / "ca2.pem");
}

TEST_F(CrlTest, DeltaWithoutABaseIsRefused) {
  make_issuer(kP256, "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"");
  try {
    publisher().publish("ca", CrlKind::kDelta);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWrongState);
    EXPECT_NE(std::string(e.what()).find("no full CRL yet"), std::string::npos);
  }
  EXPECT_EQ(last_number(), 0u);
}

// Each refusal names the issuer and the file, and uses up no CRL number.
class CrlRefusals : public CrlTest {
 protected:
  void expect_refused(const std::string& needle, ErrorCode code = ErrorCode::kInvalidConfig) {
    const auto before = last_number();
    try {
      publisher().publish("ca", CrlKind::kFull);
      FAIL() << "published";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(last_number(), before);
    EXPECT_FALSE(fs::exists(crl_dir() / "ca.crl"));
  }
};

TEST_F(CrlRefusals, MissingKey) {
  make_issuer(kP256);
  fs::remove(dir_.path() / "ca.key");
  expect_refused("issuer 'ca': cannot read the private key " + (dir_.path() / "ca.key").string());
}

TEST_F(CrlRefusals, KeyReadableByOthers) {
  make_issuer(kP256);
  ::chmod((dir_.path() / "ca.key").c_str(), 0644);
  expect_refused("is readable by group or others (mode 644); run `chmod 600");
}

TEST_F(CrlRefusals, KeyThatIsNotAKey) {
  make_issuer(kP256);
  std::ofstream(dir_.path() / "ca.key") << "not a key\n";
  expect_refused("cannot read the private key " + (dir_.path() / "ca.key").string() + " as PEM");
}

TEST_F(CrlRefusals, KeyThatDoesNotMatchTheCertificate) {
  make_issuer(kP256);
  ASSERT_EQ(testing::run_command(
                fmt::format("cd '{}' && openssl genpkey -algorithm ec -pkeyopt "
                            "ec_paramgen_curve:P-256 -out other.key && chmod 600 other.key && "
                            "mv other.key ca.key",
                            dir_.path().string())),
            0);
  expect_refused("the private key " + (dir_.path() / "ca.key").string() +
                 " does not match the issuer certificate");
}

TEST_F(CrlRefusals, CertificateWithoutCrlSign) {
  make_issuer(kP256, "", "critical,keyCertSign,digitalSignature");
  expect_refused("has a keyUsage without cRLSign");
}

TEST_F(CrlRefusals, PublishDirectoryThatCannotBeWritten) {
  make_issuer(kP256);
  std::ofstream(crl_dir()) << "a file where the directory should be";
  expect_refused("cannot create the publish directory " + crl_dir().string(), ErrorCode::kIo);
  fs::remove(crl_dir());
}

TEST_F(CrlRefusals, IssuerWithoutKey) {
  config_ = config::Configuration::parse(std::string(config::kDefaultConfigToml) +
                                             "\n[[issuer]]\nname = \"ca\"\ncertificate = "
                                             "\"ca.pem\"\n",
                                         "revocore.toml", dir_.path());
  try {
    publisher().publish("ca", CrlKind::kFull);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no private_key"), std::string::npos) << e.what();
  }
}

TEST_F(CrlTest, ExpiredCertificatesLeaveAfterTheGraceUnlessKept) {
  make_issuer(kP256, "expired_grace_days = 2");
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  build.certificate(issuer_, 1, "c", S::kRevoked, ReasonCode::kKeyCompromise);
  const UnixTime not_after = testing::kTestTime + 365 * 86400;  // StoreBuilder's notAfter
  EXPECT_EQ(publisher(not_after + 86400).publish("ca", CrlKind::kFull).entries, 1u);
  EXPECT_EQ(publisher(not_after + 3 * 86400).publish("ca", CrlKind::kFull).entries, 0u);

  load_config("keep_expired = true");
  EXPECT_EQ(publisher(not_after + 30 * 86400).publish("ca", CrlKind::kFull).entries, 1u);
}

TEST_F(CrlTest, ScheduledRegenerationHappensBeforeNextUpdateMinusOverlap) {
  make_issuer(kP256, "crl_validity_hours = 24\ncrl_overlap_hours = 6");
  EXPECT_EQ(publisher(testing::kTestTime).publish_due().size(), 1u);  // no CRL yet: due
  EXPECT_TRUE(publisher(testing::kTestTime + 17 * 3600).publish_due().empty());
  const auto due = publisher(testing::kTestTime + 18 * 3600).publish_due();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].number, 2u);
  EXPECT_TRUE(publisher(testing::kTestTime + 19 * 3600).publish_due().empty());
}

TEST_F(CrlTest, PemCopiesOnRequest) {
  make_issuer(kP256, "crl_pem = true");
  const PublishedCrl crl = publisher().publish("ca", CrlKind::kFull);
  std::string output;
  EXPECT_EQ(testing::run_command(fmt::format("openssl crl -in '{}.pem' -noout -CAfile '{}' -verify",
                                             crl.file.string(), (dir_.path() / "ca.pem").string()),
                                 &output),
            0)
      << output;
}

// Links planted in the publish directory (hardening, docs/RELIABILITY.md "files others may
// write"): under the temporary name, the write-check probe, the lock and the stable name. The
// file they point to is never written, truncated or linked to.
TEST_F(CrlTest, LinksPlantedInThePublishDirectoryAreNeverFollowed) {
  make_issuer(kP256);
  fs::create_directories(crl_dir());
  const fs::path victim = dir_.path() / "victim.txt";
  std::ofstream(victim) << "precious";
  const std::string pid = std::to_string(::getpid());
  for (const std::string& name : {".ca.crl.tmp." + pid, ".ca-1.crl.tmp." + pid,
                                  ".write-check." + pid, std::string(".ca.lock")}) {
    fs::create_symlink(victim, crl_dir() / name);
  }
  fs::create_symlink(victim, crl_dir() / "ca.crl");
  try {
    publisher().publish("ca", CrlKind::kFull);
  } catch (const Error& e) {
    // Refusing the planted lock is fine; following any link is not.
    EXPECT_NE(std::string(e.what()).find(".ca.lock"), std::string::npos) << e.what();
    fs::remove(crl_dir() / ".ca.lock");
    publisher().publish("ca", CrlKind::kFull);
  }
  EXPECT_EQ(read_file(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(crl_dir() / "ca.crl"));
  EXPECT_TRUE(fs::is_regular_file(crl_dir() / "ca.crl"));
  EXPECT_EQ(parse(crl_dir() / "ca.crl").number, 1);
}

TEST_F(CrlRefusals, KeyThatIsAFifoIsRefusedAtOnce) {
  make_issuer(kP256);
  fs::remove(dir_.path() / "ca.key");
  ASSERT_EQ(::mkfifo((dir_.path() / "ca.key").c_str(), 0600), 0);
  // Before the fix this blocked for ever in open(2), waiting for a writer.
  expect_refused("is not a regular file");
}

}  // namespace
}  // namespace revocore::crl
