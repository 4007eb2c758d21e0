#include "pki/x509_crl.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::pki {

ScopedX509Crl load_crl_file(const std::filesystem::path& file) {
  constexpr std::size_t kMaxCrlFileBytes = std::size_t{1} << 30;
  const std::string bytes =
      read_regular_file(file, kMaxCrlFileBytes, ErrorCode::kNotFound, "the CRL").bytes;
  ScopedX509Crl crl;
  if (bytes.find("-----BEGIN X509 CRL") != std::string::npos) {
    ScopedBio bio(::BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    crl.reset(::PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    crl.reset(::d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
  }
  if (!crl) {
    throw Error(ErrorCode::kInvalidCertificate, fmt::format("{} is not a DER or PEM X.509 CRL ({})",
                                                            file.string(), drain_openssl_errors()));
  }
  return crl;
}

}  // namespace revocore::pki
