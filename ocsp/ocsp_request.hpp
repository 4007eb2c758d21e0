#pragma once
// An OCSP request (RFC 6960 4.1.1) decoded into what the responder needs:
//
//   OCSPRequest     ::=     SEQUENCE {
//       tbsRequest                  TBSRequest,
//       optionalSignature   [0]     EXPLICIT Signature OPTIONAL }   -- ignored
//   TBSRequest      ::=     SEQUENCE {
//       version             [0]     EXPLICIT Version DEFAULT v1,
//       requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
//       requestList                 SEQUENCE OF Request,
//       requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }  -- the nonce (RFC 9654)
//   CertID          ::=     SEQUENCE {
//       hashAlgorithm       AlgorithmIdentifier,
//       issuerNameHash      OCTET STRING, -- Hash of issuer's DN
//       issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
//       serialNumber        CertificateSerialNumber }
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/records.hpp"

namespace revocore::ocsp {

enum class HashAlgorithm : std::uint8_t { kSha1 = 1, kSha256 = 2 };

// Views into the request's DER, valid while it lives.
struct CertIdView {
  std::optional<HashAlgorithm> hash;  // nullopt: an algorithm revocore does not match on
  std::string_view issuer_name_hash;
  std::string_view issuer_key_hash;
  std::optional<Serial> serial;  // nullopt: longer than RFC 5280 allows
  std::string_view der;          // the whole CertID, repeated in the SingleResponse
};

struct OcspRequest {
  std::vector<CertIdView> ids;
  std::string_view nonce_extension;  // the whole nonce Extension, echoed (RFC 9654); or empty
  bool has_nonce() const noexcept { return !nonce_extension.empty(); }
};

enum class RequestDecoding { kOk, kMalformed, kTooManyIds, kBadNonce };

// Decodes DER into `out` (whose vector keeps its capacity from one request to the next). Any
// result but kOk means answer malformedRequest (RFC 6960 2.3). Request signatures and other
// request extensions are ignored (RFC 6960 4.1.2).
//
// Hand-written rather than OpenSSL's d2i_OCSP_REQUEST, which builds a tree of a dozen heap
// objects per request: the decoder and its frees were about 10% of the responder's CPU under
// load, and the CertID bytes are echoed as they came. fuzz/fuzz_ocsp_request.cpp checks it
// against OpenSSL's decoder on every input.
RequestDecoding decode_ocsp_request(std::string_view der, std::size_t max_ids, OcspRequest& out);

// The request in a GET path (RFC 6960 appendix A.1: url-encoding of base-64 encoding of the DER),
// after the responder's prefix. '/' may appear raw or as %2F; '+' and '=' raw or escaped.
// Returns false when it is not base64. `base64` and `der` are the caller's, reused between calls.
bool decode_get_path(std::string_view path, std::string& base64, std::string& der);
std::optional<std::string> decode_get_path(std::string_view path);

}  // namespace revocore::ocsp
