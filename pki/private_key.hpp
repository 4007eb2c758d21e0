#pragma once
// Private keys from PEM files, refused when the file is readable by group or others (as ssh
// refuses them). `owner` names who the key is for in messages, e.g. "issuer 'ca'".
#include <filesystem>
#include <string_view>

#include "pki/openssl_handles.hpp"

namespace revocore::pki {

// Throws kInvalidConfig "<owner>: ..." naming the file: unreadable, not a regular file (a FIFO
// or device is refused at once), readable by group or others, or not a PEM private key.
ScopedEvpPkey load_private_key(std::string_view owner, const std::filesystem::path& file);

// The digest to sign with for this key: SHA-256/384/512 by EC curve, SHA-256 for RSA, none for
// Ed25519 (which hashes internally). Throws kInvalidConfig for other keys.
const EVP_MD* signature_digest(std::string_view owner, EVP_PKEY* key);

// How this key signs what revocore encodes itself (CRLs, OCSP responses): ECDSA with the
// curve's SHA-2 (RFC 5758 3.2), RSA PKCS#1 v1.5 with SHA-256 (RFC 4055 5), Ed25519 (RFC 8410 3).
struct SignatureAlgorithm {
  const EVP_MD* digest = nullptr;   // null for Ed25519
  std::string_view identifier_der;  // the DER AlgorithmIdentifier
  std::string_view name;            // e.g. "ecdsa-with-SHA256"
};
SignatureAlgorithm signature_algorithm(std::string_view owner, EVP_PKEY* key);

}  // namespace revocore::pki
