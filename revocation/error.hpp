#pragma once
// The one error type that crosses revocore's module boundaries. Every message names what was wrong
// and, where there is one, what the person reading it can do about it.
#include <stdexcept>
#include <string>

namespace revocore {

enum class ErrorCode {
  kInvalidArgument,     // a value given by the caller is malformed (an id, a serial, an option)
  kNotFound,            // the user, credential, certificate, issuer or request does not exist
  kWrongState,          // the object exists but is not in the state the process requires
  kIllegalTransition,   // a status change that RFC 5280 or the credential model forbids
  kReasonNotOffered,    // the reason is not in the configured list for that process
  kDuplicate,           // a certificate (issuer, serial) or request already exists
  kUnknownIssuer,       // a certificate whose issuer is not configured
  kInvalidCertificate,  // a file that is not a readable X.509 certificate
  kInvalidManifest,     // an import manifest line that cannot be used
  kInvalidConfig,       // the TOML configuration is refused
  kApprovalDenied,      // an approval that the rules forbid (own request, already decided)
  kStoreCorrupt,        // the data directory is not a revocore store, or is damaged
  kStoreVersion,        // the data directory has a schema version this build does not know
  kStoreFull,           // LMDB's map is full
  kStoreIo,             // any other LMDB failure, or the store directory's file system
  kIo,                  // a file outside the store: a CRL, a key, a demo or configuration file
  kNetwork,             // a socket: a port in use, an address that cannot be bound
  kSigning,             // a private key that cannot sign (a signing context, a token)
  kCrlNotPublished,     // a process was applied, but its CRL could not be published
  kNotAuthenticated,    // the operator API got no client certificate
  kOperatorRefused,     // the operator API refused the client certificate presented
  kReplication,         // a replication message that cannot be applied (a gap, a foreign writer,
                        // an unknown schema, a signature that does not verify)
  kPermissionDenied,    // an authenticated operator whose roles do not grant what was asked
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Process exit status for an error code, so scripts can tell "wrong state" from "corrupt store".
int exit_code_for(ErrorCode code) noexcept;

}  // namespace revocore
