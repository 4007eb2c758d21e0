#include "crl/crl_signer.hpp"

#include <fmt/format.h>

#include "revocation/error.hpp"

namespace revocore::crl {

CrlSigner CrlSigner::load(std::string_view issuer_name, const std::filesystem::path& certificate,
                          const std::filesystem::path& private_key,
                          const std::filesystem::path& pkcs11_module) {
  const std::string owner = fmt::format("issuer '{}'", issuer_name);
  CrlSigner signer(pki::Signer::load(owner, "issuer", certificate, private_key, pkcs11_module));
  X509* cert = signer.signer_.certificate().handle();
  // RFC 5280 4.2.1.3: when keyUsage is present, cRLSign must be set to sign CRLs.
  if ((::X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
      !(::X509_get_key_usage(cert) & KU_CRL_SIGN)) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: the issuer certificate {} has a keyUsage without cRLSign, so it "
                            "may not sign CRLs",
                            owner, certificate.string()));
  }
  signer.issuer_name_ = signer.signer_.certificate().subject_der();
  if (const ASN1_OCTET_STRING* ski = ::X509_get0_subject_key_id(cert)) {
    signer.key_id_.assign(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(ski)),
                          static_cast<std::size_t>(::ASN1_STRING_length(ski)));
  } else {
    // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ::X509_pubkey_digest(cert, ::EVP_sha1(), digest, &length);
    signer.key_id_.assign(reinterpret_cast<const char*>(digest), length);
  }
  std::string probe;
  signer.signer_.sign("revocore: expected signature size", probe);
  signer.expected_signature_size_ = probe.size();
  return signer;
}

}  // namespace revocore::crl
