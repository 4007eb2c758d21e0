#include "crl/crl_signer.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/private_key.hpp"
#include "revocation/error.hpp"

namespace revocore::crl {
namespace {

[[noreturn]] void refuse(std::string_view issuer, std::string message) {
  throw Error(ErrorCode::kInvalidConfig, fmt::format("issuer '{}': {}", issuer, message));
}

}  // namespace

CrlSigner CrlSigner::load(std::string_view issuer_name, const std::filesystem::path& certificate,
                          const std::filesystem::path& private_key) {
  std::vector<pki::X509Certificate> certificates;
  try {
    certificates = pki::X509Certificate::load_file(certificate);
  } catch (const Error& e) {
    refuse(issuer_name, e.what());
  }
  pki::ScopedEvpPkey key =
      pki::load_private_key(fmt::format("issuer '{}'", issuer_name), private_key);
  CrlSigner signer(std::move(certificates.front()), std::move(key));
  signer.issuer_ = std::string(issuer_name);
  X509* cert = signer.certificate_.handle();

  if (::X509_check_private_key(cert, signer.key_.get()) != 1) {
    ::ERR_clear_error();
    refuse(issuer_name, fmt::format("the private key {} does not match the issuer certificate {}",
                                    private_key.string(), certificate.string()));
  }
  // RFC 5280 4.2.1.3: when keyUsage is present, cRLSign must be set to sign CRLs.
  if ((::X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
      !(::X509_get_key_usage(cert) & KU_CRL_SIGN)) {
    refuse(issuer_name,
           fmt::format("the issuer certificate {} has a keyUsage without cRLSign, so it may not "
                       "sign CRLs",
                       certificate.string()));
  }

  signer.algorithm_ =
      pki::signature_algorithm(fmt::format("issuer '{}'", issuer_name), signer.key_.get());

  signer.issuer_name_ = signer.certificate_.subject_der();
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
  return signer;
}

std::string CrlSigner::sign(std::string_view tbs) const {
  pki::ScopedEvpMdCtx ctx(::EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(tbs.data());
  if (!ctx ||
      ::EVP_DigestSignInit_ex(ctx.get(), nullptr,
                              algorithm_.digest ? ::EVP_MD_get0_name(algorithm_.digest) : nullptr,
                              nullptr, nullptr, key_.get(), nullptr) != 1 ||
      ::EVP_DigestSign(ctx.get(), nullptr, &length, data, tbs.size()) != 1) {
    throw Error(ErrorCode::kSigning, fmt::format("issuer '{}': cannot start signing: {}", issuer_,
                                                 pki::drain_openssl_errors()));
  }
  std::string signature(length, '\0');
  if (::EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                       tbs.size()) != 1) {
    throw Error(ErrorCode::kSigning, fmt::format("issuer '{}': signing failed: {}", issuer_,
                                                 pki::drain_openssl_errors()));
  }
  signature.resize(length);
  return signature;
}

}  // namespace revocore::crl
