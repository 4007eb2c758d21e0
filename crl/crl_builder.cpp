#include "crl/crl_builder.hpp"

#include <stdexcept>

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

// Entries are written to the file in pieces of about this size: big enough that the write calls
// cost nothing next to the encoding, small enough that 256 shards built in one scan stay a few
// MiB.
constexpr std::size_t kWriteChunk = 64 * 1024;

// The size of a TLV whose content is `content` octets (one-octet tag).
std::uint64_t tlv_size(std::uint64_t content) noexcept {
  return 1 + der::length_size(content) + content;
}

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

void CrlBuilder::prepare(UnixTime revocation_date, std::optional<UnixTime> invalidity_date) {
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
}

// What add_entry() writes, counted: SEQUENCE { INTEGER, Time, [SEQUENCE { extensions }] }.
std::uint64_t CrlBuilder::entry_size(std::size_t serial_size, ReasonCode reason,
                                     bool has_invalidity) const {
  const bool has_reason = reason != ReasonCode::kUnspecified;
  std::uint64_t content = tlv_size(serial_size) + cached_time_der_.size();
  if (has_reason || has_invalidity) {
    content +=
        tlv_size((has_reason ? reason_extensions_[static_cast<std::size_t>(reason)].size() : 0) +
                 (has_invalidity ? cached_invalidity_der_.size() : 0));
  }
  return tlv_size(content);
}

void CrlBuilder::count_entry(std::string_view serial_octets, UnixTime revocation_date,
                             ReasonCode reason, std::optional<UnixTime> invalidity_date) {
  prepare(revocation_date, invalidity_date);
  entries_size_ += entry_size(serial_octets.size(), reason, invalidity_date.has_value());
  ++counted_;
}

void CrlBuilder::start(AtomicFile& out) {
  out_ = &out;
  // crlExtensions [0] EXPLICIT Extensions, small and known now.
  der::Writer e(extensions_);
  e.explicit_tag(0, [&] {
    e.sequence([&] {
      extension(e, kAuthorityKeyIdentifier, false, [&] {
        e.sequence([&] { e.tlv(der::kContextPrimitive0, signer_.key_identifier()); });
      });
      extension(e, kCrlNumber, false, [&] { e.integer(crl_number_); });
      if (delta_base_) {
        // RFC 5280 5.2.4: deltaCRLIndicator is critical.
        extension(e, kDeltaCrlIndicator, true, [&] { e.integer(*delta_base_); });
      }
      if (!distribution_point_.empty()) {
        extension(e, kIssuingDistributionPoint, true,
                  [&] { e.sequence([&] { distribution_point_name(e, distribution_point_); }); });
      }
      if (!freshest_crl_.empty() && !delta_base_) {
        extension(e, kFreshestCrl, false, [&] {
          e.sequence([&] {  // CRLDistributionPoints ::= SEQUENCE OF DistributionPoint
            e.sequence([&] { distribution_point_name(e, freshest_crl_); });
          });
        });
      }
    });
  });

  // TBSCertList's fields before the entries.
  std::string fields;
  der::Writer f(fields);
  f.integer(std::uint64_t{1});            // version v2,
  f.raw(signer_.algorithm_identifier());  // signature AlgorithmIdentifier,
  f.raw(signer_.issuer_name_der());       // issuer Name,
  f.time(this_update_);                   // thisUpdate Time,
  f.time(next_update_);                   // nextUpdate Time,
  // revokedCertificates SEQUENCE OF ... OPTIONAL: absent when empty (RFC 5280 5.1.2.6).
  const std::uint64_t entries = entries_size_ == 0 ? 0 : tlv_size(entries_size_);
  const std::uint64_t tbs_content = fields.size() + entries + extensions_.size();
  tbs_size_ = tlv_size(tbs_content);

  // The CertificateList header goes before the TBSCertList, and its length includes the
  // signature, known only at the end: room is left for the header a signature of the expected
  // size gives, and finish() moves the TBSCertList in the rare case an ECDSA signature's size
  // changes the header's.
  const std::uint64_t expected_content = tbs_size_ + signer_.algorithm_identifier().size() +
                                         tlv_size(1 + signer_.expected_signature_size());
  tbs_offset_ = 1 + der::length_size(expected_content);
  flushed_ = tbs_offset_;

  buffer_.reserve(kWriteChunk + 256);
  der::header(buffer_, der::kSequence, tbs_content);
  buffer_.append(fields);
  if (entries_size_ != 0) {
    der::header(buffer_, der::kSequence, entries_size_);
  }
}

void CrlBuilder::add_entry(std::string_view serial_octets, UnixTime revocation_date,
                           ReasonCode reason, std::optional<UnixTime> invalidity_date) {
  prepare(revocation_date, invalidity_date);
  const bool has_reason = reason != ReasonCode::kUnspecified;  // RFC 5280 5.3.1: left out
  const std::size_t before = buffer_.size();
  der::Writer w(buffer_);
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
  written_entries_size_ += buffer_.size() - before;
  ++added_;
  if (buffer_.size() >= kWriteChunk) {
    flush();
  }
}

void CrlBuilder::flush() {
  out_->write_at(flushed_, buffer_);
  flushed_ += buffer_.size();
  buffer_.clear();
}

void CrlBuilder::finish() {
  if (added_ != counted_ || written_entries_size_ != entries_size_) {
    throw std::logic_error("CRL entries written differ from the entries counted");
  }
  buffer_.append(extensions_);
  flush();
  if (flushed_ != tbs_offset_ + tbs_size_) {
    throw std::logic_error("the TBSCertList written differs from its computed size");
  }

  std::string signature;
  {
    // Signed from the file's own pages: no copy of the TBSCertList in memory.
    const MappedFile written = out_->map();
    signer_.sign(written.bytes().substr(tbs_offset_, tbs_size_), signature);
  }
  std::string tail;
  der::Writer t(tail);
  t.raw(signer_.algorithm_identifier());  // signatureAlgorithm AlgorithmIdentifier,
  t.bit_string(signature);                // signatureValue BIT STRING }
  std::string header;
  der::header(header, der::kSequence, tbs_size_ + tail.size());  // CertificateList ::= SEQUENCE
  if (header.size() != tbs_offset_) {
    out_->move_range(tbs_offset_, tbs_size_, header.size());
    tbs_offset_ = header.size();
  }
  out_->write_at(0, header);
  out_->write_at(tbs_offset_ + tbs_size_, tail);
  der_size_ = tbs_offset_ + tbs_size_ + tail.size();
  out_->truncate(der_size_);
}

}  // namespace revocore::crl
