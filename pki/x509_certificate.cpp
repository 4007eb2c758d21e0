#include "pki/x509_certificate.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::pki {

std::string drain_openssl_errors() {
  std::string out;
  while (const unsigned long code = ::ERR_get_error()) {
    char buffer[256];
    ::ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) {
      out += "; ";
    }
    out += buffer;
  }
  return out;
}

namespace {

std::string name_der(const X509_NAME* name) {
  unsigned char* out = nullptr;
  const int length = ::i2d_X509_NAME(name, &out);
  ScopedOpenSslBytes owned(out);
  if (length <= 0) {
    throw Error(ErrorCode::kInvalidCertificate, "cannot encode a certificate name");
  }
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
}

std::string name_text(const X509_NAME* name) {
  ScopedBio bio(::BIO_new(::BIO_s_mem()));
  ::X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace

std::vector<X509Certificate> X509Certificate::load_file(const std::filesystem::path& file) {
  constexpr std::size_t kMaxCertificateFileBytes = 64 << 20;  // a large PEM bundle
  return parse(read_regular_file(file, kMaxCertificateFileBytes, ErrorCode::kInvalidCertificate,
                                 "certificate file")
                   .bytes,
               file.string());
}

std::vector<X509Certificate> X509Certificate::parse(std::string_view bytes, std::string_view what) {
  std::vector<X509Certificate> out;
  if (bytes.find("-----BEGIN") != std::string_view::npos) {
    ScopedBio bio(::BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    while (X509* cert = ::PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      out.emplace_back(ScopedX509(cert));
    }
    ::ERR_clear_error();  // the loop ends on "no start line", which is not an error
  } else if (!bytes.empty()) {
    out.push_back(from_der(bytes, what));
  }
  if (out.empty()) {
    throw Error(ErrorCode::kInvalidCertificate,
                fmt::format("{} holds no PEM or DER X.509 certificate", what));
  }
  return out;
}

X509Certificate X509Certificate::from_der(std::string_view der, std::string_view what) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ScopedX509 cert(::d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    throw Error(ErrorCode::kInvalidCertificate,
                fmt::format("{} is not a DER X.509 certificate ({})", what,
                            cert ? "trailing bytes" : drain_openssl_errors()));
  }
  return X509Certificate(std::move(cert));
}

X509Certificate X509Certificate::share() const {
  ::X509_up_ref(cert_.get());
  return X509Certificate(ScopedX509(cert_.get()));
}

std::string X509Certificate::der() const {
  unsigned char* out = nullptr;
  const int length = ::i2d_X509(cert_.get(), &out);
  ScopedOpenSslBytes owned(out);
  if (length <= 0) {
    throw Error(ErrorCode::kInvalidCertificate, "cannot encode a certificate");
  }
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
}

std::string X509Certificate::pem() const {
  ScopedBio bio(::BIO_new(::BIO_s_mem()));
  ::PEM_write_bio_X509(bio.get(), cert_.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string X509Certificate::subject_der() const {
  return name_der(::X509_get_subject_name(cert_.get()));
}
std::string X509Certificate::issuer_der() const {
  return name_der(::X509_get_issuer_name(cert_.get()));
}
std::string X509Certificate::subject_text() const {
  return name_text(::X509_get_subject_name(cert_.get()));
}
std::string X509Certificate::issuer_text() const {
  return name_text(::X509_get_issuer_name(cert_.get()));
}

Serial X509Certificate::serial() const {
  return serial_of(::X509_get0_serialNumber(cert_.get()));
}

Serial serial_of(const ASN1_INTEGER* serial) {
  // Re-encode to DER to get the two's complement content octets the CertID and CRL use.
  unsigned char* out = nullptr;
  const int length = ::i2d_ASN1_INTEGER(serial, &out);
  ScopedOpenSslBytes owned(out);
  // Serials are at most 21 octets (RFC 5280 4.1.2.2), so a valid one has a short-form length; a
  // longer one (possible in a hostile OCSP request) is refused before it is read.
  if (length < 3 || (out[1] & 0x80) != 0 || out[1] + 2 != length) {
    throw Error(ErrorCode::kInvalidArgument, "a serial number is missing or longer than 20 octets");
  }
  return Serial::from_der_content(
      std::string_view(reinterpret_cast<const char*>(out) + 2, static_cast<std::size_t>(out[1])));
}

UnixTime X509Certificate::not_after() const {
  struct tm tm {};
  if (::ASN1_TIME_to_tm(::X509_get0_notAfter(cert_.get()), &tm) != 1) {
    throw Error(ErrorCode::kInvalidCertificate, "certificate has an unreadable notAfter");
  }
  return static_cast<UnixTime>(::timegm(&tm));
}

bool X509Certificate::is_issued_by(const X509Certificate& issuer) const {
  if (::X509_NAME_cmp(::X509_get_issuer_name(cert_.get()),
                      ::X509_get_subject_name(issuer.handle())) != 0) {
    return false;
  }
  EVP_PKEY* key = ::X509_get0_pubkey(issuer.handle());
  const bool verified = key != nullptr && ::X509_verify(cert_.get(), key) == 1;
  ::ERR_clear_error();
  return verified;
}

}  // namespace revocore::pki
