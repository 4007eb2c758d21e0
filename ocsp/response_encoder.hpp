#pragma once
// Encodes OCSP responses (RFC 6960 4.2.1) to DER, one function per ASN.1 type, nothing else:
// no store, no clock, no key. The responder signs what encode_response_data wrote and hands the
// signature to encode_successful_response.
//
// Written here rather than with OpenSSL's OCSP_basic_sign, whose ASN.1 tree building took about
// as long as the P-256 signature itself; tests compare the two byte for byte.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ocsp/cert_status.hpp"
#include "pki/der_writer.hpp"

namespace revocore::ocsp {

// OCSPResponseStatus (RFC 6960 4.2.1) for responses without responseBytes.
enum class ResponseStatus : std::uint8_t {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kUnauthorized = 6,
};

// SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus,
//     thisUpdate GeneralizedTime, nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL,
//     singleExtensions [1] EXPLICIT Extensions OPTIONAL }   -- archiveCutoff only
struct SingleResponse {
  std::string_view cert_id;  // the request's CertID DER, repeated as it came
  CertStatus status = CertStatus::unknown();
  std::optional<UnixTime> archive_cutoff;  // RFC 6960 4.4.4, for an expired certificate
};
void write_cert_status(der::Writer& w, const CertStatus& status);
void write_single_response(der::Writer& w, const SingleResponse& response, UnixTime this_update,
                           UnixTime next_update);

// ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1 (left out),
//     responderID ResponderID, producedAt GeneralizedTime,
//     responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT Extensions OPTIONAL }
// `responder_id` is the whole ResponderID TLV; `nonce_extension` the request's whole nonce
// Extension, echoed (RFC 9654), or empty. Writes into `out`, cleared first.
void encode_response_data(std::string& out, std::string_view responder_id, UnixTime produced_at,
                          std::span<const SingleResponse> responses, UnixTime this_update,
                          UnixTime next_update, std::string_view nonce_extension);

// OCSPResponse ::= SEQUENCE { responseStatus successful, responseBytes [0] EXPLICIT SEQUENCE {
//     responseType id-pkix-ocsp-basic, response OCTET STRING (BasicOCSPResponse) } }
// BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING,
//     certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
// `certs` is the whole [0] TLV or empty. Writes into `out`, cleared first.
void encode_successful_response(std::string& out, std::string_view response_data,
                                std::string_view signature_algorithm, std::string_view signature,
                                std::string_view certs);

// An OCSPResponse without responseBytes: five fixed octets.
std::string encode_error_response(ResponseStatus status);

}  // namespace revocore::ocsp
