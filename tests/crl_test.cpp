// CRLs: every key type, checked by parsers nobody here wrote (OpenSSL's d2i_X509_CRL and
// `openssl crl -verify`, GnuTLS `certtool --verify-crl` and `--crl-info`); entries equal to the
// store after lifecycle processes; numbers that only grow; deltas that rebuild the next full CRL;
// refusals that use up no number.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "crl/atomic_file.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "pki/openssl_handles.hpp"
#include "revocation/crl_shard.hpp"
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

namespace revocore::crl {
namespace {

// Partitioned CRLs (RFC 5280 5.2.5): shards bound at registration, each its own CRL.
class CrlShards : public CrlTest {
 protected:
  static constexpr const char* kShardConfig =
      "crl_shards = 4\ndistribution_point = \"http://crl.test/crl/ca/{shard}.crl\"";

  // What the store says shard `shard`'s full CRL must list.
  std::map<std::string, int> expected_in_shard(std::uint16_t shard) {
    std::map<std::string, int> out;
    store_.read().for_each_certificate_of(issuer_, [&](const CertificateStatusView& c) {
      if (c.status != S::kValid && c.crl_shard.value_or(0) == shard) {
        out[Serial::from_der_content(c.serial_octets).hex()] =
            c.reason == ReasonCode::kUnspecified ? -1 : static_cast<int>(c.reason);
      }
    });
    return out;
  }
  std::uint16_t shard_of(std::uint64_t serial) {
    return *store_.read().certificate(testing::key_for(issuer_, serial))->crl_shard;
  }
  fs::path shard_file(std::uint16_t shard, CrlKind kind = CrlKind::kFull) {
    return crl_dir() / (crl_file_stem("ca", shard, kind) + ".crl");
  }
  std::string text_of(const fs::path& crl) {
    std::string output;
    EXPECT_EQ(
        testing::run_command(
            fmt::format("openssl crl -inform DER -in '{}' -noout -text", crl.string()), &output),
        0);
    return output;
  }
};

TEST_F(CrlShards, EachShardIsItsOwnCrlNamingItsOwnUrl) {
  make_issuer(kP256, kShardConfig);
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  std::set<std::uint16_t> used;
  for (std::uint64_t serial = 1; serial <= 64; ++serial) {
    build.certificate(issuer_, serial, "c", serial % 3 == 0 ? S::kRevoked : S::kValid,
                      ReasonCode::kKeyCompromise);
    EXPECT_EQ(shard_of(serial), crl_shard_for(testing::key_for(issuer_, serial).serial, 4));
    used.insert(shard_of(serial));
  }
  EXPECT_EQ(used.size(), 4u);  // 64 serials spread over every shard

  const auto published = publisher().publish_shards("ca", CrlKind::kFull);
  ASSERT_EQ(published.size(), 4u);
  std::size_t listed = 0;
  for (const PublishedCrl& crl : published) {
    SCOPED_TRACE(crl.shard);
    EXPECT_EQ(crl.file, shard_file(crl.shard));
    EXPECT_EQ(crl.url, fmt::format("http://crl.test/crl/ca/{}.crl", crl.shard));
    EXPECT_EQ(parse(crl.file).entries, expected_in_shard(crl.shard));
    EXPECT_EQ(crl.number, 1u);  // each shard numbers its own CRLs (RFC 5280 5.2.3)
    listed += crl.entries;
    // RFC 5280 5.2.5: a critical issuingDistributionPoint naming the shard's own URL.
    const std::string text = text_of(crl.file);
    EXPECT_NE(text.find("X509v3 Issuing Distribution Point: critical"), std::string::npos) << text;
    EXPECT_NE(text.find(fmt::format("URI:http://crl.test/crl/ca/{}.crl", crl.shard)),
              std::string::npos)
        << text;
    expect_third_parties_accept(crl.file, dir_.path() / "ca.pem");
  }
  EXPECT_EQ(listed, 21u);
  // The list an operator hands to a disclosure database.
  const auto list = boost::json::parse(read_file(crl_dir() / "ca-shards.json")).as_object();
  EXPECT_EQ(list.at("crl_shards"), 4);
  ASSERT_EQ(list.at("urls").as_array().size(), 4u);
  EXPECT_EQ(list.at("urls").as_array()[3], "http://crl.test/crl/ca/3.crl");
  EXPECT_EQ(list.at("shards").as_array()[2].at("path"), "/crl/ca/2.crl");
}

TEST_F(CrlShards, ACertificatesShardNeverChangesAcrossRestartsAndNewShardCounts) {
  make_issuer(kP256, kShardConfig);
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  std::map<std::uint64_t, std::uint16_t> bound;
  for (std::uint64_t serial = 1; serial <= 40; ++serial) {
    build.certificate(issuer_, serial, "c");
    bound[serial] = shard_of(serial);
  }
  // More shards: new certificates are bound among 16, the old ones stay where they were.
  load_config("crl_shards = 16\ndistribution_point = \"http://crl.test/crl/ca/{shard}.crl\"");
  store_ = Store::open(dir_.path() / "store");
  for (std::uint64_t serial = 41; serial <= 200; ++serial) {
    build.certificate(issuer_, serial, "c");
  }
  std::set<std::uint16_t> new_shards;
  for (std::uint64_t serial = 41; serial <= 200; ++serial) {
    new_shards.insert(shard_of(serial));
  }
  EXPECT_GT(*new_shards.rbegin(), 3);
  // Fewer shards: every shard that may hold a certificate is still published.
  load_config("crl_shards = 2\ndistribution_point = \"http://crl.test/crl/ca/{shard}.crl\"");
  for (const auto& [serial, shard] : bound) {
    EXPECT_EQ(shard_of(serial), shard) << serial;
  }
  EXPECT_EQ(publisher().published_shards("ca"), 16);
  EXPECT_EQ(publisher().publish_shards("ca", CrlKind::kFull).size(), 16u);
  // New registrations are bound among the 2 configured now.
  WriteTransaction txn = store_.write();
  EXPECT_EQ(importer::register_issuers(txn, *config_).front().crl_shards, 2);
}

TEST_F(CrlShards, OneRevocationRepublishesOnlyItsShard) {
  make_issuer(kP256, kShardConfig);
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  for (std::uint64_t serial = 1; serial <= 32; ++serial) {
    build.certificate(issuer_, serial, "c");
  }
  publisher().publish_shards("ca", CrlKind::kFull);
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 7), S::kRevoked,
                                 ReasonCode::kKeyCompromise, testing::kTestTime, "t", "op", 0});
    txn.commit();
  }
  const auto published = publisher().publish_after({issuer_});
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].shard, shard_of(7));
  EXPECT_EQ(published[0].number, 2u);
  EXPECT_EQ(parse(shard_file(shard_of(7))).entries, (std::map<std::string, int>{{"07", 1}}));
  for (std::uint16_t shard = 0; shard < 4; ++shard) {
    if (shard != shard_of(7)) {
      EXPECT_EQ(parse(shard_file(shard)).number, 1) << shard;  // untouched
    }
  }
  EXPECT_TRUE(publisher().publish_after({issuer_}).empty());  // nothing changed since
}

// After random sequences of status changes, each shard's newest full CRL with its newest delta
// lists exactly what the store says, and the delta's base is that full CRL (RFC 5280 5.2.4).
TEST_F(CrlShards, NewestFullAndDeltaCombineInEveryShardAfterRandomChanges) {
  make_issuer(kP256, std::string(kShardConfig) +
                         "\ndelta_crls = true\n"
                         "delta_distribution_point = \"http://crl.test/crl/ca/{shard}-delta.crl\"\n"
                         "full_crl_interval_hours = 1");
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  for (std::uint64_t serial = 1; serial <= 48; ++serial) {
    build.certificate(issuer_, serial, "c");
  }
  UnixTime now = testing::kTestTime;
  publisher(now).publish_full("ca");
  std::mt19937 random(20261201);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(round);
    now += 600;  // every sixth round reaches full_crl_interval_hours: new full CRLs
    {
      WriteTransaction txn = store_.write();
      for (int change = 0; change < 3; ++change) {
        const auto key = testing::key_for(issuer_, 1 + random() % 48);
        const S now_status = txn.certificate(key)->status;
        if (now_status == S::kRevoked) {
          continue;  // final
        }
        const S next = now_status == S::kOnHold ? (random() % 2 ? S::kValid : S::kRevoked)
                                                : (random() % 2 ? S::kOnHold : S::kRevoked);
        set_certificate_status(txn, {key, next, ReasonCode::kSuperseded, now, "t", "op", 0});
      }
      txn.commit();
    }
    publisher(now).publish_after({issuer_});
    for (std::uint16_t shard = 0; shard < 4; ++shard) {
      const ParsedCrl full = parse(shard_file(shard));
      const ParsedCrl delta = parse(shard_file(shard, CrlKind::kDelta));
      ASSERT_EQ(delta.delta_base, full.number) << shard;
      ASSERT_GT(delta.number, full.number) << shard;
      ASSERT_EQ(applied(full, delta), expected_in_shard(shard)) << shard;
    }
  }
}

// The same through random lifecycle processes, and literally: every few rounds the next full CRL
// of each shard is published and equals what its previous full CRL and delta said together.
TEST_F(CrlShards, DeltaPlusBaseEqualsTheNextFullCrlAfterRandomProcesses) {
  make_issuer(kP256, std::string(kShardConfig) +
                         "\ndelta_crls = true\n"
                         "delta_distribution_point = \"http://crl.test/crl/ca/{shard}-delta.crl\"");
  testing::StoreBuilder build(store_);
  std::uint64_t serial = 1;
  std::vector<std::string> users, cards;
  for (int u = 0; u < 6; ++u) {
    const std::string user = fmt::format("u{}", u);
    users.push_back(user);
    build.user(user);
    for (const CredentialType type : {CredentialType::kCard, CredentialType::kMobileId}) {
      const std::string id = fmt::format("{}-{}", to_string(type), user);
      build.credential(id, type, user);
      if (type == CredentialType::kCard) {
        cards.push_back(id);
      }
      for (int i = 0; i < 3; ++i) {
        build.certificate(issuer_, serial++, id);
      }
    }
  }
  lifecycle::LifecycleProcesses processes(store_, *config_, testing::fixed_clock());
  CrlPublisher crls = publisher();
  crls.publish_full("ca");
  struct Choice {
    std::string_view process;
    const std::vector<std::string>* targets;
    const char* reason;
  };
  const Choice choices[] = {
      {config::kUsersProcDeactivate, &users, "Parental leave"},
      {config::kUsersProcReactivate, &users, "Returned from leave"},
      {config::kCardsProcDeactivate, &cards, "Card not in use"},
      {config::kCardsProcReactivate, &cards, "Card found"},
      {config::kUsersProcDeactivate, &users, "Parental leave"},
      {config::kUsersProcReactivate, &users, "Returned from leave"},
      {config::kUsersProcLock, &users, "Key compromise"},
  };
  std::mt19937 random(1337);
  int applied_processes = 0;
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE(round);
    // A lock is final: one round in twenty at most, so that most users live long.
    const Choice& choice =
        choices[random() % (round % 20 == 19 ? std::size(choices) : std::size(choices) - 1)];
    const std::string& target = (*choice.targets)[random() % choice.targets->size()];
    try {
      const auto outcome = processes.run(lifecycle::ProcessRequest{
          std::string(choice.process), target, choice.reason, "alice", std::nullopt});
      crls.publish_after(outcome.batch.issuers_changed);
      ++applied_processes;
    } catch (const Error&) {
      continue;  // not in the state this process needs: nothing changed
    }
    std::map<std::uint16_t, std::map<std::string, int>> combined;
    for (std::uint16_t shard = 0; shard < 4; ++shard) {
      const ParsedCrl full = parse(shard_file(shard));
      const ParsedCrl delta = parse(shard_file(shard, CrlKind::kDelta));
      ASSERT_EQ(delta.delta_base, full.number) << shard;
      combined[shard] = applied(full, delta);
      ASSERT_EQ(combined[shard], expected_in_shard(shard)) << shard;
    }
    if (round % 5 == 0) {
      crls.publish_full("ca");
      for (std::uint16_t shard = 0; shard < 4; ++shard) {
        ASSERT_EQ(parse(shard_file(shard)).entries, combined[shard]) << shard;
      }
    }
  }
  EXPECT_GT(applied_processes, 40);
}

TEST_F(CrlShards, FullCrlOnChangePublishesFullCrlsAndAnEmptyDeltaOverEach) {
  make_issuer(kP256, std::string(kShardConfig) +
                         "\ndelta_crls = true\n"
                         "delta_distribution_point = \"http://crl.test/crl/ca/{shard}-delta.crl\"\n"
                         "full_crl_on_change = true");
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  for (std::uint64_t serial = 1; serial <= 16; ++serial) {
    build.certificate(issuer_, serial, "c");
  }
  publisher().publish_full("ca");
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 3), S::kOnHold,
                                 ReasonCode::kCertificateHold, testing::kTestTime, "t", "op", 0});
    txn.commit();
  }
  const auto published = publisher().publish_after({issuer_});
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].kind, CrlKind::kFull);
  EXPECT_EQ(published[1].kind, CrlKind::kDelta);
  EXPECT_EQ(published[1].delta_base, published[0].number);
  EXPECT_EQ(published[1].entries, 0u);
  EXPECT_EQ(parse(published[0].file).entries, expected_in_shard(shard_of(3)));
  const std::string text = text_of(published[0].file);
  EXPECT_NE(text.find(fmt::format("URI:http://crl.test/crl/ca/{}-delta.crl", shard_of(3))),
            std::string::npos)
      << text;  // freshestCRL names the shard's delta
}

TEST_F(CrlShards, FullCrlsComeOnTheirIntervalAndDeltasBeforeTheyExpire) {
  make_issuer(kP256,
              "delta_crls = true\ndelta_distribution_point = \"http://x/delta.crl\"\n"
              "full_crl_interval_hours = 4\ndelta_validity_hours = 1");
  const UnixTime start = testing::kTestTime;
  EXPECT_EQ(publisher(start).publish_due().size(), 2u);  // nothing yet: a full CRL and a delta
  EXPECT_TRUE(publisher(start + 1800).publish_due().empty());
  const auto delta_due = publisher(start + 2700).publish_due();  // 15 of the 60 minutes left
  ASSERT_EQ(delta_due.size(), 1u);
  EXPECT_EQ(delta_due[0].kind, CrlKind::kDelta);
  const auto full_due = publisher(start + 4 * 3600).publish_due();
  ASSERT_EQ(full_due.size(), 2u);
  EXPECT_EQ(full_due[0].kind, CrlKind::kFull);
  EXPECT_EQ(full_due[1].delta_base, full_due[0].number);
}

TEST_F(CrlShards, ShardingAnIssuerWithCertificatesThatHaveNoShardIsRefusedWithTheLine) {
  make_issuer(kP256);
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  build.certificate(issuer_, 1, "c", S::kValid, ReasonCode::kUnspecified, /*bind_shard=*/false);
  {
    // The issuer as a store written before shards existed has it: a version 1 record, which
    // does not know how many of its certificates carry no shard.
    WriteTransaction txn = store_.write();
    IssuerRecord old = *txn.issuer(issuer_);
    old.crl_shards = 0;
    old.unsharded_certificates.reset();
    txn.put_issuer(old);
    txn.commit();
  }
  try {
    load_config(kShardConfig);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    // The [[issuer]] begins on line 2 of what load_config appends; crl_shards is its 6th key.
    EXPECT_NE(std::string(e.what()).find("revocore.toml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 of its certificates were registered before CRL "
                                         "shards existed"),
              std::string::npos)
        << e.what();
  }
  // The publisher refuses the same configuration, and takes no CRL number.
  config_ = config::Configuration::parse(
      std::string(config::kDefaultConfigToml) +
          fmt::format("\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\n"
                      "private_key = \"ca.key\"\npublish_directory = \"crl\"\n{}\n",
                      kShardConfig),
      "revocore.toml", dir_.path());
  EXPECT_THROW(publisher().publish_shards("ca", CrlKind::kFull), Error);
  EXPECT_EQ(last_number(), 0u);
}

TEST(CrlShardConfiguration, BadShardCountsAndUrlsAreRefusedWithTheLine) {
  const auto refused = [](const std::string& issuer_lines, const std::string& needle) {
    try {
      config::Configuration::parse(
          std::string(config::kDefaultConfigToml) +
              "\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\nprivate_key = \"ca.key\"\n" +
              issuer_lines + "\n",
          "revocore.toml", "/tmp");
      ADD_FAILURE() << "accepted: " << issuer_lines;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("revocore.toml:"), std::string::npos) << e.what();
    }
  };
  refused("crl_shards = 0", "crl_shards of issuer 'ca' must be 1 to 1024");
  refused("crl_shards = 1025", "crl_shards of issuer 'ca' must be 1 to 1024");
  refused("crl_shards = 4\ndistribution_point = \"http://x/ca.crl\"", "with {shard} in it");
  refused("crl_shards = 4", "with {shard} in it");
  refused(
      "crl_shards = 4\ndistribution_point = \"http://x/{shard}.crl\"\ndelta_crls = true\n"
      "delta_distribution_point = \"http://x/delta.crl\"",
      "delta_distribution_point needs {shard}");
  refused("full_crl_on_change = true", "set delta_crls = true");
}

// The CertificateList's header is written before its signature exists; when an ECDSA signature's
// size changes the header's, the TBSCertList is moved. Sizes around the one- to two-octet and
// two- to three-octet length boundaries, each CRL read back by OpenSSL.
TEST_F(CrlTest, CrlsOfEverySizeAroundTheLengthBoundariesAreWellFormed) {
  make_issuer(kP256);
  testing::StoreBuilder build(store_);
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  std::uint64_t serial = 1;
  for (std::size_t entries : {0, 1, 2, 3, 4, 5, 6}) {
    while (serial <= entries) {
      build.certificate(issuer_, serial++, "c", S::kRevoked, ReasonCode::kKeyCompromise);
    }
    for (int again = 0; again < 6; ++again) {  // ECDSA: a new signature size each time
      EXPECT_EQ(parse(publisher().publish("ca", CrlKind::kFull).file).entries.size(), entries);
    }
  }
}

TEST(AtomicFileTest, MovesRangesUpAndDownAndLeavesNothingWhenNotPublished) {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 3 * 1024 * 1024; ++i) {
    content.push_back(static_cast<char>('a' + i % 26));
  }
  {
    AtomicFile file(dir.path(), "f");
    file.write_at(3, content);
    file.move_range(3, content.size(), 1);  // down, overlapping
    file.truncate(1 + content.size());
    file.write_at(0, "<");
    file.move_range(1, content.size(), 7);  // up, overlapping, across 1 MiB pieces
    file.write_at(0, "012345>");
    file.publish({"g"});
  }
  const std::string written = read_file(dir.path() / "f");
  EXPECT_EQ(written.substr(0, 7), "012345>");
  EXPECT_TRUE(written.substr(7) == content);
  EXPECT_EQ(read_file(dir.path() / "g"), written);  // the same file under a second name
  {
    AtomicFile abandoned(dir.path(), "h");
    abandoned.write("never published");
  }
  EXPECT_FALSE(fs::exists(dir.path() / "h"));
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace revocore::crl

namespace revocore::crl {
namespace {

// The independent check of "newest full + newest delta": `openssl verify -crl_check
// -extended_crl -use_deltas` with both CRLs of a certificate's shard. OpenSSL applies a delta only
// when its base is not newer than the full CRL, it is newer than the full CRL, and both have the
// same issuingDistributionPoint (crypto/x509/x509_vfy.c check_delta_base); the certificate's CRL
// distribution point must be its shard's (RFC 5280 6.3.3 (b)(2)).
TEST_F(CrlShards, OpensslVerifiesRealCertificatesWithTheirShardsFullAndDeltaCrls) {
  make_issuer(kP256,
              "crl_shards = 2\n"
              "distribution_point = \"http://crl.test/crl/ca/{shard}.crl\"\n"
              "delta_crls = true\n"
              "delta_distribution_point = \"http://crl.test/crl/ca/{shard}-delta.crl\"");
  const fs::path dir = dir_.path();
  ASSERT_EQ(testing::run_command(fmt::format(
                "cd '{}' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                "-subj /CN=leaf -keyout leaf.key -out leaf.csr 2>/dev/null",
                dir.string())),
            0);
  // Issuance embeds the CRL distribution point of the shard the serial will be bound to.
  const std::vector<std::uint64_t> serials = {0x101, 0x102, 0x103, 0x104, 0x105, 0x106};
  for (const std::uint64_t serial : serials) {
    const std::uint16_t shard = crl_shard_for(testing::key_for(issuer_, serial).serial, 2);
    std::ofstream(dir / "ext.cnf")
        << fmt::format("crlDistributionPoints=URI:http://crl.test/crl/ca/{}.crl\n", shard);
    ASSERT_EQ(testing::run_command(fmt::format(
                  "cd '{}' && openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial "
                  "{} -days 10 -extfile ext.cnf -out leaf-{:x}.pem 2>/dev/null",
                  dir.string(), serial, serial)),
              0);
    importer::CertificateRegistration registration;
    registration.certificates = read_file(dir / fmt::format("leaf-{:x}.pem", serial));
    registration.credential_id = fmt::format("card-{:x}", serial);
    registration.user_id = "u";
    registration.user_name = "U";
    registration.operator_name = "ca";
    importer::register_certificates(store_, *config_, registration, system_clock());
    EXPECT_EQ(shard_of(serial), shard);
  }
  const auto set = [&](std::uint64_t serial, S status) {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, serial), status,
                                 ReasonCode::kKeyCompromise, system_clock()() - 60, "t", "op", 0});
    txn.commit();
  };
  set(0x101, S::kRevoked);  // on the full CRL
  set(0x102, S::kOnHold);   // on the full CRL, released later: removeFromCRL in the delta
  publisher().publish_full("ca");
  // The delta a second newer than the full CRL: without -extended_crl, OpenSSL would take the
  // newer delta for the complete CRL (x509_vfy.c get_crl_score rejects deltas as the base only
  // with extended CRL support), and pass 0x101.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  set(0x102, S::kValid);
  set(0x103, S::kRevoked);  // only in the delta
  set(0x104, S::kOnHold);   // only in the delta
  publisher().publish_after({issuer_});

  const std::map<std::uint64_t, bool> revoked = {{0x101, true}, {0x102, false}, {0x103, true},
                                                 {0x104, true}, {0x105, false}, {0x106, false}};
  for (const auto& [serial, expect_revoked] : revoked) {
    SCOPED_TRACE(fmt::format("serial {:x}", serial));
    const std::uint16_t shard = shard_of(serial);
    for (const CrlKind kind : {CrlKind::kFull, CrlKind::kDelta}) {
      ASSERT_EQ(testing::run_command(fmt::format("openssl crl -inform DER -in '{}' -out '{}.pem'",
                                                 shard_file(shard, kind).string(),
                                                 shard_file(shard, kind).string())),
                0);
    }
    std::string output;
    const int status = testing::run_command(
        fmt::format(
            "openssl verify -crl_check -extended_crl -use_deltas -CAfile '{}' -CRLfile '{}.pem' "
            "-CRLfile '{}.pem' '{}' 2>&1",
            (dir / "ca.pem").string(), shard_file(shard).string(),
            shard_file(shard, CrlKind::kDelta).string(),
            (dir / fmt::format("leaf-{:x}.pem", serial)).string()),
        &output);
    if (expect_revoked) {
      EXPECT_NE(status, 0) << output;
      EXPECT_NE(output.find("certificate revoked"), std::string::npos) << output;
    } else {
      EXPECT_EQ(status, 0) << output;
      EXPECT_NE(output.find(": OK"), std::string::npos) << output;
    }
  }
}

}  // namespace
}  // namespace revocore::crl
