#include "revocation/error.hpp"

namespace revocore {

int exit_code_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kReasonNotOffered:
      return 2;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kWrongState:
    case ErrorCode::kIllegalTransition:
    case ErrorCode::kApprovalDenied:
      return 4;
    case ErrorCode::kDuplicate:
    case ErrorCode::kUnknownIssuer:
    case ErrorCode::kInvalidCertificate:
    case ErrorCode::kInvalidManifest:
      return 5;
    case ErrorCode::kInvalidConfig:
      return 6;
    case ErrorCode::kStoreCorrupt:
    case ErrorCode::kStoreVersion:
    case ErrorCode::kStoreFull:
    case ErrorCode::kStoreIo:
      return 7;
    case ErrorCode::kCrlNotPublished:
      return 8;
    case ErrorCode::kNotAuthenticated:
    case ErrorCode::kOperatorRefused:
      return 9;
    case ErrorCode::kIo:
      return 10;
    case ErrorCode::kNetwork:
      return 11;
    case ErrorCode::kSigning:
      return 12;
    case ErrorCode::kReplication:
      return 13;
    case ErrorCode::kPermissionDenied:
      return 14;
  }
  return 1;
}

}  // namespace revocore
