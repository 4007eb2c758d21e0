#include "crl/crl_builder.hpp"

#include "pki/der_writer.hpp"

namespace revocore::crl {
namespace {

// Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
//                          extnValue OCTET STRING }
void extension(std::string& out, std::string_view oid_tlv, bool critical, std::string_view value) {
  const std::size_t critical_size = critical ? 3 : 0;
  der::header(out, der::kSequence, oid_tlv.size() + critical_size + der::tlv_size(value.size()));
  out.append(oid_tlv);
  if (critical) {
    out.append("\x01\x01\xff", 3);
  }
  der::tlv(out, der::kOctetString, value);
}

std::string integer_tlv(std::uint64_t value) {
  std::string out;
  der::tlv(out, der::kInteger, der::integer_content(value));
  return out;
}

// DistributionPointName with fullName = one URI:
//   [0] { [0] IMPLICIT GeneralNames { [6] IMPLICIT IA5String } }
std::string distribution_point_name(std::string_view uri) {
  std::string name;
  der::tlv(name, 0x86, uri);  // uniformResourceIdentifier [6]
  std::string full_name;
  der::tlv(full_name, der::kContext0, name);  // fullName [0]
  std::string out;
  der::tlv(out, der::kContext0, full_name);  // distributionPoint [0]
  return out;
}

constexpr std::string_view kAuthorityKeyIdentifier{"\x06\x03\x55\x1d\x23", 5};    // 2.5.29.35
constexpr std::string_view kCrlNumber{"\x06\x03\x55\x1d\x14", 5};                 // 2.5.29.20
constexpr std::string_view kDeltaCrlIndicator{"\x06\x03\x55\x1d\x1b", 5};         // 2.5.29.27
constexpr std::string_view kIssuingDistributionPoint{"\x06\x03\x55\x1d\x1c", 5};  // 2.5.29.28
constexpr std::string_view kFreshestCrl{"\x06\x03\x55\x1d\x2e", 5};               // 2.5.29.46
// Entry extensions, whole: reasonCode (2.5.29.21) wraps ENUMERATED; invalidityDate (2.5.29.24)
// wraps a GeneralizedTime.
constexpr std::size_t kReasonExtensionSize = 12;      // 30 0a 06 03 55 1d 15 04 03 0a 01 RR
constexpr std::size_t kInvalidityExtensionSize = 26;  // 30 18 06 03 55 1d 18 04 11 <17 octets>

}  // namespace

CrlBuilder::CrlBuilder(const CrlSigner& signer, UnixTime this_update, UnixTime next_update,
                       std::uint64_t crl_number)
    : signer_(signer),
      this_update_(this_update),
      next_update_(next_update),
      crl_number_(crl_number) {}

void CrlBuilder::add_entry(std::string_view serial_octets, UnixTime revocation_date,
                           ReasonCode reason, std::optional<UnixTime> invalidity_date) {
  if (revocation_date != cached_time_) {
    cached_time_der_.clear();
    der::time(cached_time_der_, revocation_date);
    cached_time_ = revocation_date;
  }
  const bool has_reason = reason != ReasonCode::kUnspecified;
  const std::size_t extensions =
      (has_reason ? kReasonExtensionSize : 0) + (invalidity_date ? kInvalidityExtensionSize : 0);
  const std::size_t content = der::tlv_size(serial_octets.size()) + cached_time_der_.size() +
                              (extensions ? der::tlv_size(extensions) : 0);
  // revokedCertificates entry ::= SEQUENCE { userCertificate, revocationDate, crlEntryExtensions }
  der::header(entries_, der::kSequence, content);
  der::tlv(entries_, der::kInteger, serial_octets);
  entries_.append(cached_time_der_);
  if (extensions != 0) {
    der::header(entries_, der::kSequence, extensions);
    if (has_reason) {
      entries_.append("\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01", 11);
      entries_.push_back(static_cast<char>(reason));
    }
    if (invalidity_date) {
      entries_.append("\x30\x18\x06\x03\x55\x1d\x18\x04\x11", 9);
      der::generalized_time(entries_, *invalidity_date);
    }
  }
  ++count_;
}

std::string CrlBuilder::finish() const {
  // crlExtensions
  std::string extensions;
  {
    std::string key_id;
    der::tlv(key_id, 0x80, signer_.key_identifier());  // keyIdentifier [0] IMPLICIT
    std::string aki;
    der::tlv(aki, der::kSequence, key_id);
    extension(extensions, kAuthorityKeyIdentifier, false, aki);
  }
  extension(extensions, kCrlNumber, false, integer_tlv(crl_number_));
  if (delta_base_) {
    // RFC 5280 5.2.4: deltaCRLIndicator is critical.
    extension(extensions, kDeltaCrlIndicator, true, integer_tlv(*delta_base_));
  }
  if (!distribution_point_.empty()) {
    std::string idp;
    der::tlv(idp, der::kSequence, distribution_point_name(distribution_point_));
    extension(extensions, kIssuingDistributionPoint, true, idp);
  }
  if (!freshest_crl_.empty() && !delta_base_) {
    std::string point;
    der::tlv(point, der::kSequence, distribution_point_name(freshest_crl_));
    std::string points;
    der::tlv(points, der::kSequence, point);
    extension(extensions, kFreshestCrl, false, points);
  }
  std::string extensions_sequence;
  der::tlv(extensions_sequence, der::kSequence, extensions);

  std::string head;
  head.append("\x02\x01\x01", 3);  // version v2
  head.append(signer_.algorithm_identifier());
  head.append(signer_.issuer_name_der());
  der::time(head, this_update_);
  der::time(head, next_update_);
  const std::size_t revoked_size = entries_.empty() ? 0 : der::tlv_size(entries_.size());
  const std::size_t tbs_content =
      head.size() + revoked_size + der::tlv_size(extensions_sequence.size());

  std::string tbs;
  tbs.reserve(der::tlv_size(tbs_content));
  der::header(tbs, der::kSequence, tbs_content);
  tbs.append(head);
  if (!entries_.empty()) {  // RFC 5280 5.1.2.6: absent when there are no entries
    der::header(tbs, der::kSequence, entries_.size());
    tbs.append(entries_);
  }
  der::tlv(tbs, der::kContext0, extensions_sequence);  // crlExtensions [0] EXPLICIT

  const std::string signature = signer_.sign(tbs);
  const std::size_t bit_string = 1 + signature.size();  // leading "unused bits" octet
  const std::size_t list_content =
      tbs.size() + signer_.algorithm_identifier().size() + der::tlv_size(bit_string);
  std::string out;
  out.reserve(der::tlv_size(list_content));
  der::header(out, der::kSequence, list_content);
  out.append(tbs);
  out.append(signer_.algorithm_identifier());
  der::header(out, der::kBitString, bit_string);
  out.push_back('\0');
  out.append(signature);
  return out;
}

}  // namespace revocore::crl
