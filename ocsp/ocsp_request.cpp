#include "ocsp/ocsp_request.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>

#include "pki/der_reader.hpp"
#include "pki/der_tags.hpp"
#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {
namespace {

// Whole OID TLVs: id-sha1, id-sha256 (RFC 3279 2.2.1, RFC 4055 2.1), id-pkix-ocsp-nonce
// (RFC 6960 4.4.1).
constexpr std::string_view kSha1Oid{"\x06\x05\x2b\x0e\x03\x02\x1a", 7};
constexpr std::string_view kSha256Oid{"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01", 11};
constexpr std::string_view kNonceOid{"\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02", 11};

// CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
//                       issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
bool decode_cert_id(const der::Tlv& cert_id, CertIdView& out) {
  der::Reader fields(cert_id.content);
  der::Tlv algorithm, oid, parameters, name_hash, key_hash, serial;
  if (!fields.expect(der::kSequence, algorithm) || !fields.expect(der::kOctetString, name_hash) ||
      !fields.expect(der::kOctetString, key_hash) || !fields.expect(der::kInteger, serial) ||
      !fields.empty() || serial.content.empty()) {
    return false;
  }
  der::Reader algorithm_fields(algorithm.content);
  if (!algorithm_fields.expect(der::kOid, oid) ||
      (!algorithm_fields.empty() && !algorithm_fields.next(parameters)) ||
      !algorithm_fields.empty()) {
    return false;
  }
  out.hash.reset();
  if (oid.whole == kSha1Oid) {
    out.hash = HashAlgorithm::kSha1;
  } else if (oid.whole == kSha256Oid) {
    out.hash = HashAlgorithm::kSha256;
  }
  out.issuer_name_hash = name_hash.content;
  out.issuer_key_hash = key_hash.content;
  out.der = cert_id.whole;
  // Canonical two's complement, as the store keys serials: a sign octet a sloppy encoder
  // repeated is dropped (X.690 8.3.2).
  std::string_view octets = serial.content;
  while (octets.size() > 1 && ((octets[0] == '\x00' && !(octets[1] & 0x80)) ||
                               (octets[0] == '\xff' && (octets[1] & 0x80)))) {
    octets.remove_prefix(1);
  }
  out.serial.reset();
  if (octets.size() <= Serial::kMaxOctets) {
    out.serial = Serial::from_der_content(octets);
  }
  return true;
}

}  // namespace

bool decode_get_path(std::string_view path, std::string& base64, std::string& der) {
  base64.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%') {
      if (i + 2 >= path.size()) {
        return false;
      }
      const int high = codec::hex_digit(path[i + 1]);
      const int low = codec::hex_digit(path[i + 2]);
      if (high < 0 || low < 0) {
        return false;
      }
      base64.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      base64.push_back(path[i]);
    }
  }
  // Some clients leave out the padding; EVP_DecodeBlock wants whole quanta.
  while (base64.size() % 4 != 0) {
    base64.push_back('=');
  }
  if (base64.empty()) {
    return false;
  }
  for (const char c : base64) {
    const bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/' || c == '=';
    if (!valid) {
      return false;
    }
  }
  der.resize(base64.size() / 4 * 3);
  const int length = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                       reinterpret_cast<const unsigned char*>(base64.data()),
                                       static_cast<int>(base64.size()));
  if (length < 0) {
    return false;
  }
  // EVP_DecodeBlock counts padding as zero octets; drop them.
  std::size_t padding = 0;
  for (std::size_t i = base64.size(); i > 0 && base64[i - 1] == '='; --i) {
    ++padding;
  }
  der.resize(static_cast<std::size_t>(length) - std::min<std::size_t>(padding, 2));
  return true;
}

std::optional<std::string> decode_get_path(std::string_view path) {
  std::string base64;
  std::string der;
  if (!decode_get_path(path, base64, der)) {
    return std::nullopt;
  }
  return der;
}

RequestDecoding decode_ocsp_request(std::string_view der, std::size_t max_ids, OcspRequest& out) {
  using der::Reader;
  using der::Tlv;
  out.ids.clear();
  out.nonce_extension = {};
  constexpr auto kMalformed = RequestDecoding::kMalformed;

  // OCSPRequest ::= SEQUENCE { tbsRequest, optionalSignature [0] EXPLICIT OPTIONAL }
  Reader top(der);
  Tlv request, tbs, skipped;
  if (!top.expect(der::kSequence, request) || !top.empty()) {
    return kMalformed;
  }
  Reader outer(request.content);
  if (!outer.expect(der::kSequence, tbs) ||
      (outer.peek() == der::kContext0 && !outer.next(skipped)) || !outer.empty()) {
    return kMalformed;
  }
  // TBSRequest ::= SEQUENCE { version [0], requestorName [1], requestList, requestExtensions [2] }
  Reader fields(tbs.content);
  if (fields.peek() == der::kContext0) {
    Tlv version, integer;
    fields.next(version);
    Reader inner(version.content);
    if (!inner.expect(der::kInteger, integer) || !inner.empty() || integer.content.empty()) {
      return kMalformed;
    }
  }
  if (fields.peek() == der::kContext1 && !fields.next(skipped)) {
    return kMalformed;
  }
  Tlv list, extensions;
  if (!fields.expect(der::kSequence, list)) {
    return kMalformed;
  }
  if (fields.peek() == der::kContext2 && !fields.next(extensions)) {
    return kMalformed;
  }
  if (!fields.empty()) {
    return kMalformed;
  }

  // Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT OPTIONAL }
  Reader requests(list.content);
  while (!requests.empty()) {
    Tlv one, cert_id;
    if (!requests.expect(der::kSequence, one)) {
      return kMalformed;
    }
    Reader single(one.content);
    if (!single.expect(der::kSequence, cert_id) ||
        (single.peek() == der::kContext0 && !single.next(skipped)) || !single.empty()) {
      return kMalformed;
    }
    if (out.ids.size() == max_ids) {
      return RequestDecoding::kTooManyIds;
    }
    if (!decode_cert_id(cert_id, out.ids.emplace_back())) {
      return kMalformed;
    }
  }
  if (out.ids.empty()) {
    return kMalformed;
  }

  // Extensions ::= SEQUENCE OF Extension; only the nonce is read (RFC 9654).
  if (!extensions.whole.empty()) {
    Reader wrapper(extensions.content);
    Tlv sequence;
    if (!wrapper.expect(der::kSequence, sequence) || !wrapper.empty()) {
      return kMalformed;
    }
    Reader each(sequence.content);
    while (!each.empty()) {
      Tlv extension, oid, critical, value;
      if (!each.expect(der::kSequence, extension)) {
        return kMalformed;
      }
      Reader parts(extension.content);
      if (!parts.expect(der::kOid, oid) ||
          (parts.peek() == der::kBoolean && !parts.next(critical)) ||
          !parts.expect(der::kOctetString, value) || !parts.empty()) {
        return kMalformed;
      }
      if (oid.whole != kNonceOid || out.has_nonce()) {
        continue;  // the first nonce counts, as with OpenSSL
      }
      // RFC 9654 2.1: Nonce ::= OCTET STRING (SIZE(1..32)), inside extnValue.
      Reader nonce_reader(value.content);
      Tlv nonce;
      if (!nonce_reader.expect(der::kOctetString, nonce) || !nonce_reader.empty() ||
          nonce.content.empty() || nonce.content.size() > 32) {
        return RequestDecoding::kBadNonce;
      }
      out.nonce_extension = extension.whole;
    }
  }
  return RequestDecoding::kOk;
}

}  // namespace revocore::ocsp
