#include "crl/crl_builder.hpp"

#include "pki/der_writer.hpp"

namespace revocore::crl {
namespace {

constexpr std::string_view kAuthorityKeyIdentifier{"\x06\x03\x55\x1d\x23", 5};    // 2.5.29.35
constexpr std::string_view kCrlNumber{"\x06\x03\x55\x1d\x14", 5};                 // 2.5.29.20
constexpr std::string_view kCrlReason{"\x06\x03\x55\x1d\x15", 5};                 // 2.5.29.21
constexpr std::string_view kInvalidityDate{"\x06\x03\x55\x1d\x18", 5};            // 2.5.29.24
constexpr std::string_view kDeltaCrlIndicator{"\x06\x03\x55\x1d\x1b", 5};         // 2.5.29.27
constexpr std::string_view kIssuingDistributionPoint{"\x06\x03\x55\x1d\x1c", 5};  // 2.5.29.28
constexpr std::string_view kFreshestCrl{"\x06\x03\x55\x1d\x2e", 5};               // 2.5.29.46

// Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
//                          extnValue OCTET STRING }                            (RFC 5280 4.1)
template <typename Value>
void extension(der::Writer& w, std::string_view oid_tlv, bool critical, Value&& write_value) {
  w.sequence([&] {
    w.raw(oid_tlv);
    if (critical) {
      w.boolean(true);  // DEFAULT FALSE is left out (X.690 11.5)
    }
    w.octet_string_of(write_value);
  });
}

// DistributionPointName with fullName = one URI (RFC 5280 4.2.1.13):
//   distributionPoint [0] { fullName [0] IMPLICIT GeneralNames {
//       uniformResourceIdentifier [6] IMPLICIT IA5String } }
void distribution_point_name(der::Writer& w, std::string_view uri) {
  w.explicit_tag(0, [&] { w.explicit_tag(0, [&] { w.tlv(der::kContextPrimitive6, uri); }); });
}

}  // namespace

CrlBuilder::CrlBuilder(const CrlSigner& signer, UnixTime this_update, UnixTime next_update,
                       std::uint64_t crl_number)
    : signer_(signer),
      this_update_(this_update),
      next_update_(next_update),
      crl_number_(crl_number) {
  // crlEntryExtensions' reasonCode is the same few octets for every entry of a reason: encoded
  // once per reason here, so the entry loop appends them (RFC 5280 5.3.1).
  for (std::size_t code = 0; code < reason_extensions_.size(); ++code) {
    der::Writer w(reason_extensions_[code]);
    extension(w, kCrlReason, false, [&] { w.enumerated(static_cast<std::uint8_t>(code)); });
  }
}

void CrlBuilder::add_entry(std::string_view serial_octets, UnixTime revocation_date,
                           ReasonCode reason, std::optional<UnixTime> invalidity_date) {
  // A mass revocation shares one date: the last date's encoding is kept, and so is the last
  // invalidityDate extension.
  if (revocation_date != cached_time_) {
    cached_time_der_.clear();
    der::Writer(cached_time_der_).time(revocation_date);
    cached_time_ = revocation_date;
  }
  if (invalidity_date && invalidity_date != cached_invalidity_) {
    cached_invalidity_der_.clear();
    der::Writer w(cached_invalidity_der_);
    // RFC 5280 5.3.2: invalidityDate is a GeneralizedTime, whatever the year.
    extension(w, kInvalidityDate, false, [&] { w.generalized_time(*invalidity_date); });
    cached_invalidity_ = invalidity_date;
  }
  const bool has_reason = reason != ReasonCode::kUnspecified;  // RFC 5280 5.3.1: left out
  der::Writer w(entries_);
  w.sequence([&] {             // revokedCertificates entry ::= SEQUENCE {
    w.integer(serial_octets);  // userCertificate CertificateSerialNumber,
    w.raw(cached_time_der_);   // revocationDate Time,
    if (has_reason || invalidity_date) {
      w.sequence([&] {  // crlEntryExtensions Extensions OPTIONAL }
        if (has_reason) {
          w.raw(reason_extensions_[static_cast<std::size_t>(reason)]);
        }
        if (invalidity_date) {
          w.raw(cached_invalidity_der_);
        }
      });
    }
  });
  ++count_;
}

std::string CrlBuilder::finish() const {
  std::string tbs;
  tbs.reserve(entries_.size() + 1024);
  der::Writer t(tbs);
  t.sequence([&] {                          // TBSCertList ::= SEQUENCE {
    t.integer(std::uint64_t{1});            //   version v2,
    t.raw(signer_.algorithm_identifier());  //   signature AlgorithmIdentifier,
    t.raw(signer_.issuer_name_der());       //   issuer Name,
    t.time(this_update_);                   //   thisUpdate Time,
    t.time(next_update_);                   //   nextUpdate Time,
    if (!entries_.empty()) {                //   revokedCertificates SEQUENCE OF ... OPTIONAL
      t.tlv(der::kSequence, entries_);      //     (absent when empty, RFC 5280 5.1.2.6),
    }
    // crlExtensions [0] EXPLICIT Extensions }
    t.explicit_tag(0, [&] {
      t.sequence([&] {
        extension(t, kAuthorityKeyIdentifier, false, [&] {
          t.sequence([&] { t.tlv(der::kContextPrimitive0, signer_.key_identifier()); });
        });
        extension(t, kCrlNumber, false, [&] { t.integer(crl_number_); });
        if (delta_base_) {
          // RFC 5280 5.2.4: deltaCRLIndicator is critical.
          extension(t, kDeltaCrlIndicator, true, [&] { t.integer(*delta_base_); });
        }
        if (!distribution_point_.empty()) {
          extension(t, kIssuingDistributionPoint, true,
                    [&] { t.sequence([&] { distribution_point_name(t, distribution_point_); }); });
        }
        if (!freshest_crl_.empty() && !delta_base_) {
          extension(t, kFreshestCrl, false, [&] {
            t.sequence([&] {  // CRLDistributionPoints ::= SEQUENCE OF DistributionPoint
              t.sequence([&] { distribution_point_name(t, freshest_crl_); });
            });
          });
        }
      });
    });
  });

  std::string signature;
  signer_.sign(tbs, signature);
  std::string out;
  out.reserve(tbs.size() + signature.size() + 64);
  der::Writer w(out);
  w.sequence([&] {                          // CertificateList ::= SEQUENCE {
    w.raw(tbs);                             //   tbsCertList TBSCertList,
    w.raw(signer_.algorithm_identifier());  //   signatureAlgorithm AlgorithmIdentifier,
    w.bit_string(signature);                //   signatureValue BIT STRING }
  });
  return out;
}

}  // namespace revocore::crl
