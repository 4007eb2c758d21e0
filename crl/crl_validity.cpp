#include "crl/crl_validity.hpp"

#include <openssl/asn1.h>

#include <cstdint>
#include <ctime>

#include "pki/der_tags.hpp"
#include "pki/openssl_handles.hpp"

namespace revocore::crl {
namespace {

// One TLV header (X.690 8.1, definite lengths, one-octet tags); the header is consumed from
// `in`. The content may run past the end of `in` only when `partial_ok` (the outer SEQUENCEs,
// of which only the start was read).
struct Header {
  std::uint8_t tag = 0;
  std::size_t length = 0;
};
std::optional<Header> take_header(std::string_view& in, bool partial_ok) noexcept {
  if (in.size() < 2) {
    return std::nullopt;
  }
  Header h;
  h.tag = static_cast<std::uint8_t>(in[0]);
  const auto first = static_cast<std::uint8_t>(in[1]);
  std::size_t used = 2;
  if ((h.tag & 0x1F) == 0x1F) {
    return std::nullopt;  // multi-octet tags: none in a CRL's header
  }
  if (first < 0x80) {
    h.length = first;
  } else {
    const std::size_t octets = first & 0x7F;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) {
      return std::nullopt;  // indefinite, over 4 GiB, or cut
    }
    for (std::size_t i = 0; i < octets; ++i) {
      h.length = (h.length << 8) | static_cast<std::uint8_t>(in[2 + i]);
    }
    used += octets;
  }
  in.remove_prefix(used);
  if (!partial_ok && h.length > in.size()) {
    return std::nullopt;
  }
  return h;
}

// Skips one whole TLV of tag `tag`.
bool skip(std::string_view& in, std::uint8_t tag) noexcept {
  const auto h = take_header(in, false);
  if (!h || h->tag != tag) {
    return false;
  }
  in.remove_prefix(h->length);
  return true;
}

// A UTCTime or GeneralizedTime TLV, read by OpenSSL's own decoder.
std::optional<UnixTime> take_time(std::string_view& in) noexcept {
  std::string_view rest = in;
  const auto h = take_header(rest, false);
  if (!h || (h->tag != V_ASN1_UTCTIME && h->tag != V_ASN1_GENERALIZEDTIME)) {
    return std::nullopt;
  }
  const std::size_t whole = in.size() - rest.size() + h->length;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  pki::ScopedOpenSslType<ASN1_TIME, ::ASN1_TIME_free> time(
      ::d2i_ASN1_TIME(nullptr, &p, static_cast<long>(whole)));
  std::tm tm{};
  if (!time || ::ASN1_TIME_to_tm(time.get(), &tm) != 1) {
    return std::nullopt;
  }
  in.remove_prefix(whole);
  return static_cast<UnixTime>(::timegm(&tm));
}

}  // namespace

std::optional<CrlValidity> read_crl_validity(std::string_view der) noexcept {
  const auto list = take_header(der, true);  // CertificateList ::= SEQUENCE {
  if (!list || list->tag != der::kSequence) {
    return std::nullopt;
  }
  const auto tbs = take_header(der, true);  //   tbsCertList TBSCertList ::= SEQUENCE {
  if (!tbs || tbs->tag != der::kSequence) {
    return std::nullopt;
  }
  if (!der.empty() && static_cast<std::uint8_t>(der[0]) == der::kInteger &&
      !skip(der, der::kInteger)) {  //     version Version OPTIONAL,
    return std::nullopt;
  }
  if (!skip(der, der::kSequence) ||  //     signature AlgorithmIdentifier,
      !skip(der, der::kSequence)) {  //     issuer Name,
    return std::nullopt;
  }
  CrlValidity validity;
  const auto this_update = take_time(der);  //     thisUpdate Time,
  if (!this_update) {
    return std::nullopt;
  }
  validity.this_update = *this_update;
  validity.next_update = take_time(der);  //     nextUpdate Time OPTIONAL, ...
  return validity;
}

}  // namespace revocore::crl
