#pragma once
// A small certificate authority made with OpenSSL, for `revocore demo` and for tests that need
// real certificates: a root, an issuing CA, an OCSP responder certificate and end-entity
// certificates for credentials. EC P-256 keys throughout; random 16-octet serials.
#include <filesystem>
#include <string>

#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"

namespace revocore::pki {

// kEndEntity certificates allow clientAuth (also used for operators of the API); kTlsServer is a
// server certificate for localhost and 127.0.0.1.
enum class CertificateRole { kRootCa, kIssuingCa, kOcspResponder, kEndEntity, kTlsServer };

struct IssuanceProfile {
  CertificateRole role = CertificateRole::kEndEntity;
  std::string common_name;
  std::string organisation = "revocore demo";
  UnixTime not_before = 0;
  UnixTime not_after = 0;
};

struct IssuedCertificate {
  X509Certificate certificate;
  ScopedEvpPkey key;
};

ScopedEvpPkey generate_p256_key();

// Issues a certificate for a new key; self-signed when `issuer` is null (roots).
IssuedCertificate issue_certificate(const IssuanceProfile& profile,
                                    const IssuedCertificate* issuer);

void write_certificate_pem(const std::filesystem::path& file, const X509Certificate& certificate);
// Written with mode 0600: a private key must not be readable by group or others.
void write_private_key_pem(const std::filesystem::path& file, EVP_PKEY* key);

}  // namespace revocore::pki
