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

void CrlBuilder::start(AtomicFile& out, std::uint64_t expected_entries_size) {
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
  der::Writer f(fields_);
  f.integer(std::uint64_t{1});            // version v2,
  f.raw(signer_.algorithm_identifier());  // signature AlgorithmIdentifier,
  f.raw(signer_.issuer_name_der());       // issuer Name,
  f.time(this_update_);                   // thisUpdate Time,
  f.time(next_update_);                   // nextUpdate Time,
  // The entries go after the room their headers take if the CRL is the expected size.
  const std::size_t prefix = tbs_prefix(expected_entries_size).size();
  entries_offset_ = list_header_size(prefix + expected_entries_size + extensions_.size()) + prefix;
  buffer_.reserve(kWriteChunk + 256);
}

// The CertificateList's header for a TBSCertList of `tbs_size` octets and a signature of the
// expected size.
std::uint64_t CrlBuilder::list_header_size(std::uint64_t tbs_size) const {
  return 1 + der::length_size(tbs_size + signer_.algorithm_identifier().size() +
                              tlv_size(1 + signer_.expected_signature_size()));
}

std::string CrlBuilder::tbs_prefix(std::uint64_t entries_size) const {
  // revokedCertificates SEQUENCE OF ... OPTIONAL: absent when empty (RFC 5280 5.1.2.6).
  const std::uint64_t entries = entries_size == 0 ? 0 : tlv_size(entries_size);
  std::string prefix;
  der::header(prefix, der::kSequence, fields_.size() + entries + extensions_.size());
  prefix.append(fields_);
  if (entries_size != 0) {
    der::header(prefix, der::kSequence, entries_size);
  }
  return prefix;
}

void CrlBuilder::add_entry(std::string_view serial_octets, UnixTime revocation_date,
                           ReasonCode reason, std::optional<UnixTime> invalidity_date) {
  prepare(revocation_date, invalidity_date);
  const bool has_reason = reason != ReasonCode::kUnspecified;  // RFC 5280 5.3.1: left out
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
  ++count_;
  if (buffer_.size() >= kWriteChunk) {
    flush();
  }
}

void CrlBuilder::flush() {
  out_->write_at(entries_offset_ + entries_size_, buffer_);
  entries_size_ += buffer_.size();
  buffer_.clear();
  // The disk writes each 4 MiB while the next ones are encoded; publishing's fsync then waits
  // for little more than the last piece.
  constexpr std::uint64_t kWriteback = 4 << 20;
  if (entries_size_ - written_back_ >= kWriteback) {
    out_->start_writeback(entries_offset_ + written_back_, entries_size_ - written_back_);
    written_back_ = entries_size_;
  }
}

void CrlBuilder::finish() {
  flush();
  std::string().swap(buffer_);
  // The TBSCertList, now that the entries' size is known, after the CertificateList header a
  // signature of the expected size needs; the entries move when their room was not right.
  const std::string prefix = tbs_prefix(entries_size_);
  const std::uint64_t tbs_size = prefix.size() + entries_size_ + extensions_.size();
  std::uint64_t tbs_offset = list_header_size(tbs_size);
  if (tbs_offset + prefix.size() != entries_offset_) {
    out_->move_range(entries_offset_, entries_size_, tbs_offset + prefix.size());
  }
  out_->write_at(tbs_offset, prefix);
  out_->write_at(tbs_offset + prefix.size() + entries_size_, extensions_);

  std::string signature;
  {
    // Hashed and signed from the file's own pages: no copy of the TBSCertList in memory.
    const MappedFile written = out_->map();
    signer_.sign(written.bytes().substr(tbs_offset, tbs_size), signature);
  }
  std::string tail;
  der::Writer t(tail);
  t.raw(signer_.algorithm_identifier());  // signatureAlgorithm AlgorithmIdentifier,
  t.bit_string(signature);                // signatureValue BIT STRING }
  std::string header;
  der::header(header, der::kSequence, tbs_size + tail.size());  // CertificateList ::= SEQUENCE
  if (header.size() != tbs_offset) {
    // An ECDSA signature an octet shorter or longer than expected changed the header's size.
    out_->move_range(tbs_offset, tbs_size, header.size());
    tbs_offset = header.size();
  }
  out_->write_at(0, header);
  out_->write_at(tbs_offset + tbs_size, tail);
  der_size_ = tbs_offset + tbs_size + tail.size();
  out_->truncate(der_size_);
}

}  // namespace revocore::crl
