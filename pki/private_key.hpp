#pragma once
// Private keys from PEM files, refused when the file is readable by group or others (as ssh
// refuses them). `owner` names who the key is for in messages, e.g. "issuer 'ca'".
#include <filesystem>
#include <string_view>

#include "pki/openssl_handles.hpp"

namespace revocore::pki {

// Throws kInvalidConfig "<owner>: ..." naming the file.
void check_private_key_permissions(std::string_view owner, const std::filesystem::path& file);
ScopedEvpPkey load_private_key(std::string_view owner, const std::filesystem::path& file);

// The digest to sign with for this key: SHA-256/384/512 by EC curve, SHA-256 for RSA, none for
// Ed25519 (which hashes internally). Throws kInvalidConfig for other keys.
const EVP_MD* signature_digest(std::string_view owner, EVP_PKEY* key);

}  // namespace revocore::pki
