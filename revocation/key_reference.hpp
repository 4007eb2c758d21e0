#pragma once
// Where a private key is: a PEM file, or a key in a PKCS#11 token named by an RFC 7512 URI
// (pki/token_key.hpp). Configuration keeps a URI as written and resolves a file name against
// the configuration's directory.
#include <string_view>

namespace revocore {

inline bool is_pkcs11_uri(std::string_view key_reference) noexcept {
  return key_reference.starts_with("pkcs11:");
}

}  // namespace revocore
