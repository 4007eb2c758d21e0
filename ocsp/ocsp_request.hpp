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

#include "pki/openssl_handles.hpp"
#include "revocation/records.hpp"

namespace revocore::ocsp {

enum class HashAlgorithm : std::uint8_t { kSha1 = 1, kSha256 = 2 };

struct CertIdView {
  std::optional<HashAlgorithm> hash;  // nullopt: an algorithm revocore does not match on
  std::string_view issuer_name_hash;  // views into the request, valid while it lives
  std::string_view issuer_key_hash;
  std::optional<Serial> serial;  // nullopt: longer than RFC 5280 allows
  OCSP_CERTID* id = nullptr;     // owned by the request; copied into the response
};

struct OcspRequest {
  pki::ScopedOcspRequest request;
  std::vector<CertIdView> ids;
  bool has_nonce = false;
};

enum class RequestError { kMalformed, kTooManyIds, kBadNonce };

// Decodes DER; a value of RequestError means answer malformedRequest (RFC 6960 2.3).
struct DecodedRequest {
  std::optional<OcspRequest> request;
  RequestError error = RequestError::kMalformed;
};
DecodedRequest decode_ocsp_request(std::string_view der, std::size_t max_ids);

// The request in a GET path (RFC 6960 appendix A.1: url-encoding of base-64 encoding of the DER),
// after the responder's prefix. '/' may appear raw or as %2F; '+' and '=' raw or escaped.
// Returns false when it is not base64. `base64` and `der` are the caller's, reused between calls.
bool decode_get_path(std::string_view path, std::string& base64, std::string& der);
std::optional<std::string> decode_get_path(std::string_view path);

}  // namespace revocore::ocsp
