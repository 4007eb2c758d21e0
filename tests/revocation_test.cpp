// The core: records, the store, the certificate and credential state machines, batch orders.
#include <gtest/gtest.h>

#include <fstream>

#include "revocation/batch_order.hpp"
#include "revocation/codec.hpp"
#include "revocation/error.hpp"
#include "revocation/status_transition.hpp"
#include "revocation/store.hpp"
#include "revocation/store_faults.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

using testing::StoreBuilder;
using testing::TempDir;

// Runs `fn` and returns the revocore::Error it throws; fails the test when it throws nothing.
template <typename Fn>
Error error_from(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a revocore::Error";
  return Error(ErrorCode::kStoreIo, "no error");
}

TEST(Serial, FromHexMatchesDerContentOctets) {
  EXPECT_EQ(Serial::from_hex("01").octets(), std::string("\x01", 1));
  // A positive number with the top bit set gets a sign octet, as DER requires.
  EXPECT_EQ(Serial::from_hex("80").octets(), std::string("\x00\x80", 2));
  EXPECT_EQ(Serial::from_hex("0x00ff").octets(), std::string("\x00\xff", 2));
  EXPECT_EQ(Serial::from_hex("1a:2b:3c").hex(), "1A2B3C");
  EXPECT_EQ(Serial::from_hex("80").hex(), "80");
  EXPECT_EQ(Serial::from_hex("0").octets(), std::string("\x00", 1));
}

TEST(Serial, RefusesWhatIsNotASerial) {
  EXPECT_EQ(error_from([] { Serial::from_hex("12G4"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_from([] { Serial::from_hex(std::string(44, 'A')); }).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_from([] { Serial::from_der_content(""); }).code(), ErrorCode::kInvalidArgument);
}

TEST(Records, RoundTripEveryRecordType) {
  CertificateRecord certificate;
  certificate.not_after = 1'900'000'000;
  certificate.status = CertificateStatus::kRevoked;
  certificate.reason = ReasonCode::kKeyCompromise;
  certificate.revocation_time = 1'800'000'000;
  certificate.invalidity_date = 1'799'000'000;
  certificate.status_sequence = 42;
  certificate.credential_id = "card-1";
  certificate.subject = "CN=Alice";
  const auto decoded = CertificateRecord::decode(certificate.encode());
  EXPECT_EQ(decoded.not_after, certificate.not_after);
  EXPECT_EQ(decoded.status, certificate.status);
  EXPECT_EQ(decoded.reason, certificate.reason);
  EXPECT_EQ(decoded.revocation_time, certificate.revocation_time);
  EXPECT_EQ(decoded.invalidity_date, certificate.invalidity_date);
  EXPECT_EQ(decoded.status_sequence, 42u);
  EXPECT_EQ(decoded.credential_id, "card-1");
  EXPECT_EQ(decoded.subject, "CN=Alice");

  const User user{"1042", "Alice", LifecycleState::kInactive, {"employee", "admin"}};
  const User user_back = decode_user("1042", encode_user(user));
  EXPECT_EQ(user_back.state, LifecycleState::kInactive);
  EXPECT_EQ(user_back.roles, user.roles);
  EXPECT_EQ(user_back.name, "Alice");

  Credential credential{"vsc-9", CredentialType::kVirtualSmartCard, LifecycleState::kLocked, "1042",
                        LifecycleState::kInactive};
  const Credential credential_back = decode_credential("vsc-9", encode_credential(credential));
  EXPECT_EQ(credential_back.type, CredentialType::kVirtualSmartCard);
  EXPECT_EQ(credential_back.state, LifecycleState::kLocked);
  EXPECT_EQ(credential_back.relation_state, LifecycleState::kInactive);
  EXPECT_EQ(credential_back.user_id, "1042");

  AuditRecord audit;
  audit.kind = AuditKind::kProcessApplied;
  audit.process = "UsersProcLock";
  audit.user_old_state = LifecycleState::kActive;
  audit.user_new_state = LifecycleState::kLocked;
  audit.roles_before = {"employee"};
  audit.credential_changes.push_back(
      {"card-1", CredentialType::kCard, LifecycleState::kActive, LifecycleState::kLocked, 2});
  audit.first_journal_sequence = 5;
  audit.last_journal_sequence = 6;
  const auto audit_back = AuditRecord::decode(7, audit.encode());
  EXPECT_EQ(audit_back.id, 7u);
  EXPECT_EQ(audit_back.user_new_state, LifecycleState::kLocked);
  ASSERT_EQ(audit_back.credential_changes.size(), 1u);
  EXPECT_EQ(audit_back.credential_changes[0].certificates_changed, 2u);
  EXPECT_EQ(audit_back.last_journal_sequence, 6u);
  EXPECT_TRUE(audit_back.self_service_certificate.empty());
  // A self-service record names the card holder's certificate; one written before self-service
  // (the encoding above, ending with the note) decodes with none.
  audit.note = "a note";
  const std::string before_self_service = audit.encode();
  audit.self_service_certificate = "demo-issuing-ca/0A1B";
  const std::string self_service = audit.encode();
  EXPECT_EQ(self_service.substr(0, before_self_service.size()), before_self_service);
  EXPECT_EQ(AuditRecord::decode(8, self_service).self_service_certificate, "demo-issuing-ca/0A1B");
  EXPECT_EQ(AuditRecord::decode(8, self_service).note, "a note");
  EXPECT_EQ(AuditRecord::decode(8, before_self_service).note, "a note");

  // An approval request keeps the requester's roles; one stored before they were recorded (its
  // encoding ends after the invalidity date) decodes with none.
  ApprovalRequest approval;
  approval.process = "CardsProcLock";
  approval.target_id = "card-1";
  approval.requested_by = "CN=a";
  approval.requested_roles = {"help-desk", "officer"};
  const std::string encoded = approval.encode();
  EXPECT_EQ(ApprovalRequest::decode(3, encoded).requested_roles, approval.requested_roles);
  approval.requested_roles.clear();
  const std::string without = approval.encode();
  EXPECT_TRUE(
      ApprovalRequest::decode(3, without.substr(0, without.size() - 2)).requested_roles.empty());
}

TEST(Records, RefuseAnUnknownRecordVersion) {
  std::string encoded = encode_user(User{"1", "", LifecycleState::kActive, {}});
  encoded[0] = 9;
  const Error e = error_from([&] { decode_user("1", encoded); });
  EXPECT_EQ(e.code(), ErrorCode::kStoreCorrupt);
  EXPECT_NE(std::string(e.what()).find("record version 9"), std::string::npos) << e.what();
  EXPECT_EQ(error_from([] { decode_user("1", "\x01"); }).code(), ErrorCode::kStoreCorrupt);
}

TEST(StateMachine, CertificateTransitionsFollowRfc5280) {
  using S = CertificateStatus;
  EXPECT_TRUE(is_legal_transition(S::kValid, S::kOnHold));
  EXPECT_TRUE(is_legal_transition(S::kValid, S::kRevoked));
  EXPECT_TRUE(is_legal_transition(S::kOnHold, S::kValid));
  EXPECT_TRUE(is_legal_transition(S::kOnHold, S::kRevoked));
  EXPECT_FALSE(is_legal_transition(S::kRevoked, S::kValid));
  EXPECT_FALSE(is_legal_transition(S::kRevoked, S::kOnHold));
  EXPECT_FALSE(is_legal_transition(S::kRevoked, S::kRevoked));
  EXPECT_FALSE(is_legal_transition(S::kValid, S::kValid));
  EXPECT_FALSE(is_legal_transition(S::kOnHold, S::kOnHold));
}

TEST(StateMachine, CredentialLockIsFinal) {
  using L = LifecycleState;
  EXPECT_TRUE(is_legal_transition(L::kActive, L::kInactive));
  EXPECT_TRUE(is_legal_transition(L::kInactive, L::kActive));
  EXPECT_TRUE(is_legal_transition(L::kActive, L::kLocked));
  EXPECT_TRUE(is_legal_transition(L::kInactive, L::kLocked));
  EXPECT_FALSE(is_legal_transition(L::kLocked, L::kActive));
  EXPECT_FALSE(is_legal_transition(L::kLocked, L::kInactive));
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(Store::create(dir_.path() / "store"));
    StoreBuilder build(*store_);
    issuer_ = build.issuer();
    build.user("u1");
    build.credential("card-1", CredentialType::kCard, "u1");
    build.credential("mobile-1", CredentialType::kMobileId, "u1");
    build.certificate(issuer_, 0x1001, "card-1");
    build.certificate(issuer_, 0x1002, "card-1");
    build.certificate(issuer_, 0x2001, "mobile-1");
  }

  CertificateRecord certificate(std::uint64_t serial) {
    return *store_->read().certificate(testing::key_for(issuer_, serial));
  }

  TempDir dir_;
  std::optional<Store> store_;
  IssuerId issuer_ = 0;
};

TEST_F(StoreTest, SingleCertificateTransitionsAreJournalled) {
  {
    WriteTransaction txn = store_->write();
    const auto key = testing::key_for(issuer_, 0x1001);
    set_certificate_status(txn, {key, CertificateStatus::kOnHold, ReasonCode::kKeyCompromise, 100,
                                 "test", "alice", 0});
    set_certificate_status(
        txn, {key, CertificateStatus::kValid, ReasonCode::kUnspecified, 200, "test", "alice", 0});
    set_certificate_status(
        txn, {key, CertificateStatus::kRevoked, ReasonCode::kKeyCompromise, 300, "test", "bob", 0});
    txn.commit();
  }
  const auto record = certificate(0x1001);
  EXPECT_EQ(record.status, CertificateStatus::kRevoked);
  EXPECT_EQ(record.reason, ReasonCode::kKeyCompromise);
  EXPECT_EQ(record.revocation_time, 300);
  EXPECT_EQ(record.status_sequence, 3u);

  const auto journal = store_->read().journal(1, 100);
  ASSERT_EQ(journal.size(), 3u);
  // A hold is always certificateHold (RFC 5280 5.3.1), whatever the caller passed.
  EXPECT_EQ(journal[0].new_status, CertificateStatus::kOnHold);
  EXPECT_EQ(journal[0].reason, ReasonCode::kCertificateHold);
  EXPECT_EQ(journal[1].old_status, CertificateStatus::kOnHold);
  EXPECT_EQ(journal[1].reason, ReasonCode::kRemoveFromCrl);
  EXPECT_EQ(journal[2].operator_name, "bob");
  EXPECT_EQ(journal[2].certificate.serial.hex(), "1001");
}

TEST_F(StoreTest, RevokedIsFinalAndTheRefusalChangesNothing) {
  const auto key = testing::key_for(issuer_, 0x1001);
  {
    WriteTransaction txn = store_->write();
    set_certificate_status(
        txn, {key, CertificateStatus::kRevoked, ReasonCode::kSuperseded, 100, "test", "alice", 0});
    txn.commit();
  }
  for (const auto target :
       {CertificateStatus::kValid, CertificateStatus::kOnHold, CertificateStatus::kRevoked}) {
    WriteTransaction txn = store_->write();
    const Error e = error_from([&] {
      set_certificate_status(txn, {key, target, ReasonCode::kUnspecified, 200, "test", "x", 0});
    });
    EXPECT_EQ(e.code(), ErrorCode::kIllegalTransition) << e.what();
  }
  EXPECT_EQ(certificate(0x1001).status, CertificateStatus::kRevoked);
  EXPECT_EQ(store_->read().count_journal_entries(), 1u);
}

TEST_F(StoreTest, UnknownCertificateIsNotFound) {
  WriteTransaction txn = store_->write();
  const Error e = error_from([&] {
    set_certificate_status(txn, {testing::key_for(issuer_, 0xDEAD), CertificateStatus::kRevoked,
                                 ReasonCode::kUnspecified, 1, "test", "x", 0});
  });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
}

TEST_F(StoreTest, DuplicateSerialIsRefused) {
  StoreBuilder build(*store_);
  const Error e = error_from([&] { build.certificate(issuer_, 0x1001, "mobile-1"); });
  EXPECT_EQ(e.code(), ErrorCode::kDuplicate);
  EXPECT_NE(std::string(e.what()).find("1001"), std::string::npos) << e.what();
  EXPECT_EQ(store_->read().count_certificates(), 3u);
  // The same serial under another issuer is another certificate.
  const IssuerId other = build.issuer("other-ca");
  build.certificate(other, 0x1001, "mobile-1");
  EXPECT_EQ(store_->read().count_certificates(), 4u);
}

TEST_F(StoreTest, BatchOrderAppliesCredentialsAndCertificatesTogether) {
  BatchOrder order;
  order.process = "UsersProcLock";
  order.operator_name = "alice";
  order.time = 500;
  order.audit_id = 9;
  order.changes.push_back({"card-1", LifecycleState::kLocked, CertificateTarget::kRevoked,
                           ReasonCode::kAffiliationChanged, std::nullopt});
  order.changes.push_back({"mobile-1", LifecycleState::kInactive, CertificateTarget::kOnHold,
                           ReasonCode::kAffiliationChanged, LifecycleState::kInactive});
  const BatchResult result = apply_batch_order(*store_, order);

  EXPECT_EQ(result.revoked, 2u);
  EXPECT_EQ(result.held, 1u);
  EXPECT_EQ(result.certificates_changed, 3u);
  EXPECT_EQ(result.first_journal_sequence, 1u);
  EXPECT_EQ(result.last_journal_sequence, 3u);
  ASSERT_EQ(result.credentials.size(), 2u);
  EXPECT_EQ(result.credentials[0].old_state, LifecycleState::kActive);
  EXPECT_EQ(result.credentials[0].certificates_changed, 2u);

  const StoreTransaction txn = store_->read();
  EXPECT_EQ(txn.credential("card-1")->state, LifecycleState::kLocked);
  EXPECT_EQ(txn.credential("card-1")->relation_state, LifecycleState::kActive);
  EXPECT_EQ(txn.credential("mobile-1")->state, LifecycleState::kInactive);
  EXPECT_EQ(txn.credential("mobile-1")->relation_state, LifecycleState::kInactive);
  EXPECT_EQ(certificate(0x1001).reason, ReasonCode::kAffiliationChanged);
  EXPECT_EQ(certificate(0x2001).status, CertificateStatus::kOnHold);
  EXPECT_EQ(certificate(0x2001).reason, ReasonCode::kCertificateHold);
  for (const auto& entry : txn.journal(1, 3)) {
    EXPECT_EQ(entry.process, "UsersProcLock");
    EXPECT_EQ(entry.operator_name, "alice");
    EXPECT_EQ(entry.audit_id, 9u);
    EXPECT_EQ(entry.time, 500);
  }
}

TEST_F(StoreTest, BatchOrderLeavesRevokedCertificatesAndReportsThem) {
  StoreBuilder(*store_).certificate(issuer_, 0x1003, "card-1", CertificateStatus::kRevoked,
                                    ReasonCode::kKeyCompromise);
  BatchOrder order;
  order.process = "UsersProcDeactivate";
  order.operator_name = "alice";
  order.changes.push_back({"card-1", LifecycleState::kInactive, CertificateTarget::kOnHold,
                           ReasonCode::kCertificateHold, std::nullopt});
  const BatchResult result = apply_batch_order(*store_, order);
  EXPECT_EQ(result.held, 2u);
  EXPECT_EQ(result.certificates_unchanged, 1u);
  EXPECT_EQ(certificate(0x1003).status, CertificateStatus::kRevoked);
  EXPECT_EQ(certificate(0x1003).reason, ReasonCode::kKeyCompromise);
}

TEST_F(StoreTest, BatchOrderFailingHalfWayLeavesNoPartialChange) {
  BatchOrder order;
  order.process = "UsersProcLock";
  order.operator_name = "alice";
  order.changes.push_back({"card-1", LifecycleState::kLocked, CertificateTarget::kRevoked,
                           ReasonCode::kKeyCompromise, std::nullopt});
  order.changes.push_back({"no-such-credential", LifecycleState::kLocked,
                           CertificateTarget::kRevoked, ReasonCode::kKeyCompromise, std::nullopt});
  order.changes.push_back({"mobile-1", LifecycleState::kLocked, CertificateTarget::kRevoked,
                           ReasonCode::kKeyCompromise, std::nullopt});
  const Error e = error_from([&] { apply_batch_order(*store_, order); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_NE(std::string(e.what()).find("entry 2"), std::string::npos) << e.what();

  const StoreTransaction txn = store_->read();
  EXPECT_EQ(txn.credential("card-1")->state, LifecycleState::kActive);
  EXPECT_EQ(certificate(0x1001).status, CertificateStatus::kValid);
  EXPECT_EQ(txn.count_journal_entries(), 0u);
}

TEST_F(StoreTest, BatchOrderRefusesToUnlockACredential) {
  StoreBuilder(*store_).credential("card-2", CredentialType::kCard, "u1", LifecycleState::kLocked);
  BatchOrder order;
  order.changes.push_back({"card-1", LifecycleState::kInactive, CertificateTarget::kOnHold,
                           ReasonCode::kCertificateHold, std::nullopt});
  order.changes.push_back({"card-2", LifecycleState::kActive, CertificateTarget::kValid,
                           ReasonCode::kRemoveFromCrl, std::nullopt});
  const Error e = error_from([&] { apply_batch_order(*store_, order); });
  EXPECT_EQ(e.code(), ErrorCode::kIllegalTransition);
  EXPECT_EQ(store_->read().credential("card-1")->state, LifecycleState::kActive);
  EXPECT_EQ(store_->read().count_journal_entries(), 0u);
}

TEST_F(StoreTest, ReopeningKeepsEverything) {
  BatchOrder order;
  order.process = "CardsProcLock";
  order.operator_name = "alice";
  order.changes.push_back({"card-1", LifecycleState::kLocked, CertificateTarget::kRevoked,
                           ReasonCode::kKeyCompromise, std::nullopt});
  apply_batch_order(*store_, order);
  store_.reset();

  Store reopened = Store::open(dir_.path() / "store");
  const StoreTransaction txn = reopened.read();
  EXPECT_EQ(txn.user("u1")->roles, (std::vector<std::string>{"employee", "approver"}));
  EXPECT_EQ(txn.credentials_of_user("u1").size(), 2u);
  EXPECT_EQ(txn.credential("card-1")->state, LifecycleState::kLocked);
  EXPECT_EQ(txn.certificate(testing::key_for(issuer_, 0x1002))->status,
            CertificateStatus::kRevoked);
  EXPECT_EQ(txn.last_journal_sequence(), 2u);
  EXPECT_EQ(txn.issuer_by_name("test-ca")->id, issuer_);
  EXPECT_EQ(txn.count_certificates(), 3u);
}

// LMDB frees a write transaction's cursors at commit; the wrapper must not free them again
// (found by AddressSanitizer in BatchJobs::create). A read transaction's cursor is still closed.
TEST(LmdbHandles, CursorsMayOutliveTheirTransactionsEnd) {
  TempDir dir;
  lmdb::Environment env(dir.path(), 1 << 20, 4);
  MDB_dbi dbi = 0;
  {
    lmdb::Transaction txn(env, lmdb::Transaction::Mode::kWrite);
    dbi = txn.open_database("users", MDB_CREATE);
    lmdb::Cursor cursor(txn, dbi);
    txn.put(dbi, "u", "value");
    txn.commit();
  }
  {
    lmdb::Transaction txn(env, lmdb::Transaction::Mode::kRead);
    lmdb::Cursor cursor(txn, dbi);
    txn.abort();
  }
  lmdb::Transaction txn(env, lmdb::Transaction::Mode::kRead);
  std::string_view value;
  EXPECT_TRUE(txn.get(dbi, "u", value));
  EXPECT_EQ(value, "value");
}

// A reader given `const Store&` can only open read transactions, and those cannot write.
template <typename S>
concept OpensWrites = requires(S& store) {
  store.write();
};
template <typename T>
concept Writes = requires(T& txn, const User& user) {
  txn.put_user(user);
};
static_assert(!OpensWrites<const Store> && OpensWrites<Store>);
static_assert(!Writes<StoreTransaction> && Writes<WriteTransaction>);

TEST(StoreOpen, RefusesAMissingStore) {
  TempDir dir;
  const Error e = error_from([&] { Store::open(dir.path() / "store"); });
  EXPECT_EQ(e.code(), ErrorCode::kStoreCorrupt);
  EXPECT_NE(std::string(e.what()).find("revocore init"), std::string::npos) << e.what();
}

TEST(StoreOpen, RefusesAForeignLmdbEnvironment) {
  TempDir dir;
  // An LMDB environment some other program made: a named database, no revocore schema.
  store_faults::write_foreign_environment(dir.path(), /*with_meta=*/true);
  const Error e = error_from([&] { Store::open(dir.path()); });
  EXPECT_EQ(e.code(), ErrorCode::kStoreCorrupt);
  EXPECT_NE(std::string(e.what()).find("not a revocore store"), std::string::npos) << e.what();
}

TEST(StoreOpen, RefusesAnLmdbEnvironmentWithoutOurDatabases) {
  TempDir dir;
  store_faults::write_foreign_environment(dir.path(), /*with_meta=*/false);
  EXPECT_EQ(error_from([&] { Store::open(dir.path()); }).code(), ErrorCode::kStoreCorrupt);
}

TEST(StoreOpen, RefusesGarbageFiles) {
  TempDir dir;
  std::ofstream(dir.path() / "data.mdb") << std::string(8192, 'x');
  EXPECT_EQ(error_from([&] { Store::open(dir.path()); }).code(), ErrorCode::kStoreCorrupt);
}

TEST(StoreOpen, RefusesAnUnknownSchemaVersion) {
  TempDir dir;
  { Store::create(dir.path()); }
  store_faults::set_schema_version(dir.path(), Store::kSchemaVersion + 1);
  const Error e = error_from([&] { Store::open(dir.path()); });
  EXPECT_EQ(e.code(), ErrorCode::kStoreVersion);
  EXPECT_NE(std::string(e.what()).find("schema version 2"), std::string::npos) << e.what();
}

TEST(StoreOpen, CreateTwiceOpensTheSameStore) {
  TempDir dir;
  {
    Store store = Store::create(dir.path());
    StoreBuilder(store).issuer("ca");
  }
  Store again = Store::create(dir.path());
  EXPECT_TRUE(again.read().issuer_by_name("ca").has_value());
}

TEST(StoreFull, MapFullIsAClearErrorAndNothingIsWritten) {
  TempDir dir;
  Store store = Store::create(dir.path(), StoreOptions{std::size_t{1} << 20});  // 1 MiB
  StoreBuilder build(store);
  const IssuerId issuer = build.issuer();
  build.user("u1");
  build.credential("c1", CredentialType::kCard, "u1");
  const Error e = error_from([&] {
    WriteTransaction txn = store.write();
    for (std::uint64_t serial = 1; serial < 100'000; ++serial) {
      CertificateRecord record;
      record.credential_id = "c1";
      record.subject = std::string(100, 's');
      txn.add_certificate(testing::key_for(issuer, serial), record);
    }
    txn.commit();
  });
  EXPECT_EQ(e.code(), ErrorCode::kStoreFull);
  EXPECT_NE(std::string(e.what()).find("map_size_mib"), std::string::npos) << e.what();
  EXPECT_EQ(store.read().count_certificates(), 0u);
  // The store still works after the refusal.
  build.certificate(issuer, 1, "c1");
  EXPECT_EQ(store.read().count_certificates(), 1u);
}

}  // namespace
}  // namespace revocore

namespace revocore {
namespace {

// Stores written before CRL shards existed hold version 1 certificate records: they are read,
// scanned and changed in place as before, and carry no shard.
TEST(StoreUpgrade, Version1CertificateRecordsAreReadAndChangedInPlace) {
  testing::TempDir dir;
  Store store = Store::create(dir.path() / "store");
  testing::StoreBuilder build(store);
  const IssuerId issuer = build.issuer();
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  const CertificateKey old_key = testing::key_for(issuer, 0x51);
  {
    WriteTransaction txn = store.write();
    CertificateRecord record;
    record.not_after = testing::kTestTime + 86400;
    record.credential_id = "c";
    record.subject = "CN=old";
    store_faults::put_version1_certificate(txn, old_key, record);
    txn.commit();
  }
  const CertificateKey new_key = build.certificate(issuer, 0x52, "c");
  {
    const StoreTransaction txn = store.read();
    EXPECT_EQ(txn.certificate(old_key)->subject, "CN=old");
    EXPECT_FALSE(txn.certificate(old_key)->crl_shard.has_value());
    EXPECT_EQ(txn.certificate(new_key)->crl_shard, std::optional<std::uint16_t>(0));
    EXPECT_EQ(txn.count_unsharded_certificates(issuer), 1u);
  }
  {
    WriteTransaction txn = store.write();
    set_certificate_status(txn, {old_key, CertificateStatus::kOnHold, ReasonCode::kUnspecified,
                                 testing::kTestTime, "t", "op", 0});
    CertificateOrder order;
    order.process = "t";
    order.operator_name = "op";
    order.time = testing::kTestTime;
    order.invalidity_date = testing::kTestTime - 10;
    order.key = new_key;
    order.reason = ReasonCode::kKeyCompromise;
    apply_certificate_order(txn, order);
    txn.commit();
  }
  const StoreTransaction txn = store.read();
  EXPECT_EQ(store_faults::certificate_bytes(txn, old_key)[0], 1);  // still version 1
  EXPECT_EQ(txn.certificate(old_key)->status, CertificateStatus::kOnHold);
  EXPECT_EQ(txn.certificate(old_key)->subject, "CN=old");
  // Patching the status keeps the shard flag next to the invalidity flag.
  const auto revoked = txn.certificate(new_key);
  EXPECT_EQ(revoked->crl_shard, std::optional<std::uint16_t>(0));
  EXPECT_EQ(revoked->invalidity_date, std::optional<UnixTime>(testing::kTestTime - 10));
  CertificateStatusView view;
  ASSERT_TRUE(txn.certificate_status(old_key, view));
  EXPECT_FALSE(view.crl_shard.has_value());
  EXPECT_EQ(view.status, CertificateStatus::kOnHold);
}

TEST(StoreUpgrade, Version1IssuerAndCrlStateRecordsAreRead) {
  std::string issuer;
  codec::ByteWriter w(issuer);
  w.u8(1);
  w.str("old-ca");
  w.str("subject");
  w.str("certificate");
  const IssuerRecord decoded = IssuerRecord::decode(7, issuer);
  EXPECT_EQ(decoded.name, "old-ca");
  EXPECT_EQ(decoded.crl_shards, 0);
  EXPECT_FALSE(decoded.unsharded_certificates.has_value());  // counted in the store when needed

  std::string state;
  codec::ByteWriter s(state);
  s.u8(1);
  s.u64(9);   // last_number
  s.u64(8);   // base_number
  s.u64(42);  // base_journal_sequence
  s.i64(1000);
  s.i64(2000);
  const CrlState crl = CrlState::decode(state);
  EXPECT_EQ(crl.last_number, 9u);
  EXPECT_EQ(crl.published_journal_sequence, 42u);  // version 1 published full after each delta
  EXPECT_EQ(crl.delta_number, 0u);
}

}  // namespace
}  // namespace revocore
