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
};

// A configured issuer with its store id and certificate.
struct RegisteredIssuer {
  IssuerId id = 0;
  std::string name;
  pki::X509Certificate certificate;
};

// Makes sure every configured issuer is in the store (inside `txn`) and returns them. Refuses an
// issuer whose stored certificate differs from the configured one.
std::vector<RegisteredIssuer> register_issuers(WriteTransaction& txn,
                                               const config::Configuration& config);

ImportSummary import_certificates(Store& store, const config::Configuration& config,
                                  const ImportRequest& request, const Clock& clock);

}  // namespace revocore::importer
