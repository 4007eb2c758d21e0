#pragma once
// Encodes and signs an X.509 v2 CRL (RFC 5280 5.1), full or delta, straight into its file:
//
//   CertificateList  ::=  SEQUENCE  {
//        tbsCertList          TBSCertList,
//        signatureAlgorithm   AlgorithmIdentifier,
//        signatureValue       BIT STRING  }
//
//   TBSCertList  ::=  SEQUENCE  {
//        version                 Version OPTIONAL,       -- v2
//        signature               AlgorithmIdentifier,
//        issuer                  Name,
//        thisUpdate              Time,
//        nextUpdate              Time OPTIONAL,
//        revokedCertificates     SEQUENCE OF SEQUENCE  {
//             userCertificate         CertificateSerialNumber,
//             revocationDate          Time,
//             crlEntryExtensions      Extensions OPTIONAL  } OPTIONAL,
//        crlExtensions           [0]  EXPLICIT Extensions OPTIONAL  }
//
// Two passes over the same entries, so that the CRL is written once and never held in memory:
// count_entry() for each entry adds up the sizes (DER needs every length before its content),
// then start() and add_entry() for each entry write the bytes to the file through a small
// buffer, and finish() signs the TBSCertList read back from the file's pages and writes the
// signature. Memory is the buffer, whatever the entry count (a 1,000,000-entry CRL is 34 MiB).
// The issue time is a parameter: the builder never reads a clock.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crl/atomic_file.hpp"
#include "crl/crl_signer.hpp"
#include "revocation/types.hpp"

namespace revocore::crl {

class CrlBuilder {
 public:
  // Does not take ownership; `signer` must outlive the builder.
  CrlBuilder(const CrlSigner& signer, UnixTime this_update, UnixTime next_update,
             std::uint64_t crl_number);

  // Makes this a delta CRL over the full CRL numbered `base_number` (RFC 5280 5.2.4).
  void set_delta_base(std::uint64_t base_number) { delta_base_ = base_number; }
  // issuingDistributionPoint with a full name URI (RFC 5280 5.2.5), critical.
  void set_issuing_distribution_point(std::string uri) { distribution_point_ = std::move(uri); }
  // freshestCRL naming where the delta CRLs are (RFC 5280 5.2.6), on full CRLs.
  void set_freshest_crl(std::string uri) { freshest_crl_ = std::move(uri); }

  // Pass 1: each entry once, in the order pass 2 adds them. `serial_octets` are the DER INTEGER
  // content octets. reasonCode is left out for unspecified (RFC 5280 5.3.1); invalidityDate is
  // added when known (5.3.2).
  void count_entry(std::string_view serial_octets, UnixTime revocation_date, ReasonCode reason,
                   std::optional<UnixTime> invalidity_date);
  // Pass 2: the header, then each entry, into `out` (which must be empty and outlive finish()).
  void start(AtomicFile& out);
  void add_entry(std::string_view serial_octets, UnixTime revocation_date, ReasonCode reason,
                 std::optional<UnixTime> invalidity_date);
  // Signs and completes the file. Throws std::logic_error if pass 2 differed from pass 1.
  void finish();

  std::size_t entry_count() const noexcept { return counted_; }
  std::uint64_t der_size() const noexcept { return der_size_; }

 private:
  // Updates the cached encodings of the date and the invalidityDate extension.
  void prepare(UnixTime revocation_date, std::optional<UnixTime> invalidity_date);
  std::uint64_t entry_size(std::size_t serial_size, ReasonCode reason, bool has_invalidity) const;
  void flush();

  const CrlSigner& signer_;
  UnixTime this_update_;
  UnixTime next_update_;
  std::uint64_t crl_number_;
  std::optional<std::uint64_t> delta_base_;
  std::string distribution_point_;
  std::string freshest_crl_;

  std::uint64_t entries_size_ = 0;  // pass 1: the revokedCertificates content's size
  std::size_t counted_ = 0;
  std::uint64_t written_entries_size_ = 0;  // pass 2, checked against pass 1
  std::size_t added_ = 0;

  AtomicFile* out_ = nullptr;
  std::string buffer_;  // bytes not yet written, at file offset flushed_
  std::uint64_t flushed_ = 0;
  std::uint64_t tbs_offset_ = 0;  // where the TBSCertList starts in the file
  std::uint64_t tbs_size_ = 0;    // its whole TLV
  std::string extensions_;        // crlExtensions [0], encoded by start()
  std::uint64_t der_size_ = 0;

  // The last revocation date's encoding and the last invalidityDate extension: a mass
  // revocation shares one date.
  UnixTime cached_time_ = -1;
  std::string cached_time_der_;
  std::optional<UnixTime> cached_invalidity_;
  std::string cached_invalidity_der_;
  // The reasonCode entry extension of each CRLReason value (0 to 10), encoded once.
  std::array<std::string, 11> reason_extensions_;
};

}  // namespace revocore::crl
