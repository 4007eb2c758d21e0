#pragma once
// The issuer's signing key and certificate, checked once when loaded: the key matches the
// certificate, the certificate may sign CRLs, the key file is private. Signs with the algorithm
// that fits the key: ECDSA with SHA-256/384/512 by curve (RFC 5758), RSA PKCS#1 v1.5 with SHA-256
// (RFC 4055), Ed25519 (RFC 8410).
#include <filesystem>
#include <string>
#include <string_view>

#include "pki/openssl_handles.hpp"
#include "pki/private_key.hpp"
#include "pki/x509_certificate.hpp"

namespace revocore::crl {

class CrlSigner {
 public:
  // Throws kInvalidConfig naming the issuer and the file for every problem.
  static CrlSigner load(std::string_view issuer_name, const std::filesystem::path& certificate,
                        const std::filesystem::path& private_key);

  // DER AlgorithmIdentifier, used for TBSCertList.signature and CertificateList.signatureAlgorithm.
  std::string_view algorithm_identifier() const noexcept { return algorithm_.identifier_der; }
  const std::string& issuer_name_der() const noexcept { return issuer_name_; }
  const std::string& key_identifier() const noexcept { return key_id_; }  // for AKI
  const pki::X509Certificate& certificate() const noexcept { return certificate_; }
  std::string_view algorithm_name() const noexcept { return algorithm_.name; }

  // The signature over `tbs` (for ECDSA, the DER Ecdsa-Sig-Value).
  std::string sign(std::string_view tbs) const;

 private:
  CrlSigner(pki::X509Certificate certificate, pki::ScopedEvpPkey key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}

  pki::X509Certificate certificate_;
  pki::ScopedEvpPkey key_;
  pki::SignatureAlgorithm algorithm_;
  std::string issuer_name_;
  std::string key_id_;
  std::string issuer_;  // configured name, for messages
};

}  // namespace revocore::crl
