#pragma once
// The OCSP responder's answer logic, without sockets: OCSPRequest DER in, OCSPResponse DER out
// (RFC 6960), answered from the store. `answer` never throws: an undecodable request gets
// malformedRequest, an issuer it does not serve unauthorized, any internal fault internalError.
//
// RFC 9919's high-volume model: a request for one certificate without a nonce is answered from
// a pre-signed response kept in LMDB, but only when that response was signed for the
// certificate's current status: the status sequence stored with it must equal the certificate's,
// read in the same transaction. A committed revocation therefore never gets a "good" answer.
// Other requests, and stale or missing stored responses, are signed on the spot; fresh
// signatures are queued and written to the store by flush_pending() (presigned_responses.hpp).
//
// The parts: responder_issuer (signers, loaded once), response_encoder (DER), pki::Signer
// (signatures), presigned_responses (the queue and `revocore ocsp presign`).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/configuration.hpp"
#include "ocsp/ocsp_request.hpp"
#include "ocsp/presigned_responses.hpp"
#include "ocsp/response_encoder.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::ocsp {

struct ResponderIssuer;

// How a request was answered, for metrics and the request log.
enum class OcspOutcome : std::uint8_t {
  kGood,
  kRevoked,  // includes on hold, answered revoked with certificateHold (RFC 6960 2.2)
  kUnknown,
  kMalformedRequest,
  kUnauthorized,
  kInternalError,
  kTryLater,  // a replica that is not caught up with its writer (RFC 6960 4.2.1)
};
inline constexpr std::size_t kOutcomeCount = 7;
std::string_view to_string(OcspOutcome outcome) noexcept;

// The response, and the buffers answering it needs: the caller keeps one OcspAnswer per
// connection and passes it again, so the hot path allocates nothing once they have grown.
struct OcspAnswer {
  std::string der;
  OcspOutcome outcome = OcspOutcome::kInternalError;
  bool from_store = false;   // a pre-signed response
  UnixTime this_update = 0;  // 0 for error responses (not cacheable)
  UnixTime next_update = 0;
  std::string etag;  // quoted hex SHA-1 of `der`, for HTTP

  struct Workspace {
    OcspRequest request;
    std::vector<SingleResponse> responses;
    std::string response_data;  // the signed part
    std::string signature;
  } workspace;
};

// How a replica's responder differs (docs/REPLICATION.md).
struct ReplicaResponderOptions {
  // While this is false every request is answered tryLater: the replica cannot know the status.
  const std::atomic<bool>* fresh = nullptr;
  // Configured issuers the store does not hold (the writer does not publish them) are listed
  // here and not served, instead of refusing to start.
  std::vector<std::string>* missing_issuers = nullptr;
};

class OcspResponder {
 public:
  // Loads every configured issuer's signer (load_responder_issuers). Throws kInvalidConfig
  // naming the issuer and file. Does not take ownership; store and config must outlive it.
  OcspResponder(Store& store, const config::Configuration& config, Clock clock,
                ReplicaResponderOptions replica = {});
  ~OcspResponder();
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  OcspAnswer answer(std::string_view request_der) noexcept;
  // The same into `answer`, whose buffers are reused.
  void answer(std::string_view request_der, OcspAnswer& answer) noexcept;

  // Writes the queued fresh responses to the store in one transaction; returns how many.
  std::size_t flush_pending() { return pending_.flush(store_); }

  std::size_t issuer_count() const noexcept { return issuers_.size(); }
  // The served issuer of that configured name, or null.
  const ResponderIssuer* issuer_named(std::string_view name) const noexcept;
  const Store& store() const noexcept { return store_; }

 private:
  const ResponderIssuer* find_issuer(const CertIdView& id) const noexcept;
  void answer_or_throw(std::string_view request_der, OcspAnswer& answer);
  // What the store says of one certificate at `now`, with its status sequence; `expired` says
  // whether it is past notAfter (such answers are neither stored nor served pre-signed).
  SingleResponse status_of(const StoreTransaction& txn, const ResponderIssuer& issuer,
                           const CertIdView& id, UnixTime now, std::uint64_t& status_sequence,
                           bool& expired) const;

  Store& store_;
  const config::OcspSettings& settings_;
  Clock clock_;
  const std::atomic<bool>* fresh_;
  std::vector<std::unique_ptr<ResponderIssuer>> issuers_;
  PresignedResponseQueue pending_;
};

// The fixed DER of an OCSPResponse without responseBytes for a request-level outcome
// (malformedRequest, unauthorized; anything else internalError).
std::string error_response(OcspOutcome outcome);

}  // namespace revocore::ocsp
