#include "ocsp/responder_issuer.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "pki/der_writer.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {
namespace {

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ::EVP_Digest(data.data(), data.size(), out, &length, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

pki::X509Certificate load_ca(const std::string& owner, const std::filesystem::path& file) {
  try {
    return std::move(pki::X509Certificate::load_file(file).front());
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", owner, e.what()));
  }
}

// RFC 6960 4.2.2.2: a delegated responder certificate is issued by the CA itself and carries
// id-kp-OCSPSigning.
void check_delegated(const std::string& owner, const config::IssuerConfig& configured,
                     const pki::X509Certificate& ca, const pki::X509Certificate& responder) {
  if (!responder.is_issued_by(ca)) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: the OCSP responder certificate {} is not issued by {}", owner,
                            configured.ocsp_certificate.string(), configured.certificate.string()));
  }
  if (!(::X509_get_extended_key_usage(responder.handle()) & XKU_OCSP_SIGN)) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: the OCSP responder certificate {} lacks the extended key "
                            "usage id-kp-OCSPSigning",
                            owner, configured.ocsp_certificate.string()));
  }
}

}  // namespace

bool ResponderIssuer::is_named_by(const CertIdView& id) const noexcept {
  if (!id.hash) {
    return false;
  }
  const bool sha1 = *id.hash == HashAlgorithm::kSha1;
  return id.issuer_name_hash == (sha1 ? name_sha1 : name_sha256) &&
         id.issuer_key_hash == (sha1 ? key_sha1 : key_sha256);
}

std::vector<std::unique_ptr<ResponderIssuer>> load_responder_issuers(
    const config::Configuration& config, const StoreTransaction& txn,
    std::vector<std::string>* missing) {
  std::vector<std::unique_ptr<ResponderIssuer>> out;
  for (const auto& configured : config.issuers) {
    const std::string owner = fmt::format("issuer '{}'", configured.name);
    const bool delegated = !configured.ocsp_certificate.empty();
    if (!delegated && !configured.crl) {
      continue;  // no key: not served, requests for it get unauthorized
    }
    pki::X509Certificate ca = load_ca(owner, configured.certificate);
    pki::Signer signer =
        delegated ? pki::Signer::load(owner, "OCSP responder", configured.ocsp_certificate,
                                      configured.ocsp_private_key, configured.pkcs11_module)
                  : pki::Signer::load(owner, "issuer", configured.certificate,
                                      configured.crl->private_key, configured.pkcs11_module);
    if (delegated) {
      check_delegated(owner, configured, ca, signer.certificate());
    }
    const auto record = txn.issuer_by_name(configured.name);
    if (!record && missing != nullptr) {
      missing->push_back(configured.name);
      continue;
    }
    if (!record) {
      throw Error(ErrorCode::kNotFound,
                  fmt::format("{} is configured but not registered in the store; run `revocore "
                              "init` to register it",
                              owner));
    }
    auto issuer = std::make_unique<ResponderIssuer>(record->id, configured.name, std::move(ca),
                                                    std::move(signer), delegated);
    issuer->expired_ocsp = configured.expired_ocsp;
    issuer->archive_retention_seconds = configured.ocsp_archive_retention_seconds;
    unsigned char key_hash[EVP_MAX_MD_SIZE];
    unsigned int key_hash_length = 0;
    ::X509_pubkey_digest(issuer->signer.certificate().handle(), ::EVP_sha1(), key_hash,
                         &key_hash_length);
    der::Writer responder_id(issuer->responder_id);
    responder_id.explicit_tag(2, [&] {  // byKey [2] EXPLICIT KeyHash (OCTET STRING)
      responder_id.octet_string(
          std::string_view(reinterpret_cast<const char*>(key_hash), key_hash_length));
    });
    // A delegated responder's certificate goes in `certs` so clients can check it (RFC 6960
    // 4.2.2.2); the CA's own does not.
    if (delegated) {
      der::Writer certs(issuer->certs);
      certs.explicit_tag(
          0, [&] { certs.sequence([&] { certs.raw(issuer->signer.certificate().der()); }); });
    }
    const std::string subject = issuer->ca.subject_der();
    const ASN1_BIT_STRING* public_key = ::X509_get0_pubkey_bitstr(issuer->ca.handle());
    const std::string key_bits(reinterpret_cast<const char*>(public_key->data),
                               static_cast<std::size_t>(public_key->length));
    issuer->name_sha1 = digest(::EVP_sha1(), subject);
    issuer->key_sha1 = digest(::EVP_sha1(), key_bits);
    issuer->name_sha256 = digest(::EVP_sha256(), subject);
    issuer->key_sha256 = digest(::EVP_sha256(), key_bits);
    out.push_back(std::move(issuer));
  }
  return out;
}

}  // namespace revocore::ocsp
