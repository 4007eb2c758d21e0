#pragma once
// `revocore import`: registers certificates with their credentials and users, in one write
// transaction. Either every certificate of the manifest is imported or none is.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "importer/manifest.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::importer {

struct ImportRequest {
  std::filesystem::path manifest;
  // Certificate files or directories of them. Empty: the manifest's certificate column holds
  // paths relative to the manifest. Otherwise each file is matched to the manifest line that
  // names its file name, and every file and every line must find its partner.
  std::vector<std::filesystem::path> sources;
  std::string operator_name;
};

struct ImportSummary {
  std::uint64_t certificates = 0;
  std::uint64_t users_created = 0;
  std::uint64_t credentials_created = 0;
  std::uint64_t audit_id = 0;
  // Certificates registered on a credential that is not active (docs: "Registration follows
  // the credential"): held on an inactive one, revoked on a locked one.
  std::uint64_t held = 0;
  std::uint64_t revoked = 0;
  std::vector<IssuerId> issuers_changed;  // whose CRLs must be regenerated
};

// A configured issuer with its store id and certificate.
struct RegisteredIssuer {
  IssuerId id = 0;
  std::string name;
  pki::X509Certificate certificate;
  std::uint16_t crl_shards = 1;  // new certificates are bound to one of this many CRL shards
};

// Makes sure every configured issuer is in the store (inside `txn`) and returns them. Refuses an
// issuer whose stored certificate differs from the configured one.
std::vector<RegisteredIssuer> register_issuers(WriteTransaction& txn,
                                               const config::Configuration& config);

// What an issuing CA sends after issuance (the operator API's POST /api/v1/certificates): the
// certificates of one credential of one user. The user and credential are created when new.
struct CertificateRegistration {
  std::string certificates;  // one or more PEM certificates, or one DER certificate
  std::string credential_id;
  CredentialType type = CredentialType::kCard;
  std::string user_id;
  std::string user_name;  // used when the user is new
  std::string operator_name;
};

// Registers them in one write transaction, audited; all or nothing. Throws kInvalidArgument,
// kInvalidCertificate, kInvalidManifest (the credential belongs to someone else or is of another
// type), kUnknownIssuer, kDuplicate.
ImportSummary register_certificates(Store& store, const config::Configuration& config,
                                    const CertificateRegistration& registration,
                                    const Clock& clock);

ImportSummary import_certificates(Store& store, const config::Configuration& config,
                                  const ImportRequest& request, const Clock& clock);

}  // namespace revocore::importer
