#include "replication/feed_signature.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>

#include "pki/private_key.hpp"
#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::replication {

namespace {

// What is signed: a label, the subject and the body, so that neither can be swapped.
std::string signed_bytes(std::string_view subject, std::string_view body) {
  std::string out = "revocore-feed-v1";
  out.push_back('\0');
  out.append(subject);
  out.push_back('\0');
  out.append(body);
  return out;
}

void require_ed25519(EVP_PKEY* key, const std::filesystem::path& file, std::string_view what) {
  if (::EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{} holds a {} key, but feed messages are signed with Ed25519; make "
                            "one with `openssl genpkey -algorithm ed25519` ({})",
                            file.string(), ::EVP_PKEY_get0_type_name(key), what));
  }
}

}  // namespace

FeedSigner FeedSigner::load(const std::filesystem::path& file) {
  pki::ScopedEvpPkey key = pki::load_private_key("[replication] signing_key", file);
  require_ed25519(key.get(), file, "[replication] signing_key");
  return FeedSigner(std::move(key));
}

void FeedSigner::sign(std::string_view subject, std::string& message) const {
  const std::string tbs = signed_bytes(subject, message);
  pki::ScopedEvpMdCtx ctx(::EVP_MD_CTX_new());
  unsigned char signature[kSignatureSize];
  std::size_t length = sizeof signature;
  if (!ctx || ::EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      ::EVP_DigestSign(ctx.get(), signature, &length,
                       reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1 ||
      length != kSignatureSize) {
    throw Error(ErrorCode::kSigning, "cannot sign a feed message with [replication] signing_key" +
                                         pki::drain_openssl_errors());
  }
  message.append(reinterpret_cast<const char*>(signature), kSignatureSize);
}

FeedVerifier FeedSigner::verifier() const {
  ::EVP_PKEY_up_ref(key_.get());
  return FeedVerifier(pki::ScopedEvpPkey(key_.get()));
}

FeedVerifier FeedVerifier::load(const std::filesystem::path& file) {
  const std::string pem =
      read_regular_file(file, 64 * 1024, ErrorCode::kInvalidConfig, "[replica] verify_key").bytes;
  pki::ScopedBio bio(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  pki::ScopedEvpPkey key(::PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{} is not a PEM public key ([replica] verify_key); export the "
                            "writer's with `openssl pkey -in signing.key -pubout`{}",
                            file.string(), pki::drain_openssl_errors()));
  }
  require_ed25519(key.get(), file, "[replica] verify_key");
  return FeedVerifier(std::move(key));
}

std::optional<std::string_view> FeedVerifier::verify(std::string_view subject,
                                                     std::string_view message) const {
  if (message.size() <= kSignatureSize) {
    return std::nullopt;
  }
  const std::string_view body = message.substr(0, message.size() - kSignatureSize);
  const std::string_view signature = message.substr(body.size());
  const std::string tbs = signed_bytes(subject, body);
  pki::ScopedEvpMdCtx ctx(::EVP_MD_CTX_new());
  const bool ok =
      ctx && ::EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
      ::EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(tbs.data()),
                         tbs.size()) == 1;
  pki::drain_openssl_errors();
  if (!ok) {
    return std::nullopt;
  }
  return body;
}

}  // namespace revocore::replication
