#pragma once
// A private key with its certificate, signing what revocore encodes itself: CRLs and OCSP
// responses. The one place a signature is made, so that a key in a hardware token plugs in here.
// Loading checks the key (a private file, a supported type) and that it matches the certificate;
// the algorithm follows the key: ECDSA with SHA-256/384/512 by curve (RFC 5758 3.2), RSA PKCS#1
// v1.5 with SHA-256 (RFC 4055 5), Ed25519 (RFC 8410 3).
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "pki/openssl_handles.hpp"
#include "pki/private_key.hpp"
#include "pki/token_key.hpp"
#include "pki/x509_certificate.hpp"

namespace revocore::pki {

class Signer {
 public:
  // `owner` names who signs in messages ("issuer 'ca'"), `role` the certificate ("issuer", "OCSP
  // responder"). `private_key` is a PEM file or a PKCS#11 URI (RFC 7512), whose module is
  // `pkcs11_module` (empty: the URI's module-path, else p11-kit's registered modules). Either way
  // the key must match the certificate. Throws kInvalidConfig "<owner>: ..." naming the file or
  // URI (never a PIN) for every problem.
  static Signer load(std::string_view owner, std::string_view role,
                     const std::filesystem::path& certificate,
                     const std::filesystem::path& private_key,
                     const std::filesystem::path& pkcs11_module = {});
  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  ~Signer();

  const X509Certificate& certificate() const noexcept { return certificate_; }
  const SignatureAlgorithm& algorithm() const noexcept { return algorithm_; }
  // DER AlgorithmIdentifier of the signatures this signer makes.
  std::string_view algorithm_identifier() const noexcept { return algorithm_.identifier_der; }

  // The signature over `tbs` into `signature` (its capacity reused; for ECDSA the DER
  // Ecdsa-Sig-Value). Safe from many threads at once. Throws kSigning.
  void sign(std::string_view tbs, std::string& signature) const;
  // True when `signature` over `message` verifies with the certificate's public key.
  bool verifies(std::string_view message, std::string_view signature) const;

 private:
  struct Context;
  struct ContextPool;
  Signer(X509Certificate certificate, ScopedEvpPkey key, std::string owner);
  std::unique_ptr<Context> new_context() const;
  void sign_with_token(std::string_view tbs, std::string& signature) const;

  X509Certificate certificate_;
  ScopedEvpPkey key_;                // a file key; null when the key is in a token
  std::unique_ptr<TokenKey> token_;  // a token key; null for a file key
  SignatureAlgorithm algorithm_;
  ScopedEvpMd digest_;  // algorithm_.digest fetched from the provider once; null for Ed25519
  std::string owner_;
  // Signing contexts set up once and reused, owned by this signer (none outlives it).
  std::unique_ptr<ContextPool> pool_;
};

}  // namespace revocore::pki
