#pragma once
// The two state machines of the core.
//
// Certificates (RFC 5280 5.3.1): valid -> on hold (certificateHold), on hold -> valid (release,
// removeFromCRL in a delta CRL), valid or on hold -> revoked. Revoked is final.
//
// Credentials: active <-> inactive, active or inactive -> locked. Locked is final.
#include <string_view>

#include "revocation/records.hpp"
#include "revocation/types.hpp"

namespace revocore {

class WriteTransaction;

bool is_legal_transition(CertificateStatus from, CertificateStatus to) noexcept;
bool is_legal_transition(LifecycleState from, LifecycleState to) noexcept;

// A single certificate status change with its journal entry, for callers that change one
// certificate at a time (tests, the future per-certificate API). Throws kNotFound for an unknown
// certificate and kIllegalTransition for a change the state machine forbids; on hold always
// records certificateHold, whatever `reason` says.
struct CertificateStatusChange {
  CertificateKey certificate;
  CertificateStatus new_status = CertificateStatus::kRevoked;
  ReasonCode reason = ReasonCode::kUnspecified;
  UnixTime time = 0;
  std::string_view process;
  std::string_view operator_name;
  std::uint64_t audit_id = 0;
};
// Returns the journal sequence of the change.
std::uint64_t set_certificate_status(WriteTransaction& txn, const CertificateStatusChange& change);

}  // namespace revocore
