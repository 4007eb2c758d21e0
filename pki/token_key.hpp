#pragma once
// A private key that never leaves a PKCS#11 token (an HSM, a smart card, SoftHSM2), named by an
// RFC 7512 URI such as pkcs11:token=revocore;object=ca-2026;type=private;pin-source=file:pin.txt
//
// Why PKCS#11 called directly (through p11-kit, which loads modules and parses URIs) rather than
// OpenSSL's pkcs11 ENGINE (libp11 0.4.12 on Debian 12): that libp11 frees an EC key twice when it
// is loaded twice (fixed in 0.4.13) and breaks software EC operations once listed in
// openssl.cnf; OpenSSL 3.0 on Debian 12 has no pkcs11 provider. C_Sign over the digest maps one
// to one onto what every HSM offers, and the session pool here is ours to size.
//
// The PIN comes from pin-source (RFC 7512 "file:PATH", checked like key files: a regular file
// readable by its owner only; or revocore's "env:NAME"), is used for one C_Login and wiped. A
// pin-value in the URI is refused: the configuration is not a place for secrets.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace revocore::pki {

class TokenKey {
 public:
  enum class Mechanism { kEcdsa, kRsaPkcs1, kEddsa };

  // Finds the token and the private key the URI names, in `module` (a PKCS#11 library path), in
  // the URI's module-path, or else in every module p11-kit's configuration registers; logs in
  // once. Throws kInvalidConfig "<owner>: ..." naming the URI (never the PIN) and what to do.
  static std::unique_ptr<TokenKey> open(std::string_view owner, std::string_view uri,
                                        const std::filesystem::path& module);
  ~TokenKey();
  TokenKey(const TokenKey&) = delete;
  TokenKey& operator=(const TokenKey&) = delete;

  // C_Sign with `mechanism` over `input` (a digest for ECDSA, a DigestInfo for RSA, the message
  // for EdDSA) into `out`: ECDSA gives r || s as the token does. Safe from many threads at once
  // (a session per concurrent signature, from a pool). When the token is removed, throws
  // kSigning and reopens it on a later call, so a server recovers when it comes back; a refused
  // PIN is never tried again.
  void sign(Mechanism mechanism, std::string_view input, std::string& out) const;

  // The key's type as PKCS#11 names it (CKK_EC, CKK_RSA, CKK_EC_EDWARDS).
  unsigned long key_type() const noexcept;
  const std::string& uri() const noexcept;

 private:
  struct State;
  explicit TokenKey(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace revocore::pki
