#pragma once
// What a response says of one certificate (RFC 6960 4.2.1):
//
//   CertStatus ::= CHOICE {
//       good        [0]     IMPLICIT NULL,
//       revoked     [1]     IMPLICIT RevokedInfo,
//       unknown     [2]     IMPLICIT UnknownInfo }
//
// Only these three: a request-level outcome (malformedRequest, unauthorized) is an
// OCSPResponseStatus and cannot be put in a SingleResponse.
#include <optional>

#include "revocation/types.hpp"

namespace revocore::ocsp {

class CertStatus {
 public:
  enum class Kind : std::uint8_t { kGood, kRevoked, kUnknown };

  static CertStatus good() noexcept { return CertStatus(Kind::kGood, 0, std::nullopt); }
  // An on-hold certificate is revoked with reason certificateHold (RFC 6960 2.2). No reason:
  // revoked without one (RFC 5280 5.3.1, unspecified is left out).
  static CertStatus revoked(UnixTime revocation_time, std::optional<ReasonCode> reason) noexcept {
    return CertStatus(Kind::kRevoked, revocation_time, reason);
  }
  static CertStatus unknown() noexcept { return CertStatus(Kind::kUnknown, 0, std::nullopt); }

  Kind kind() const noexcept { return kind_; }
  UnixTime revocation_time() const noexcept { return revocation_time_; }
  std::optional<ReasonCode> reason() const noexcept { return reason_; }

 private:
  CertStatus(Kind kind, UnixTime time, std::optional<ReasonCode> reason) noexcept
      : kind_(kind), revocation_time_(time), reason_(reason) {}
  Kind kind_;
  UnixTime revocation_time_;
  std::optional<ReasonCode> reason_;
};

}  // namespace revocore::ocsp
