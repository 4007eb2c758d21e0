#pragma once
// Domain vocabulary shared by every component: lifecycle states, credential types, certificate
// status and RFC 5280 reason codes, with their canonical spellings for configuration and output.
#include <cstdint>
#include <optional>
#include <string_view>

namespace revocore {

// State of a user, a credential, or a user-credential relation (relations use active/inactive).
enum class LifecycleState : std::uint8_t { kActive = 1, kInactive = 2, kLocked = 3 };

enum class CredentialType : std::uint8_t {
  kCard = 1,
  kTemporaryCard = 2,
  kVirtualSmartCard = 3,
  kMobileId = 4,
  kSoftToken = 5,
};
inline constexpr CredentialType kAllCredentialTypes[] = {
    CredentialType::kCard, CredentialType::kTemporaryCard, CredentialType::kVirtualSmartCard,
    CredentialType::kMobileId, CredentialType::kSoftToken};

// RFC 5280 5.3.1: valid certificates are absent from the CRL, held ones carry certificateHold.
enum class CertificateStatus : std::uint8_t { kValid = 0, kOnHold = 1, kRevoked = 2 };

// What a credential change does to the credential's certificates.
enum class CertificateTarget : std::uint8_t {
  kUnchanged,  // leave the certificates as they are
  kValid,      // release holds (on hold -> valid)
  kOnHold,     // hold valid certificates (certificateHold)
  kRevoked,    // revoke valid and held certificates
};

// RFC 5280 5.3.1 CRLReason; 7 is not used.
enum class ReasonCode : std::uint8_t {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

std::string_view to_string(LifecycleState state) noexcept;
std::string_view to_string(CredentialType type) noexcept;
std::string_view to_string(CertificateStatus status) noexcept;
std::string_view to_string(ReasonCode reason) noexcept;  // RFC 5280 name, e.g. "keyCompromise"

std::optional<LifecycleState> parse_lifecycle_state(std::string_view text) noexcept;
std::optional<CredentialType> parse_credential_type(std::string_view text) noexcept;
std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept;
std::optional<ReasonCode> parse_reason_code(std::string_view text) noexcept;

// Checked conversions from stored bytes; nullopt for a value this build does not know.
std::optional<LifecycleState> lifecycle_state_from_byte(std::uint8_t value) noexcept;
std::optional<CredentialType> credential_type_from_byte(std::uint8_t value) noexcept;
std::optional<CertificateStatus> certificate_status_from_byte(std::uint8_t value) noexcept;
std::optional<ReasonCode> reason_code_from_byte(std::uint8_t value) noexcept;

// Seconds since the Unix epoch, UTC. Every timestamp in the store uses it.
using UnixTime = std::int64_t;

}  // namespace revocore
