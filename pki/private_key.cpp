#include "pki/private_key.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "pki/x509_certificate.hpp"
#include "revocation/error.hpp"

namespace revocore::pki {
namespace {

[[noreturn]] void refuse(std::string_view owner, std::string message) {
  throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", owner, message));
}

}  // namespace

void check_private_key_permissions(std::string_view owner, const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    refuse(owner,
           fmt::format("cannot read the private key {}: {}", file.string(), std::strerror(errno)));
  }
  if ((info.st_mode & 077) != 0) {
    refuse(owner, fmt::format("the private key {} is readable by group or others (mode {:o}); "
                              "run `chmod 600 {}`",
                              file.string(), info.st_mode & 0777, file.string()));
  }
}

ScopedEvpPkey load_private_key(std::string_view owner, const std::filesystem::path& file) {
  check_private_key_permissions(owner, file);
  ScopedBio bio(::BIO_new_file(file.c_str(), "r"));
  ScopedEvpPkey key(bio ? ::PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                        : nullptr);
  if (!key) {
    refuse(owner, fmt::format("cannot read the private key {} as PEM ({})", file.string(),
                              drain_openssl_errors()));
  }
  return key;
}

const EVP_MD* signature_digest(std::string_view owner, EVP_PKEY* key) {
  switch (::EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t length = 0;
      ::EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length);
      const std::string_view name(group, length);
      if (name == "prime256v1" || name == "P-256")
        return ::EVP_sha256();
      if (name == "secp384r1" || name == "P-384")
        return ::EVP_sha384();
      if (name == "secp521r1" || name == "P-521")
        return ::EVP_sha512();
      refuse(owner, fmt::format("EC curve {} is not supported; use P-256 or P-384", name));
    }
    case EVP_PKEY_RSA: {
      const int bits = ::EVP_PKEY_get_bits(key);
      if (bits < 2048 || bits > 4096) {
        refuse(owner, fmt::format("RSA keys of {} bits are not supported; use 2048 to 4096", bits));
      }
      return ::EVP_sha256();
    }
    case EVP_PKEY_ED25519:
      return nullptr;
    default:
      refuse(owner, "the private key type is not supported; use EC P-256/P-384, RSA or Ed25519");
  }
}

}  // namespace revocore::pki
