#pragma once
// Pre-signed OCSP responses (RFC 9919's high-volume model): the queue of freshly signed
// responses the responder writes to the store in batches, and `presign_issuer`, which signs one
// for every certificate of an issuer ahead of the requests (`revocore ocsp presign`).
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/store.hpp"

namespace revocore::ocsp {

class OcspResponder;

class PresignedResponseQueue {
 public:
  // Queues a response signed for `status_sequence`; the strings are copied.
  void push(const CertificateKey& key, std::uint8_t cert_id_hash,
            const PresignedResponse& response);
  // Writes everything queued in one transaction and empties the queue; returns how many.
  std::size_t flush(Store& store);

 private:
  struct Pending {
    CertificateKey key;
    std::uint8_t cert_id_hash = 0;
    std::uint64_t status_sequence = 0;
    UnixTime this_update = 0;
    UnixTime next_update = 0;
    std::string sha1;
    std::string der;
  };
  std::mutex mutex_;  // I/O threads push while the flusher swaps
  std::vector<Pending> pending_;
};

// Signs and stores a response, for SHA-1 and SHA-256 CertIDs, for every certificate of the
// issuer whose stored response is missing or stale. Returns how many were signed. Throws
// kNotFound for an issuer the responder does not serve.
std::size_t presign_issuer(OcspResponder& responder, std::string_view issuer_name);

}  // namespace revocore::ocsp
