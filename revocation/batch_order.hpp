#pragma once
// A BatchOrder sets the state of many credentials at once and moves their certificates as the
// caller's policy says, all inside the caller's write transaction: the credentials change, each
// certificate that needs it changes status, and the journal grows by one entry per certificate.
// This is the core's hot path: a lock job of 1,000,000 certificates is one call.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "revocation/records.hpp"
#include "revocation/types.hpp"

namespace revocore {

class Store;
class WriteTransaction;

struct CredentialChange {
  std::string credential_id;
  LifecycleState new_state = LifecycleState::kActive;
  CertificateTarget certificates = CertificateTarget::kUnchanged;
  ReasonCode revocation_reason = ReasonCode::kUnspecified;  // used when certificates == kRevoked
  std::optional<LifecycleState> relation_state;             // nullopt: relation unchanged
};

struct BatchOrder {
  std::string process;        // symbolic process name, recorded in the journal
  std::string operator_name;  // recorded in the journal
  UnixTime time = 0;
  std::optional<UnixTime> invalidity_date;  // RFC 5280 5.3.2, for revocations
  std::uint64_t audit_id = 0;               // the audit record this order belongs to
  std::vector<CredentialChange> changes;
};

struct CredentialOutcome {
  std::uint32_t change_index = 0;  // into BatchOrder::changes
  CredentialType type = CredentialType::kCard;
  LifecycleState old_state = LifecycleState::kActive;
  std::uint32_t certificates_changed = 0;
  // Certificates already at the target, or revoked (final) when the target was valid or on hold.
  std::uint32_t certificates_unchanged = 0;
};

struct BatchResult {
  std::vector<CredentialOutcome> credentials;  // one per change, in order
  std::uint64_t first_journal_sequence = 0;    // 0 when no certificate changed
  std::uint64_t last_journal_sequence = 0;
  std::uint64_t certificates_changed = 0;
  std::uint64_t certificates_unchanged = 0;
  std::uint64_t revoked = 0;
  std::uint64_t held = 0;
  std::uint64_t released = 0;
  // Issuers with at least one certificate changed: whose CRLs must be regenerated, once each.
  std::vector<IssuerId> issuers_changed;
};

// Applies the order inside `txn` without committing. Throws kNotFound for an unknown credential
// and kIllegalTransition for a credential change the state machine forbids; the caller then
// drops the transaction, so nothing of the order is applied.
BatchResult apply_batch_order(WriteTransaction& txn, const BatchOrder& order);

// Opens a write transaction, applies the order and commits: all of it or nothing.
BatchResult apply_batch_order(Store& store, const BatchOrder& order);

// One certificate to a new status, whatever its credential's state: a single key compromise,
// or a certificate registered on a credential that is not active. Journalled like a batch.
struct CertificateOrder {
  std::string process;
  std::string operator_name;
  UnixTime time = 0;
  std::optional<UnixTime> invalidity_date;
  std::uint64_t audit_id = 0;
  CertificateKey key;
  CertificateStatus status = CertificateStatus::kRevoked;
  ReasonCode reason = ReasonCode::kUnspecified;  // for a revocation
};

// Throws kNotFound for an unknown certificate and kIllegalTransition when the status cannot
// change so (revoked is final); a certificate already at the status is left (changed = 0).
BatchResult apply_certificate_order(WriteTransaction& txn, const CertificateOrder& order);

}  // namespace revocore
