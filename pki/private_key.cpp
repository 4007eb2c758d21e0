#include "pki/private_key.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "pki/x509_certificate.hpp"
#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::pki {
namespace {

[[noreturn]] void refuse(std::string_view owner, std::string message) {
  throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", owner, message));
}

}  // namespace

ScopedEvpPkey load_private_key(std::string_view owner, const std::filesystem::path& file) {
  // Mode and content come from the same descriptor; a FIFO or device is refused without
  // blocking. A PEM private key is a few kilobytes.
  constexpr std::size_t kMaxKeyFileBytes = 1 << 20;
  RegularFile pem;
  try {
    pem = read_regular_file(file, kMaxKeyFileBytes, ErrorCode::kInvalidConfig, "the private key");
  } catch (const Error& e) {
    refuse(owner, e.what());
  }
  if ((pem.mode & 077) != 0) {
    refuse(owner, fmt::format("the private key {} is readable by group or others (mode {:o}); "
                              "run `chmod 600 {}`",
                              file.string(), pem.mode & 0777, file.string()));
  }
  ScopedBio bio(::BIO_new_mem_buf(pem.bytes.data(), static_cast<int>(pem.bytes.size())));
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

SignatureAlgorithm signature_algorithm(std::string_view owner, EVP_PKEY* key) {
  // AlgorithmIdentifier DER for each supported key (RFC 5758 3.2, RFC 4055 5, RFC 8410 3).
  static constexpr std::string_view kEcdsaSha256{"\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02",
                                                 12};
  static constexpr std::string_view kEcdsaSha384{"\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03",
                                                 12};
  static constexpr std::string_view kEcdsaSha512{"\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04",
                                                 12};
  static constexpr std::string_view kRsaSha256{
      "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00", 15};
  static constexpr std::string_view kEd25519{"\x30\x05\x06\x03\x2b\x65\x70", 7};

  const EVP_MD* digest = signature_digest(owner, key);
  if (digest == nullptr) {
    return {nullptr, kEd25519, "Ed25519"};
  }
  if (::EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    return {digest, kRsaSha256, "sha256WithRSAEncryption"};
  }
  if (digest == ::EVP_sha256()) {
    return {digest, kEcdsaSha256, "ecdsa-with-SHA256"};
  }
  if (digest == ::EVP_sha384()) {
    return {digest, kEcdsaSha384, "ecdsa-with-SHA384"};
  }
  return {digest, kEcdsaSha512, "ecdsa-with-SHA512"};
}

}  // namespace revocore::pki
