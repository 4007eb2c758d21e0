#pragma once
// An X.509 certificate as revocore needs it: issuer and serial (the store key), not-after, names
// for people, and a signature check against a candidate issuer.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pki/openssl_handles.hpp"
#include "revocation/serial.hpp"
#include "revocation/types.hpp"

namespace revocore::pki {

// The DER INTEGER content octets of an ASN1_INTEGER, as the store keys certificates.
Serial serial_of(const ASN1_INTEGER* integer);

class X509Certificate {
 public:
  explicit X509Certificate(ScopedX509 cert) : cert_(std::move(cert)) {}

  // Reads a file of one DER certificate or one or more PEM certificates. Throws
  // kInvalidCertificate naming the file when it holds none.
  static std::vector<X509Certificate> load_file(const std::filesystem::path& file);
  // The same from bytes in memory; `what` names them in messages.
  static std::vector<X509Certificate> parse(std::string_view bytes, std::string_view what);
  static X509Certificate from_der(std::string_view der, std::string_view what);

  // Another owner of the same certificate (reference counted, no copy).
  X509Certificate share() const;

  std::string der() const;
  std::string pem() const;
  std::string subject_der() const;
  std::string issuer_der() const;
  std::string subject_text() const;  // RFC 2253
  std::string issuer_text() const;
  Serial serial() const;
  UnixTime not_after() const;
  // True when `issuer`'s subject is this certificate's issuer and its key verifies the signature.
  bool is_issued_by(const X509Certificate& issuer) const;

  X509* handle() const noexcept { return cert_.get(); }

 private:
  ScopedX509 cert_;
};

}  // namespace revocore::pki
