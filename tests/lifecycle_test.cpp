// The lifecycle processes against the default policy: every row of the mission table for every
// credential type, the error paths (nothing changed), approvals, roles and the audit trail.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "lifecycle/batch_job.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/error.hpp"
#include "revocation/store_faults.hpp"
#include "tests/test_support.hpp"

namespace revocore::lifecycle {
namespace {

using config::Configuration;
using testing::StoreBuilder;
using L = LifecycleState;
using S = CertificateStatus;

class LifecycleTest : public ::testing::Test {
 protected:
  explicit LifecycleTest(Configuration config = Configuration::built_in_default())
      : config_(std::move(config)),
        store_(Store::create(dir_.path() / "store")),
        build_(store_),
        issuer_(build_.issuer()),
        processes_(store_, config_, testing::fixed_clock()) {}

  ProcessOutcome run(std::string_view process, const std::string& target, const std::string& reason,
                     const std::string& operator_name = "alice") {
    return processes_.run(
        ProcessRequest{std::string(process), target, reason, operator_name, std::nullopt});
  }

  // Runs a process expected to fail; checks the error code and that the store did not change.
  Error refused(std::string_view process, const std::string& target, const std::string& reason,
                ErrorCode expected) {
    const auto journal_before = store_.read().count_journal_entries();
    const auto audit_before = store_.read().audit(1000).size();
    try {
      run(process, target, reason);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), expected) << e.what();
      EXPECT_EQ(store_.read().count_journal_entries(), journal_before);
      EXPECT_EQ(store_.read().audit(1000).size(), audit_before);
      return e;
    }
    ADD_FAILURE() << process << " " << target << " was not refused";
    return Error(ErrorCode::kStoreIo, "");
  }

  User user(const std::string& id) { return *store_.read().user(id); }
  Credential credential(const std::string& id) { return *store_.read().credential(id); }
  CertificateRecord certificate(std::uint64_t serial) {
    return *store_.read().certificate(testing::key_for(issuer_, serial));
  }

  testing::TempDir dir_;
  Configuration config_;
  Store store_;
  StoreBuilder build_;
  IssuerId issuer_;
  LifecycleProcesses processes_;
};

// ---- the mission table, one credential type at a time ----

class MissionTable : public LifecycleTest, public ::testing::WithParamInterface<CredentialType> {
 protected:
  // User 1042 holds an active credential of the type under test with two valid certificates and
  // one already revoked, and an inactive one with a held certificate. Serials: 1, 2, 3 and 4.
  void SetUp() override {
    build_.user("1042");
    build_.credential("active-cred", GetParam(), "1042", L::kActive);
    build_.credential("inactive-cred", GetParam(), "1042", L::kInactive);
    build_.certificate(issuer_, 1, "active-cred");
    build_.certificate(issuer_, 2, "active-cred");
    build_.certificate(issuer_, 3, "active-cred", S::kRevoked, ReasonCode::kSuperseded);
    build_.certificate(issuer_, 4, "inactive-cred", S::kOnHold);
  }

  void expect_relations_kept() {
    const auto related = store_.read().credentials_of_user("1042");
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(store_.read().certificates_of_credential("active-cred").size(), 3u);
    EXPECT_EQ(store_.read().certificates_of_credential("inactive-cred").size(), 1u);
  }

  bool is_temporary_card() const { return GetParam() == CredentialType::kTemporaryCard; }
};

TEST_P(MissionTable, LockUserLocksEveryCredentialAndRevokesValidAndHeldCertificates) {
  const auto outcome = run(config::kUsersProcLock, "1042", "Left the organisation");
  EXPECT_EQ(outcome.kind, ProcessOutcome::Kind::kApplied);

  EXPECT_EQ(user("1042").state, L::kLocked);
  EXPECT_TRUE(user("1042").roles.empty());
  EXPECT_EQ(credential("active-cred").state, L::kLocked);
  EXPECT_EQ(credential("inactive-cred").state, L::kLocked);
  for (const std::uint64_t serial : {1, 2, 4}) {
    EXPECT_EQ(certificate(serial).status, S::kRevoked) << serial;
    EXPECT_EQ(certificate(serial).reason, ReasonCode::kAffiliationChanged) << serial;
    EXPECT_EQ(certificate(serial).revocation_time, testing::kTestTime) << serial;
  }
  // Already revoked: untouched, with its original reason.
  EXPECT_EQ(certificate(3).reason, ReasonCode::kSuperseded);
  EXPECT_EQ(outcome.batch.revoked, 3u);
  EXPECT_EQ(outcome.batch.certificates_unchanged, 1u);
  expect_relations_kept();
}

TEST_P(MissionTable, LockUserAlsoLocksAnInactiveUser) {
  run(config::kUsersProcDeactivate, "1042", "Leave of absence");
  run(config::kUsersProcLock, "1042", "Key compromise");
  EXPECT_EQ(user("1042").state, L::kLocked);
  EXPECT_EQ(credential("active-cred").state, L::kLocked);
  EXPECT_EQ(certificate(1).status, S::kRevoked);
  // A temporary card was already revoked by the deactivation; revocation is final, so its reason
  // stays. Every other type was on hold and is revoked now, with the lock's reason.
  EXPECT_EQ(certificate(1).reason,
            is_temporary_card() ? ReasonCode::kCessationOfOperation : ReasonCode::kKeyCompromise);
}

TEST_P(MissionTable, DeactivateUserHoldsCertificatesOrRevokesATemporaryCard) {
  const auto outcome = run(config::kUsersProcDeactivate, "1042", "Parental leave");
  EXPECT_EQ(user("1042").state, L::kInactive);
  EXPECT_TRUE(user("1042").roles.empty());
  if (is_temporary_card()) {
    EXPECT_EQ(credential("active-cred").state, L::kLocked);
    EXPECT_EQ(credential("inactive-cred").state, L::kLocked);
    for (const std::uint64_t serial : {1, 2, 4}) {
      EXPECT_EQ(certificate(serial).status, S::kRevoked) << serial;
      // certificateHold cannot end a certificate: the rule's own revocation reason is used.
      EXPECT_EQ(certificate(serial).reason, ReasonCode::kCessationOfOperation) << serial;
    }
    EXPECT_EQ(outcome.batch.revoked, 3u);
  } else {
    EXPECT_EQ(credential("active-cred").state, L::kInactive);
    EXPECT_EQ(credential("inactive-cred").state, L::kInactive);
    for (const std::uint64_t serial : {1, 2, 4}) {
      EXPECT_EQ(certificate(serial).status, S::kOnHold) << serial;
      EXPECT_EQ(certificate(serial).reason, ReasonCode::kCertificateHold) << serial;
    }
    EXPECT_EQ(outcome.batch.held, 2u);
  }
  EXPECT_EQ(certificate(3).status, S::kRevoked);
  expect_relations_kept();
}

TEST_P(MissionTable, ReactivateUserReleasesHoldsAndKeepsLockedCredentialsLocked) {
  build_.credential("locked-cred", GetParam(), "1042", L::kLocked);
  build_.certificate(issuer_, 5, "locked-cred", S::kRevoked, ReasonCode::kKeyCompromise);
  run(config::kUsersProcDeactivate, "1042", "Parental leave");
  const auto outcome = run(config::kUsersProcReactivate, "1042", "Returned from leave");

  EXPECT_EQ(user("1042").state, L::kActive);
  EXPECT_EQ(user("1042").roles, std::vector<std::string>{"employee"});  // default role only
  EXPECT_EQ(credential("locked-cred").state, L::kLocked);
  EXPECT_EQ(certificate(5).status, S::kRevoked);
  if (is_temporary_card()) {
    // Deactivate user locked it; locked stays locked.
    EXPECT_EQ(credential("active-cred").state, L::kLocked);
    EXPECT_EQ(certificate(1).status, S::kRevoked);
    EXPECT_EQ(outcome.batch.released, 0u);
  } else {
    EXPECT_EQ(credential("active-cred").state, L::kActive);
    EXPECT_EQ(credential("inactive-cred").state, L::kActive);
    for (const std::uint64_t serial : {1, 2, 4}) {
      EXPECT_EQ(certificate(serial).status, S::kValid) << serial;
      EXPECT_EQ(certificate(serial).revocation_time, 0) << serial;
    }
    EXPECT_EQ(outcome.batch.released, 3u);
  }
}

TEST_P(MissionTable, CardProcessesApplyToCardsOnly) {
  if (GetParam() != CredentialType::kCard) {
    const Error e = refused(config::kCardsProcDeactivate, "active-cred", "Card not in use",
                            ErrorCode::kWrongState);
    EXPECT_EQ(std::string(e.what()),
              fmt::format("Deactivate card applies to a card; credential active-cred is a {}",
                          to_string(GetParam())));
    return;
  }
  run(config::kCardsProcDeactivate, "active-cred", "Card left at home");
  EXPECT_EQ(user("1042").state, L::kActive);
  EXPECT_EQ(user("1042").roles, (std::vector<std::string>{"employee", "approver"}));
  EXPECT_EQ(credential("active-cred").state, L::kInactive);
  EXPECT_EQ(credential("active-cred").relation_state, L::kInactive);
  EXPECT_EQ(certificate(1).status, S::kOnHold);
  EXPECT_EQ(certificate(2).status, S::kOnHold);
  EXPECT_EQ(certificate(3).status, S::kRevoked);
  EXPECT_EQ(certificate(4).status, S::kOnHold);  // the other card is untouched (held before)
  EXPECT_EQ(credential("inactive-cred").relation_state, L::kActive);
  expect_relations_kept();
}

INSTANTIATE_TEST_SUITE_P(EveryCredentialType, MissionTable,
                         ::testing::ValuesIn(kAllCredentialTypes),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// ---- card processes ----

class CardProcesses : public LifecycleTest {
 protected:
  void SetUp() override {
    build_.user("7");
    build_.credential("card-7", CredentialType::kCard, "7");
    build_.credential("mobile-7", CredentialType::kMobileId, "7");
    build_.certificate(issuer_, 71, "card-7");
    build_.certificate(issuer_, 72, "card-7");
    build_.certificate(issuer_, 73, "mobile-7");
  }
};

TEST_F(CardProcesses, DeactivateThenReactivateRestoresTheCard) {
  run(config::kCardsProcDeactivate, "card-7", "Card left at home");
  run(config::kCardsProcReactivate, "card-7", "Card found");
  EXPECT_EQ(credential("card-7").state, L::kActive);
  EXPECT_EQ(credential("card-7").relation_state, L::kActive);
  EXPECT_EQ(certificate(71).status, S::kValid);
  EXPECT_EQ(certificate(72).status, S::kValid);
  EXPECT_EQ(certificate(73).status, S::kValid);
  EXPECT_EQ(store_.read().count_journal_entries(), 4u);
}

TEST_F(CardProcesses, LockCardRevokesItsCertificatesOnly) {
  run(config::kCardsProcLock, "card-7", "Card stolen");
  EXPECT_EQ(credential("card-7").state, L::kLocked);
  EXPECT_EQ(certificate(71).status, S::kRevoked);
  EXPECT_EQ(certificate(71).reason, ReasonCode::kKeyCompromise);
  EXPECT_EQ(certificate(73).status, S::kValid);
  EXPECT_EQ(user("7").state, L::kActive);
  // A locked card cannot come back.
  refused(config::kCardsProcReactivate, "card-7", "Card found", ErrorCode::kWrongState);
}

TEST_F(CardProcesses, RequiredStatesAreChecked) {
  EXPECT_STREQ(
      refused(config::kCardsProcReactivate, "card-7", "Card found", ErrorCode::kWrongState).what(),
      "Reactivate card needs an inactive card; card card-7 is active");
  run(config::kCardsProcDeactivate, "card-7", "Card not in use");
  EXPECT_STREQ(
      refused(config::kCardsProcDeactivate, "card-7", "Card not in use", ErrorCode::kWrongState)
          .what(),
      "Deactivate card needs an active card; card card-7 is inactive");
  refused(config::kCardsProcLock, "no-such-card", "Card lost", ErrorCode::kNotFound);
}

// ---- self-service: a card holder acts on their own user, credentials and certificates ----

class SelfService : public CardProcesses {
 protected:
  void SetUp() override {
    CardProcesses::SetUp();
    build_.user("8");
    build_.credential("card-8", CredentialType::kCard, "8");
    build_.certificate(issuer_, 81, "card-8");
    issuer_name_ = store_.read().issuer(issuer_)->name;
  }

  // As user 7, signed in with the certificate of serial 73 (mobile-7).
  ProcessOutcome run_as_holder(std::string_view process, const std::string& target,
                               const std::string& reason) {
    ProcessRequest request{std::string(process), target, reason, "CN=holder 7", std::nullopt};
    request.self_service = ProcessRequest::SelfService{"7", issuer_name_ + "/49"};
    return processes_.run(request);
  }

  // Refused as not theirs: kPermissionDenied, one refusal audited, nothing else changed.
  void refused_as_holder(std::string_view process, const std::string& target,
                         const std::string& reason) {
    const auto journal_before = store_.read().count_journal_entries();
    const auto audit_before = store_.read().audit(1000).size();
    try {
      run_as_holder(process, target, reason);
      ADD_FAILURE() << process << " on " << target << " was not refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied) << e.what();
      EXPECT_NE(std::string(e.what()).find(fmt::format("{} is not one of yours", target)),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(store_.read().count_journal_entries(), journal_before);
    const auto audit = store_.read().audit(1000);
    ASSERT_EQ(audit.size(), audit_before + 1);
    EXPECT_EQ(audit[0].kind, AuditKind::kRefused);
    EXPECT_EQ(audit[0].target_id, target);
    EXPECT_EQ(audit[0].self_service_certificate, issuer_name_ + "/49");
  }

  std::string issuer_name_;
};

TEST_F(SelfService, OwnTargetsOnly) {
  refused_as_holder(config::kCardsProcDeactivate, "card-8", "Card left at home");
  refused_as_holder(config::kCardsProcDeactivate, "no-such-card", "Card left at home");
  refused_as_holder(config::kUsersProcDeactivate, "8", "Parental leave");
  refused_as_holder(config::kUsersProcDeactivate, "9999", "Parental leave");
  refused_as_holder(config::kCertsProcHold, issuer_name_ + "/51", "Suspected loss");  // serial 81
  refused_as_holder(config::kCertsProcHold, "no-such-issuer/51", "Suspected loss");
  refused_as_holder(config::kCertsProcHold, issuer_name_ + "/FFFF", "Suspected loss");
  EXPECT_EQ(credential("card-8").state, L::kActive);
  EXPECT_EQ(user("8").state, L::kActive);

  const auto card = run_as_holder(config::kCardsProcDeactivate, "card-7", "Card left at home");
  EXPECT_EQ(card.audit.self_service_certificate, issuer_name_ + "/49");
  EXPECT_EQ(store_.read().audit(1)[0].self_service_certificate, issuer_name_ + "/49");
  EXPECT_EQ(credential("card-7").state, L::kInactive);
  run_as_holder(config::kCertsProcHold, issuer_name_ + "/49", "Suspected loss");
  EXPECT_EQ(certificate(73).status, S::kOnHold);
  run_as_holder(config::kUsersProcDeactivate, "7", "Parental leave");
  EXPECT_EQ(user("7").state, L::kInactive);
  // The required states still apply to one's own.
  try {
    run_as_holder(config::kCardsProcDeactivate, "card-7", "Card left at home");
    ADD_FAILURE() << "an inactive card was deactivated again";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWrongState) << e.what();
  }
}

// ---- dry runs: the same code path, nothing written ----

TEST_F(CardProcesses, APreviewShowsEachChangeAndChangesNothing) {
  const auto journal_before = store_.read().count_journal_entries();
  const ProcessRequest request{std::string(config::kCardsProcDeactivate), "card-7",
                               "Card left at home", "alice", std::nullopt};
  const ProcessPreview preview = processes_.preview(request);
  EXPECT_FALSE(preview.needs_approval);
  ASSERT_EQ(preview.audit.credential_changes.size(), 1u);
  EXPECT_EQ(preview.audit.credential_changes[0].new_state, L::kInactive);
  ASSERT_EQ(preview.certificate_changes.size(), 2u);
  EXPECT_EQ(preview.certificate_changes[0].certificate.serial.hex(), "47");  // serial 71
  EXPECT_EQ(preview.certificate_changes[0].old_status, S::kValid);
  EXPECT_EQ(preview.certificate_changes[0].new_status, S::kOnHold);
  EXPECT_EQ(preview.batch.held, 2u);
  EXPECT_EQ(preview.fingerprint.size(), 16u);
  // Nothing written: no journal, no audit, the card as it was; the same preview again.
  EXPECT_EQ(store_.read().count_journal_entries(), journal_before);
  EXPECT_TRUE(store_.read().audit(10).empty());
  EXPECT_EQ(credential("card-7").state, L::kActive);
  EXPECT_EQ(processes_.preview(request).fingerprint, preview.fingerprint);

  // A run after that preview applies it.
  ProcessRequest next = request;
  next.expected_preview = preview.fingerprint;
  const auto applied = processes_.run(next);
  EXPECT_EQ(applied.batch.held, 2u);
  EXPECT_EQ(credential("card-7").state, L::kInactive);
}

TEST_F(CardProcesses, ARunRefusesWhenTheTargetChangedSinceThePreview) {
  const ProcessRequest lock{std::string(config::kCardsProcLock), "card-7", "Card lost", "alice",
                            std::nullopt};
  const std::string shown = processes_.preview(lock).fingerprint;
  // Meanwhile another operator holds one of the card's certificates.
  processes_.run(ProcessRequest{std::string(config::kCertsProcHold),
                                store_.read().issuer(issuer_)->name + "/48", "Suspected loss",
                                "bob", std::nullopt});
  const auto journal_before = store_.read().count_journal_entries();
  ProcessRequest next = lock;
  next.expected_preview = shown;
  try {
    processes_.run(next);
    ADD_FAILURE() << "a run after an outdated preview was applied";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWrongState) << e.what();
    EXPECT_NE(std::string(e.what()).find("no longer what the preview showed"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store_.read().count_journal_entries(), journal_before);
  EXPECT_EQ(credential("card-7").state, L::kActive);
  const std::string again = processes_.preview(lock).fingerprint;
  EXPECT_NE(again, shown);
  next.expected_preview = again;
  processes_.run(next);
  EXPECT_EQ(credential("card-7").state, L::kLocked);
}

// ---- user processes: required states and bad input ----

class UserProcesses : public LifecycleTest {
 protected:
  void SetUp() override {
    build_.user("1042");
    build_.credential("card-1042", CredentialType::kCard, "1042");
    build_.certificate(issuer_, 1, "card-1042");
  }
};

TEST_F(UserProcesses, WrongRequiredStateIsRefusedWithAClearMessage) {
  EXPECT_STREQ(
      refused(config::kUsersProcReactivate, "1042", "Returned from leave", ErrorCode::kWrongState)
          .what(),
      "Reactivate user needs an inactive user; user 1042 is active");
  run(config::kUsersProcLock, "1042", "Left the organisation");
  EXPECT_STREQ(
      refused(config::kUsersProcDeactivate, "1042", "Parental leave", ErrorCode::kWrongState)
          .what(),
      "Deactivate user needs an active user; user 1042 is locked");
  EXPECT_STREQ(
      refused(config::kUsersProcLock, "1042", "Key compromise", ErrorCode::kWrongState).what(),
      "Lock user needs an active or inactive user; user 1042 is locked");
  refused(config::kUsersProcReactivate, "1042", "Returned from leave", ErrorCode::kWrongState);
}

TEST_F(UserProcesses, UnknownUserReasonAndProcessAreRefused) {
  EXPECT_STREQ(
      refused(config::kUsersProcLock, "9999", "Key compromise", ErrorCode::kNotFound).what(),
      "user 9999 does not exist; `revocore user list --prefix 99` lists the users whose id "
      "starts the same way");
  const Error reason =
      refused(config::kUsersProcLock, "1042", "Parental leave", ErrorCode::kReasonNotOffered);
  EXPECT_NE(std::string(reason.what())
                .find("reason 'Parental leave' is not offered for Lock "
                      "user; choose one of 'Left the organisation'"),
            std::string::npos)
      << reason.what();
  refused("UsersProcDelete", "1042", "Key compromise", ErrorCode::kInvalidConfig);
  EXPECT_EQ(user("1042").state, L::kActive);
  EXPECT_EQ(certificate(1).status, S::kValid);
}

TEST_F(UserProcesses, AuditRecordsTheRunAndTheJournalPointsBack) {
  const auto outcome = run(config::kUsersProcLock, "1042", "Key compromise", "carol");
  const auto trail = store_.read().audit(10);
  ASSERT_EQ(trail.size(), 1u);
  const AuditRecord& audit = trail[0];
  EXPECT_EQ(audit.id, outcome.audit.id);
  EXPECT_EQ(audit.kind, AuditKind::kProcessApplied);
  EXPECT_EQ(audit.process, "UsersProcLock");
  EXPECT_EQ(audit.target_id, "1042");
  EXPECT_EQ(audit.operator_name, "carol");
  EXPECT_EQ(audit.reason_label, "Key compromise");
  EXPECT_EQ(audit.reason_code, ReasonCode::kKeyCompromise);
  EXPECT_EQ(audit.time, testing::kTestTime);
  EXPECT_EQ(audit.user_old_state, L::kActive);
  EXPECT_EQ(audit.user_new_state, L::kLocked);
  EXPECT_EQ(audit.roles_before, (std::vector<std::string>{"employee", "approver"}));
  EXPECT_TRUE(audit.roles_after.empty());
  ASSERT_EQ(audit.credential_changes.size(), 1u);
  EXPECT_EQ(audit.credential_changes[0].credential_id, "card-1042");
  EXPECT_EQ(audit.credential_changes[0].new_state, L::kLocked);
  EXPECT_EQ(audit.certificates_changed, 1u);

  const auto journal =
      store_.read().journal(audit.first_journal_sequence, audit.last_journal_sequence);
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].audit_id, audit.id);
  EXPECT_EQ(journal[0].operator_name, "carol");
  EXPECT_EQ(journal[0].process, "UsersProcLock");
  EXPECT_EQ(journal[0].old_status, S::kValid);
  EXPECT_EQ(journal[0].new_status, S::kRevoked);
}

TEST_F(UserProcesses, InvalidityDateReachesTheCertificates) {
  const UnixTime since = testing::kTestTime - 3 * 86400;
  processes_.run(ProcessRequest{std::string(config::kUsersProcLock), "1042", "Key compromise",
                                "alice", since});
  EXPECT_EQ(certificate(1).invalidity_date, since);

  build_.user("2");
  try {
    processes_.run(ProcessRequest{std::string(config::kUsersProcLock), "2", "Key compromise",
                                  "alice", testing::kTestTime + 60});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("in the future"), std::string::npos);
  }
  EXPECT_EQ(user("2").state, L::kActive);
}

// ---- approvals ----

Configuration with_approval_for_lock() {
  std::string text(config::kDefaultConfigToml);
  const std::string anchor = "approval = false\nreasons = [\n  { label = \"Left the organisation\"";
  text.replace(text.find(anchor), anchor.size(),
               "approval = true\nreasons = [\n  { label = \"Left the organisation\"");
  return Configuration::parse(text, "approval.toml", ".");
}

class Approvals : public LifecycleTest {
 protected:
  Approvals() : LifecycleTest(with_approval_for_lock()) {}
  void SetUp() override {
    build_.user("1042");
    build_.credential("card-1042", CredentialType::kCard, "1042");
    build_.certificate(issuer_, 1, "card-1042");
  }
};

TEST_F(Approvals, ARunFilesARequestAndChangesNothing) {
  const auto outcome = run(config::kUsersProcLock, "1042", "Key compromise", "alice");
  EXPECT_EQ(outcome.kind, ProcessOutcome::Kind::kPendingApproval);
  EXPECT_EQ(outcome.approval_id, 1u);
  EXPECT_EQ(user("1042").state, L::kActive);
  EXPECT_EQ(certificate(1).status, S::kValid);
  const auto request = store_.read().approval(1);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->status, ApprovalStatus::kPending);
  EXPECT_EQ(request->requested_by, "alice");
  EXPECT_EQ(store_.read().audit(10)[0].kind, AuditKind::kApprovalRequested);
}

TEST_F(Approvals, TheRequesterCannotApproveButAnotherOperatorCan) {
  run(config::kUsersProcLock, "1042", "Key compromise", "alice");
  try {
    processes_.approve(1, "alice");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kApprovalDenied);
    EXPECT_STREQ(e.what(),
                 "operator alice filed approval request #1 and cannot decide it; another "
                 "operator must");
  }
  EXPECT_EQ(user("1042").state, L::kActive);

  const auto outcome = processes_.approve(1, "bob");
  EXPECT_EQ(outcome.kind, ProcessOutcome::Kind::kApplied);
  EXPECT_EQ(user("1042").state, L::kLocked);
  EXPECT_EQ(certificate(1).status, S::kRevoked);
  EXPECT_EQ(certificate(1).reason, ReasonCode::kKeyCompromise);
  EXPECT_EQ(outcome.audit.operator_name, "bob");
  EXPECT_EQ(outcome.audit.requested_by, "alice");
  EXPECT_EQ(outcome.audit.approval_id, 1u);
  const auto request = *store_.read().approval(1);
  EXPECT_EQ(request.status, ApprovalStatus::kApproved);
  EXPECT_EQ(request.decided_by, "bob");
  EXPECT_EQ(request.decision_audit_id, outcome.audit.id);

  // Decided once, never again.
  EXPECT_THROW(processes_.approve(1, "carol"), Error);
  EXPECT_THROW(processes_.reject(1, "carol", "too late"), Error);
}

TEST_F(Approvals, TheInvalidityDateIsKeptWithTheRequest) {
  const UnixTime since = testing::kTestTime - 86400;
  processes_.run(ProcessRequest{std::string(config::kUsersProcLock), "1042", "Key compromise",
                                "alice", since});
  EXPECT_EQ(store_.read().approval(1)->invalidity_date, since);
  processes_.approve(1, "bob");
  EXPECT_EQ(certificate(1).invalidity_date, since);
}

TEST_F(Approvals, RejectionAppliesNothing) {
  run(config::kUsersProcLock, "1042", "Key compromise", "alice");
  EXPECT_THROW(processes_.reject(1, "alice", "changed my mind"), Error);
  const AuditRecord audit = processes_.reject(1, "bob", "not justified");
  EXPECT_EQ(audit.kind, AuditKind::kApprovalRejected);
  EXPECT_EQ(audit.note, "not justified");
  EXPECT_EQ(store_.read().approval(1)->status, ApprovalStatus::kRejected);
  EXPECT_EQ(user("1042").state, L::kActive);
  EXPECT_EQ(certificate(1).status, S::kValid);
  EXPECT_EQ(store_.read().count_journal_entries(), 0u);
}

TEST_F(Approvals, TheRequiredStateIsCheckedAgainAtApproval) {
  run(config::kUsersProcLock, "1042", "Key compromise", "alice");
  run(config::kUsersProcLock, "1042", "Left the organisation", "carol");
  processes_.approve(2, "bob");
  try {
    processes_.approve(1, "bob");
    FAIL();
  } catch (const Error& e) {
    // The target left the required state: the request is stale, never applied.
    EXPECT_EQ(e.code(), ErrorCode::kApprovalDenied);
    EXPECT_NE(std::string(e.what()).find("is stale"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store_.read().approval(1)->status, ApprovalStatus::kStale);
  EXPECT_EQ(certificate(1).reason, ReasonCode::kAffiliationChanged);
}

TEST_F(Approvals, UnknownRequestAndProcessesWithoutApprovalStep) {
  EXPECT_THROW(processes_.approve(99, "bob"), Error);
  // Deactivate user has no approval step in this configuration: it applies at once.
  const auto outcome = run(config::kUsersProcDeactivate, "1042", "Parental leave");
  EXPECT_EQ(outcome.kind, ProcessOutcome::Kind::kApplied);
  EXPECT_EQ(user("1042").state, L::kInactive);
}

// The default policy with `process` needing a second operator's approval.
Configuration with_approval(std::string_view process, const std::filesystem::path& dir) {
  std::string toml(config::kDefaultConfigToml);
  const std::size_t table = toml.find(fmt::format("[process.{}]\n", process));
  const std::size_t approval = toml.find("approval = false", table);
  EXPECT_NE(table, std::string::npos) << process;
  toml.replace(approval, 16, "approval = true");
  return Configuration::parse(toml, "revocore.toml", dir);
}

// Pending requests do not stay pending for ever: one whose target left the required state is
// stale, one nobody decided within [approvals] expire_hours expires; neither can be approved.
TEST(ApprovalRetirement, StaleAndExpiredRequestsAreMarkedAndRefused) {
  testing::TempDir dir;
  const Configuration config = with_approval(config::kCardsProcLock, dir.path());
  Store store = Store::create(dir.path() / "store");
  StoreBuilder build(store);
  const IssuerId issuer = build.issuer("test-ca");
  build.user("u");
  build.credential("c1", CredentialType::kCard, "u");
  build.credential("c2", CredentialType::kCard, "u");
  build.certificate(issuer, 1, "c1");
  UnixTime now = testing::kTestTime;
  LifecycleProcesses processes(store, config, [&now] { return now; });
  const auto lock = [&](const std::string& card) {
    return processes.run(ProcessRequest{std::string(config::kCardsProcLock), card, "Card lost",
                                        "alice", std::nullopt});
  };
  const std::uint64_t stale = lock("c1").approval_id;
  const std::uint64_t expiring = lock("c2").approval_id;
  // Meanwhile Lock user locks every card, c1 included.
  processes.run(ProcessRequest{std::string(config::kUsersProcLock), "u", "Key compromise", "bob",
                               std::nullopt});
  EXPECT_EQ(processes.retire_pending(), 2u);  // c2 is locked too: stale as well
  EXPECT_EQ(store.read().approval(stale)->status, ApprovalStatus::kStale);
  try {
    processes.approve(stale, "bob");
    FAIL() << "approved";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is stale"), std::string::npos) << e.what();
  }
  (void)expiring;

  build.user("v");
  build.credential("c3", CredentialType::kCard, "v");
  const std::uint64_t late = lock("c3").approval_id;
  now += config.approval_expiry_seconds + 1;
  EXPECT_EQ(processes.retire_pending(), 1u);
  EXPECT_EQ(store.read().approval(late)->status, ApprovalStatus::kExpired);
  try {
    processes.approve(late, "bob");
    FAIL() << "approved";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kApprovalDenied);
    EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store.read().credential("c3")->state, L::kActive);
}

// Certificate processes go through the same approval step as the others.
TEST(CertificateProcesses, RevokeNeedsASecondOperatorWhenConfigured) {
  testing::TempDir dir;
  const Configuration config = with_approval(config::kCertsProcRevoke, dir.path());
  Store store = Store::create(dir.path() / "store");
  StoreBuilder build(store);
  const IssuerId issuer = build.issuer("test-ca");
  build.user("u");
  build.credential("c", CredentialType::kCard, "u");
  const CertificateKey key = build.certificate(issuer, 0x1A, "c");
  LifecycleProcesses processes(store, config, testing::fixed_clock());
  const ProcessOutcome filed = processes.run(
      ProcessRequest{std::string(config::kCertsProcRevoke), certificate_target("test-ca", "1a"),
                     "Key compromise", "alice", std::nullopt});
  EXPECT_EQ(filed.kind, ProcessOutcome::Kind::kPendingApproval);
  EXPECT_EQ(store.read().certificate(key)->status, S::kValid);
  EXPECT_THROW(processes.approve(filed.approval_id, "alice"), Error);  // not their own
  const ProcessOutcome applied = processes.approve(filed.approval_id, "bob");
  EXPECT_EQ(applied.batch.revoked, 1u);
  EXPECT_EQ(store.read().certificate(key)->status, S::kRevoked);
  EXPECT_EQ(store.read().certificate(key)->reason, ReasonCode::kKeyCompromise);
  EXPECT_EQ(applied.audit.target_id, "test-ca/1A");
  EXPECT_EQ(applied.audit.target_kind, "certificate");
  EXPECT_EQ(store.read().credential("c")->state, L::kActive);
}

TEST(CertificateProcesses, ConfigurationRefusesImpossibleOnes) {
  const std::string bad =
      "\n[process.CertsProcUnrevoke]\ntitle = \"Unrevoke\"\ntarget = \"certificate\"\n"
      "required_status = [\"revoked\"]\ncertificate_end_status = \"valid\"\nreasons = [ { "
      "label = \"x\", code = \"removeFromCRL\" } ]\n";
  try {
    Configuration::parse(std::string(config::kDefaultConfigToml) + bad, "revocore.toml", ".");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot move a certificate from revoked to valid"),
              std::string::npos)
        << e.what();
  }
}

// Batch jobs: a target that fails half-way leaves none of its writes in the chunk (each target
// is a nested transaction), and a job that cannot go on ends failed with the reason.
class BatchJobTargets : public LifecycleTest {
 protected:
  // u1 holds c1 (a valid certificate) and c2, whose relation names a certificate that is not in
  // the store: Lock user locks c1 and revokes its certificate, then fails on c2 (kNotFound).
  void SetUp() override {
    build_.user("u1");
    build_.credential("c1", CredentialType::kCard, "u1");
    cert1_ = build_.certificate(issuer_, 1, "c1");
    build_.credential("c2", CredentialType::kSoftToken, "u1");
    {
      WriteTransaction txn = store_.write();
      store_faults::relate_missing_certificate(txn, "c2", testing::key_for(issuer_, 99));
      txn.commit();
    }
    build_.user("u2");
    build_.credential("c3", CredentialType::kCard, "u2");
    cert3_ = build_.certificate(issuer_, 3, "c3");
  }

  BatchJobs jobs() { return BatchJobs(store_, config_, testing::fixed_clock()); }

  CertificateKey cert1_, cert3_;
};

TEST_F(BatchJobTargets, ATargetThatFailsHalfWayLeavesNothingOfItself) {
  const std::uint64_t id =
      jobs().create(config::kUsersProcLock, {"u1", "u2"}, "Key compromise", "alice", "test");
  const JobRecord job = jobs().run(id, 10);
  EXPECT_EQ(job.status, JobStatus::kDone);
  EXPECT_EQ(job.applied, 1u);
  EXPECT_EQ(job.failed, 1u);
  const StoreTransaction txn = store_.read();
  // u1's target failed: its first credential and certificate are as they were.
  EXPECT_EQ(txn.user("u1")->state, L::kActive);
  EXPECT_EQ(txn.credential("c1")->state, L::kActive);
  EXPECT_EQ(txn.certificate(cert1_)->status, S::kValid);
  // u2 was locked in the same chunk.
  EXPECT_EQ(txn.user("u2")->state, L::kLocked);
  EXPECT_EQ(txn.certificate(cert3_)->status, S::kRevoked);
  const auto failures = jobs().failures(id, 10);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].target, "u1");
}

TEST_F(BatchJobTargets, IdsThatCannotBeKeysAreRefusedBeforeTheJobExists) {
  for (const std::string& bad : {std::string(""), std::string(300, 'x'), std::string("a\0b", 3),
                                 std::string("\xff\xfe"), std::string("line\nbreak")}) {
    try {
      jobs().create(config::kUsersProcLock, {"u2", bad}, "Key compromise", "alice", "test");
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("target 2 of test"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(jobs().jobs().empty());
  EXPECT_EQ(
      refused(config::kUsersProcLock, "", "Key compromise", ErrorCode::kInvalidArgument).what(),
      std::string("the target is empty; give an id"));
}

TEST_F(BatchJobTargets, AJobThatCannotGoOnEndsFailedWithTheReasonAndCanBeResumed) {
  const std::uint64_t id =
      jobs().create(config::kUsersProcLock, {"u2"}, "Key compromise", "alice", "test");
  {
    WriteTransaction txn = store_.write();
    store_faults::overwrite_user(txn, "u2", "damaged");
    txn.commit();
  }
  EXPECT_THROW(jobs().run(id, 10), Error);
  JobRecord job = *jobs().job(id);
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_NE(job.failure.find("user"), std::string::npos) << job.failure;
  EXPECT_EQ(job.position, 0u);
  // Repaired, the job resumes where it stopped and ends done.
  build_.user("u2");
  job = jobs().run(id, 10);
  EXPECT_EQ(job.status, JobStatus::kDone);
  EXPECT_TRUE(job.failure.empty());
  EXPECT_EQ(store_.read().user("u2")->state, L::kLocked);
}

}  // namespace
}  // namespace revocore::lifecycle
