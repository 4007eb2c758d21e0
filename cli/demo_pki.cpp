#include "cli/demo_pki.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "revocation/error.hpp"

namespace revocore::pki {
namespace {

[[noreturn]] void fail(std::string_view what) {
  throw Error(ErrorCode::kInvalidCertificate,
              fmt::format("{}; OpenSSL says: {}", what, drain_openssl_errors()));
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ScopedX509Extension extension(::X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!extension || ::X509_add_ext(cert, extension.get(), -1) != 1) {
    fail(fmt::format("cannot add extension {}", value));
  }
}

ScopedAsn1Integer random_serial() {
  unsigned char bytes[16];
  if (::RAND_bytes(bytes, sizeof bytes) != 1) {
    fail("cannot draw a random serial number");
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x01);  // positive, 16 octets
  ScopedBignum number(::BN_bin2bn(bytes, sizeof bytes, nullptr));
  return ScopedAsn1Integer(::BN_to_ASN1_INTEGER(number.get(), nullptr));
}

}  // namespace

ScopedEvpPkey generate_p256_key() {
  ScopedEvpPkey key(::EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    fail("cannot generate an EC P-256 key");
  }
  return key;
}

IssuedCertificate issue_certificate(const IssuanceProfile& profile,
                                    const IssuedCertificate* issuer) {
  ScopedEvpPkey key = generate_p256_key();
  ScopedX509 cert(::X509_new());
  ::X509_set_version(cert.get(), 2);  // X.509 v3
  ScopedAsn1Integer serial = random_serial();
  ::X509_set_serialNumber(cert.get(), serial.get());
  ::ASN1_TIME_set(::X509_getm_notBefore(cert.get()), static_cast<time_t>(profile.not_before));
  ::ASN1_TIME_set(::X509_getm_notAfter(cert.get()), static_cast<time_t>(profile.not_after));
  ::X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = ::X509_get_subject_name(cert.get());
  ::X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(profile.organisation.c_str()),
                               -1, -1, 0);
  ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(profile.common_name.c_str()),
                               -1, -1, 0);
  X509* signer_cert = issuer ? issuer->certificate.handle() : cert.get();
  EVP_PKEY* signer_key = issuer ? issuer->key.get() : key.get();
  ::X509_set_issuer_name(cert.get(), ::X509_get_subject_name(signer_cert));

  add_extension(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always");
  switch (profile.role) {
    case CertificateRole::kRootCa:
      add_extension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertificateRole::kIssuingCa:
      add_extension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      add_extension(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertificateRole::kOcspResponder:
      add_extension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer_cert, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer_cert, NID_ext_key_usage, "critical,OCSPSigning");
      // RFC 6960 4.2.2.2.1: relying parties need not check the responder certificate itself.
      add_extension(cert.get(), signer_cert, NID_id_pkix_OCSP_noCheck, "ignored");
      break;
    case CertificateRole::kEndEntity:
      add_extension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer_cert, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer_cert, NID_ext_key_usage, "clientAuth,emailProtection");
      break;
    case CertificateRole::kTlsServer:
      add_extension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer_cert, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer_cert, NID_ext_key_usage, "serverAuth");
      add_extension(cert.get(), signer_cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
      break;
  }
  if (::X509_sign(cert.get(), signer_key, ::EVP_sha256()) <= 0) {
    fail(fmt::format("cannot sign the certificate for {}", profile.common_name));
  }
  return IssuedCertificate{X509Certificate(std::move(cert)), std::move(key)};
}

void write_certificate_pem(const std::filesystem::path& file, const X509Certificate& certificate) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << certificate.pem();
  if (!out) {
    throw Error(ErrorCode::kIo, fmt::format("cannot write {}", file.string()));
  }
}

void write_private_key_pem(const std::filesystem::path& file, EVP_PKEY* key) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error(ErrorCode::kIo, fmt::format("cannot create {}", file.string()));
  }
  ::fchmod(fd, 0600);  // also when the file existed with a wider mode
  ScopedBio bio(::BIO_new_fd(fd, BIO_CLOSE));
  if (::PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail(fmt::format("cannot write the private key {}", file.string()));
  }
}

}  // namespace revocore::pki
