#include "revocation/types.hpp"

#include <array>
#include <utility>

#include "revocation/error.hpp"

namespace revocore {
namespace {

template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

constexpr NameTable<LifecycleState, 3> kStateNames{{
    {LifecycleState::kActive, "active"},
    {LifecycleState::kInactive, "inactive"},
    {LifecycleState::kLocked, "locked"},
}};

constexpr NameTable<CredentialType, 5> kTypeNames{{
    {CredentialType::kCard, "card"},
    {CredentialType::kTemporaryCard, "temporary_card"},
    {CredentialType::kVirtualSmartCard, "virtual_smart_card"},
    {CredentialType::kMobileId, "mobile_id"},
    {CredentialType::kSoftToken, "soft_token"},
}};

constexpr NameTable<CertificateStatus, 3> kStatusNames{{
    {CertificateStatus::kValid, "valid"},
    {CertificateStatus::kOnHold, "on_hold"},
    {CertificateStatus::kRevoked, "revoked"},
}};

constexpr NameTable<ReasonCode, 10> kReasonNames{{
    {ReasonCode::kUnspecified, "unspecified"},
    {ReasonCode::kKeyCompromise, "keyCompromise"},
    {ReasonCode::kCaCompromise, "cACompromise"},
    {ReasonCode::kAffiliationChanged, "affiliationChanged"},
    {ReasonCode::kSuperseded, "superseded"},
    {ReasonCode::kCessationOfOperation, "cessationOfOperation"},
    {ReasonCode::kCertificateHold, "certificateHold"},
    {ReasonCode::kRemoveFromCrl, "removeFromCRL"},
    {ReasonCode::kPrivilegeWithdrawn, "privilegeWithdrawn"},
    {ReasonCode::kAaCompromise, "aACompromise"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) noexcept {
  for (const auto& [entry, name] : table) {
    if (entry == value) {
      return name;
    }
  }
  return "invalid";
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(const NameTable<Enum, N>& table, std::string_view text) noexcept {
  for (const auto& [entry, name] : table) {
    if (name == text) {
      return entry;
    }
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::optional<Enum> from_byte(const NameTable<Enum, N>& table, std::uint8_t value) noexcept {
  for (const auto& [entry, name] : table) {
    if (static_cast<std::uint8_t>(entry) == value) {
      return entry;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(LifecycleState state) noexcept {
  return name_of(kStateNames, state);
}
std::string_view to_string(CredentialType type) noexcept {
  return name_of(kTypeNames, type);
}
std::string_view to_string(CertificateStatus status) noexcept {
  return name_of(kStatusNames, status);
}
std::string_view to_string(ReasonCode reason) noexcept {
  return name_of(kReasonNames, reason);
}

std::optional<LifecycleState> parse_lifecycle_state(std::string_view text) noexcept {
  return parse_name(kStateNames, text);
}
std::optional<CredentialType> parse_credential_type(std::string_view text) noexcept {
  return parse_name(kTypeNames, text);
}
std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept {
  return parse_name(kStatusNames, text);
}
std::optional<ReasonCode> parse_reason_code(std::string_view text) noexcept {
  return parse_name(kReasonNames, text);
}

std::optional<LifecycleState> lifecycle_state_from_byte(std::uint8_t value) noexcept {
  return from_byte(kStateNames, value);
}
std::optional<CredentialType> credential_type_from_byte(std::uint8_t value) noexcept {
  return from_byte(kTypeNames, value);
}
std::optional<CertificateStatus> certificate_status_from_byte(std::uint8_t value) noexcept {
  return from_byte(kStatusNames, value);
}
std::optional<ReasonCode> reason_code_from_byte(std::uint8_t value) noexcept {
  return from_byte(kReasonNames, value);
}

}  // namespace revocore
