#include "ocsp/ocsp_responder.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ocsp/responder_issuer.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {
namespace {

// An ETag (RFC 9110 8.8.3): the SHA-1 of the response in quoted hex, written into `out`'s
// existing capacity.
void quoted_hex(std::string_view bytes, std::string& out) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out.assign(1, '"');
  for (const char c : bytes) {
    const auto octet = static_cast<std::uint8_t>(c);
    out.push_back(kHex[octet >> 4]);
    out.push_back(kHex[octet & 0x0F]);
  }
  out.push_back('"');
}

// An OCSPResponse without responseBytes, with nothing an HTTP cache could use.
void answer_with_error(OcspAnswer& answer, OcspOutcome outcome) {
  answer.outcome = outcome;
  answer.der = error_response(outcome);
  answer.etag.clear();
  answer.from_store = false;
  answer.this_update = 0;
  answer.next_update = 0;
}

OcspOutcome outcome_of(const CertStatus& status) noexcept {
  switch (status.kind()) {
    case CertStatus::Kind::kGood:
      return OcspOutcome::kGood;
    case CertStatus::Kind::kRevoked:
      return OcspOutcome::kRevoked;
    case CertStatus::Kind::kUnknown:
      return OcspOutcome::kUnknown;
  }
  return OcspOutcome::kInternalError;
}

}  // namespace

std::string_view to_string(OcspOutcome outcome) noexcept {
  switch (outcome) {
    case OcspOutcome::kGood:
      return "good";
    case OcspOutcome::kRevoked:
      return "revoked";
    case OcspOutcome::kUnknown:
      return "unknown";
    case OcspOutcome::kMalformedRequest:
      return "malformed_request";
    case OcspOutcome::kUnauthorized:
      return "unauthorized";
    case OcspOutcome::kInternalError:
      return "internal_error";
    case OcspOutcome::kTryLater:
      return "try_later";
  }
  return "invalid";
}

std::string error_response(OcspOutcome outcome) {
  switch (outcome) {
    case OcspOutcome::kMalformedRequest:
      return encode_error_response(ResponseStatus::kMalformedRequest);
    case OcspOutcome::kUnauthorized:
      return encode_error_response(ResponseStatus::kUnauthorized);
    case OcspOutcome::kTryLater:
      return encode_error_response(ResponseStatus::kTryLater);
    default:
      return encode_error_response(ResponseStatus::kInternalError);
  }
}

OcspResponder::OcspResponder(Store& store, const config::Configuration& config, Clock clock,
                             ReplicaResponderOptions replica)
    : store_(store),
      settings_(config.ocsp),
      clock_(std::move(clock)),
      fresh_(replica.fresh),
      issuers_(load_responder_issuers(config, store.read(), replica.missing_issuers)) {}

OcspResponder::~OcspResponder() = default;

const ResponderIssuer* OcspResponder::find_issuer(const CertIdView& id) const noexcept {
  for (const auto& issuer : issuers_) {
    if (issuer->is_named_by(id)) {
      return issuer.get();
    }
  }
  return nullptr;
}

const ResponderIssuer* OcspResponder::issuer_named(std::string_view name) const noexcept {
  for (const auto& issuer : issuers_) {
    if (issuer->name == name) {
      return issuer.get();
    }
  }
  return nullptr;
}

OcspAnswer OcspResponder::answer(std::string_view request_der) noexcept {
  OcspAnswer answer;
  this->answer(request_der, answer);
  return answer;
}

void OcspResponder::answer(std::string_view request_der, OcspAnswer& answer) noexcept {
  try {
    answer_or_throw(request_der, answer);
  } catch (...) {
    // RFC 6960 2.3: internalError, never a crash or a silence.
    ::ERR_clear_error();
    answer_with_error(answer, OcspOutcome::kInternalError);
  }
}

SingleResponse OcspResponder::status_of(const StoreTransaction& txn, const ResponderIssuer& issuer,
                                        const CertIdView& id, UnixTime now,
                                        std::uint64_t& status_sequence, bool& expired) const {
  SingleResponse out{id.der, CertStatus::unknown(), std::nullopt};
  CertificateStatusView status;
  if (!id.serial || !txn.certificate_status(CertificateKey{issuer.id, *id.serial}, status)) {
    return out;
  }
  status_sequence = status.status_sequence;
  if (now > status.not_after) {
    expired = true;
    // docs/CRL.md "Expired certificates": unknown, or the last status for the retention period
    // with the archive cutoff that period gives (RFC 6960 4.4.4).
    if (issuer.expired_ocsp == config::ExpiredOcsp::kUnknown) {
      return out;
    }
    if (issuer.archive_retention_seconds != 0) {
      const UnixTime cutoff = now - issuer.archive_retention_seconds;
      if (status.not_after < cutoff) {
        return out;
      }
      out.archive_cutoff = cutoff;
    }
  }
  if (status.status == CertificateStatus::kValid) {
    out.status = CertStatus::good();
    return out;
  }
  // RFC 6960 2.2: on hold is revoked with reason certificateHold, which the record holds.
  out.status =
      CertStatus::revoked(status.revocation_time, status.reason == ReasonCode::kUnspecified
                                                      ? std::nullopt
                                                      : std::optional<ReasonCode>(status.reason));
  return out;
}

void OcspResponder::answer_or_throw(std::string_view request_der, OcspAnswer& answer) {
  OcspAnswer::Workspace& work = answer.workspace;
  OcspRequest& request = work.request;
  if (decode_ocsp_request(request_der, settings_.max_cert_ids, request) != RequestDecoding::kOk) {
    return answer_with_error(answer, OcspOutcome::kMalformedRequest);
  }
  if (fresh_ != nullptr && !fresh_->load(std::memory_order_relaxed)) {
    // RFC 6960 4.2.1: a replica behind its writer cannot vouch for any status.
    return answer_with_error(answer, OcspOutcome::kTryLater);
  }
  const ResponderIssuer* issuer = find_issuer(request.ids.front());
  for (const auto& id : request.ids) {
    // One signer per response: every CertID must name an issuer this responder serves.
    if (issuer == nullptr || !issuer->is_named_by(id)) {
      return answer_with_error(answer, OcspOutcome::kUnauthorized);
    }
  }

  const UnixTime now = clock_();
  answer.etag.clear();
  answer.from_store = false;
  work.responses.clear();
  // A single CertID without a nonce may be answered from, and stored as, a pre-signed response.
  const bool presignable = request.ids.size() == 1 && !request.has_nonce();
  std::uint64_t status_sequence = 0;
  bool expired = false;
  {
    const StoreTransaction txn = store_.read();
    for (const auto& id : request.ids) {
      work.responses.push_back(status_of(txn, *issuer, id, now, status_sequence, expired));
    }
    const CertIdView& id = request.ids.front();
    PresignedResponse stored;
    // Served only when signed for the status read in this very transaction.
    if (presignable && id.serial && !expired &&
        work.responses.front().status.kind() != CertStatus::Kind::kUnknown &&
        txn.presigned_response(CertificateKey{issuer->id, *id.serial},
                               static_cast<std::uint8_t>(*id.hash), stored) &&
        stored.status_sequence == status_sequence && stored.this_update <= now &&
        now < stored.next_update - settings_.refresh_before_seconds) {
      answer.der.assign(stored.der);
      answer.outcome = outcome_of(work.responses.front().status);
      answer.from_store = true;
      answer.this_update = stored.this_update;
      answer.next_update = stored.next_update;
      quoted_hex(stored.sha1, answer.etag);
      return;
    }
  }

  answer.this_update = now;
  answer.next_update = now + settings_.response_validity_seconds;
  encode_response_data(work.response_data, issuer->responder_id, now, work.responses,
                       answer.this_update, answer.next_update, request.nonce_extension);
  issuer->signer.sign(work.response_data, work.signature);
  encode_successful_response(answer.der, work.response_data, issuer->signer.algorithm_identifier(),
                             work.signature, issuer->certs);
  answer.outcome = outcome_of(work.responses.front().status);
  if (request.has_nonce()) {
    return;  // a nonce makes the response unique: no ETag, not for HTTP caches, not stored
  }
  unsigned char sha1[EVP_MAX_MD_SIZE];
  unsigned int sha1_length = 0;
  ::EVP_Digest(answer.der.data(), answer.der.size(), sha1, &sha1_length, ::EVP_sha1(), nullptr);
  const std::string_view sha1_view(reinterpret_cast<const char*>(sha1), sha1_length);
  quoted_hex(sha1_view, answer.etag);
  const CertIdView& id = request.ids.front();
  if (presignable && !expired &&
      work.responses.front().status.kind() != CertStatus::Kind::kUnknown) {
    pending_.push(CertificateKey{issuer->id, *id.serial}, static_cast<std::uint8_t>(*id.hash),
                  PresignedResponse{status_sequence, answer.this_update, answer.next_update,
                                    sha1_view, answer.der});
  }
}

}  // namespace revocore::ocsp
