#pragma once
// Reading a CRL file someone else may have written: PEM or DER.
#include <filesystem>

#include "pki/openssl_handles.hpp"

namespace revocore::pki {

// Throws kNotFound when the file cannot be read, kInvalidCertificate when it holds no CRL.
ScopedX509Crl load_crl_file(const std::filesystem::path& file);

}  // namespace revocore::pki
