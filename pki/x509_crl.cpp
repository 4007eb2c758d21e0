#include "pki/x509_crl.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "revocation/error.hpp"

namespace revocore::pki {

ScopedX509Crl load_crl_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::kNotFound, fmt::format("cannot read {}", file.string()));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
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
