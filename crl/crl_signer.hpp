#pragma once
// An issuer's CRL signing key (pki::Signer) with what a CRL names of its issuer, checked once when
// loaded: the key matches the certificate, the certificate may sign CRLs (keyUsage cRLSign), the
// key file is private.
#include <filesystem>
#include <string>
#include <string_view>

#include "pki/signer.hpp"

namespace revocore::crl {

class CrlSigner {
 public:
  // Throws kInvalidConfig naming the issuer and the file for every problem.
  // `private_key` is a PEM file or a PKCS#11 URI in `pkcs11_module` (pki::Signer::load).
  static CrlSigner load(std::string_view issuer_name, const std::filesystem::path& certificate,
                        const std::filesystem::path& private_key,
                        const std::filesystem::path& pkcs11_module = {});

  // DER AlgorithmIdentifier, used for TBSCertList.signature and CertificateList.signatureAlgorithm.
  std::string_view algorithm_identifier() const noexcept { return signer_.algorithm_identifier(); }
  const std::string& issuer_name_der() const noexcept { return issuer_name_; }
  const std::string& key_identifier() const noexcept { return key_id_; }  // for AKI
  const pki::X509Certificate& certificate() const noexcept { return signer_.certificate(); }
  std::string_view algorithm_name() const noexcept { return signer_.algorithm().name; }

  // The size of a signature made when the key was loaded: RSA's and Ed25519's never change, an
  // ECDSA signature's may differ by an octet or two.
  std::size_t expected_signature_size() const noexcept { return expected_signature_size_; }

  // The signature over `tbs` into `signature` (for ECDSA, the DER Ecdsa-Sig-Value).
  void sign(std::string_view tbs, std::string& signature) const { signer_.sign(tbs, signature); }

 private:
  explicit CrlSigner(pki::Signer signer) : signer_(std::move(signer)) {}

  pki::Signer signer_;
  std::string issuer_name_;
  std::string key_id_;
  std::size_t expected_signature_size_ = 0;
};

}  // namespace revocore::crl
