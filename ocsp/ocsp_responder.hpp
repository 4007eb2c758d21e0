#pragma once
// The OCSP responder's protocol logic, without sockets: OCSPRequest DER in, OCSPResponse DER out
// (RFC 6960), answered from the store. `answer` never throws: an undecodable request gets
// malformedRequest, an issuer it does not serve unauthorized, any internal fault internalError.
//
// RFC 9919's high-volume model: a request for one certificate without a nonce is answered from
// a pre-signed response kept in LMDB, but only when that response was signed for the
// certificate's current status: the status sequence stored with it must equal the certificate's,
// read in the same transaction. A committed revocation therefore never gets a "good" answer.
// Other requests, and stale or missing stored responses, are signed on the spot; fresh
// signatures are queued and written to the store by flush_pending().
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/configuration.hpp"
#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::ocsp {

enum class OcspOutcome : std::uint8_t {
  kGood,
  kRevoked,  // includes on hold, answered revoked with certificateHold (RFC 6960 2.2)
  kUnknown,
  kMalformedRequest,
  kUnauthorized,
  kInternalError,
};
inline constexpr std::size_t kOutcomeCount = 6;
std::string_view to_string(OcspOutcome outcome) noexcept;

struct OcspAnswer {
  std::string der;
  OcspOutcome outcome = OcspOutcome::kInternalError;
  bool from_store = false;   // a pre-signed response
  UnixTime this_update = 0;  // 0 for error responses (not cacheable)
  UnixTime next_update = 0;
  std::string etag;  // quoted hex SHA-1 of `der`, for HTTP
};

class OcspResponder {
 public:
  // Loads every configured issuer's signer (delegated responder or the CA key) and checks it:
  // the key matches, a delegated certificate has id-kp-OCSPSigning and is issued by the CA.
  // Issuers with neither are not served. Throws kInvalidConfig naming the issuer and file.
  // Does not take ownership; store and config must outlive the responder.
  OcspResponder(Store& store, const config::Configuration& config, Clock clock);
  ~OcspResponder();
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  OcspAnswer answer(std::string_view request_der) noexcept;
  // The same into `answer`, whose buffers are reused: the server's hot path allocates nothing.
  void answer(std::string_view request_der, OcspAnswer& answer) noexcept;

  // Signs and stores a response, for SHA-1 and SHA-256 CertIDs, for every certificate of the
  // issuer whose stored response is missing or stale. Returns how many were signed.
  std::size_t presign(std::string_view issuer_name);

  // Writes the queued fresh responses to the store in one transaction; returns how many.
  std::size_t flush_pending();

  std::size_t issuer_count() const noexcept { return issuers_.size(); }

 private:
  struct Issuer;
  struct Answerable;
  struct StoredResponse;

  const Issuer* find_issuer(const struct CertIdView& id) const noexcept;
  void answer_or_throw(std::string_view request_der, OcspAnswer& answer);
  // Encodes and signs an OCSPResponse with a BasicOCSPResponse (RFC 6960 4.2.1) into `out`.
  void sign(const Issuer& issuer, const std::vector<Answerable>& answers,
            std::string_view nonce_extension, UnixTime this_update, UnixTime next_update,
            std::string& out) const;
  void sign_bytes(const Issuer& issuer, std::string_view tbs, std::string& signature) const;
  static std::size_t single_response_size(const Answerable& item);
  static void write_single_response(std::string& out, const Answerable& item, UnixTime this_update,
                                    UnixTime next_update);

  Store& store_;
  const config::OcspSettings& settings_;
  Clock clock_;
  std::vector<std::unique_ptr<Issuer>> issuers_;

  std::mutex pending_mutex_;
  struct PendingResponse {
    CertificateKey key;
    std::uint8_t cert_id_hash = 0;
    std::uint64_t status_sequence = 0;
    UnixTime this_update = 0;
    UnixTime next_update = 0;
    std::string sha1;
    std::string der;
  };
  std::vector<PendingResponse> pending_;
};

// The fixed DER of an OCSPResponse without responseBytes (RFC 6960 4.2.1).
std::string error_response(OcspOutcome outcome);

}  // namespace revocore::ocsp
