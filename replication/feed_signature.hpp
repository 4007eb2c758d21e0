#pragma once
// Every feed message is signed by the writer with Ed25519 (RFC 8032), as defence in depth beside
// the NATS permissions that let only the writer publish: a replica applies nothing it cannot
// verify. The signature covers the subject too, so a message cannot be replayed on another one.
// Wire form: the encoded message, then 64 octets of signature.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pki/openssl_handles.hpp"

namespace revocore::replication {

inline constexpr std::size_t kSignatureSize = 64;

class FeedVerifier;

class FeedSigner {
 public:
  // An Ed25519 private key in a PEM file (`openssl genpkey -algorithm ed25519`); throws
  // kInvalidConfig naming the file when it is unreadable, open to others or of another type.
  static FeedSigner load(const std::filesystem::path& file);
  // Appends the signature of `body` (already in `message`) for `subject`.
  void sign(std::string_view subject, std::string& message) const;
  // The verifier of this key's signatures (the writer reads its own stream back on restart).
  class FeedVerifier verifier() const;

 private:
  explicit FeedSigner(pki::ScopedEvpPkey key) : key_(std::move(key)) {}
  pki::ScopedEvpPkey key_;
};

class FeedVerifier {
 public:
  // The writer's Ed25519 public key in a PEM file (`openssl pkey -pubout`).
  static FeedVerifier load(const std::filesystem::path& file);
  // The body of `message` when its signature verifies for `subject`, else nullopt.
  std::optional<std::string_view> verify(std::string_view subject, std::string_view message) const;

 private:
  friend class FeedSigner;
  explicit FeedVerifier(pki::ScopedEvpPkey key) : key_(std::move(key)) {}
  pki::ScopedEvpPkey key_;
};

}  // namespace revocore::replication
