#pragma once
// A SoftHSM2 token of its own for one test: a softhsm2.conf and token directory in a temporary
// directory (SOFTHSM2_CONF points there for this process and the tools it runs), keys generated
// inside the token with pkcs11-tool (OpenSC), and certificates for them issued by a root CA
// whose key is a file, made with `openssl x509 -new -force_pubkey`.
#include <filesystem>
#include <string>

#include "tests/test_support.hpp"

namespace revocore::testing {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

class SoftHsmToken {
 public:
  // The PIN is unusual on purpose: tests look for it in every message and log.
  static constexpr const char* kPin = "pin-7Q4z-never-shown";

  explicit SoftHsmToken(const std::filesystem::path& directory,
                        const std::string& label = "revocore");

  // Generates a key pair inside the token: "EC:prime256v1", "EC:secp384r1", "rsa:2048",
  // "EC:edwards25519". `id` is hex.
  void generate(const std::string& key_type, const std::string& object, const std::string& id);
  // A CA certificate (or, with `ocsp_signing`, a delegated OCSP responder certificate) for the
  // token's public key `id`, issued by the root, written to `out`.
  void certify(const std::string& id, const std::string& common_name,
               const std::filesystem::path& out, bool ocsp_signing = false);
  // The PIN in a file of mode 600 (or `mode`), and a URI naming `object` with it.
  std::filesystem::path pin_file(unsigned mode = 0600) const;
  std::string uri(const std::string& object) const;

  const std::filesystem::path& root_certificate() const { return root_; }
  const std::filesystem::path& root_key() const { return root_key_; }
  const std::string& label() const { return label_; }
  // `pkcs11-tool` with the module and token, for what a test needs besides.
  std::string tool() const;

 private:
  std::filesystem::path directory_;
  std::string label_;
  std::filesystem::path root_;
  std::filesystem::path root_key_;
};

}  // namespace revocore::testing
