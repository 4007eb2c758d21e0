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
// One pass over the entries, written straight into the file and never held in memory (a
// 1,000,000-entry CRL is 34 MiB): DER needs each length before its content, so start() leaves
// room for the headers, sized for the entries the caller expects (the shard's previous CRL),
// add_entry() writes each entry through a small buffer, and finish() writes the headers once the
// lengths are known, moving the entries when the room left was not the right size (only when
// a length crosses 128, 256, 64 Ki or 16 Mi octets between two CRLs), then signs the
// TBSCertList from the file's own pages and writes the signature.
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

  // Starts writing into `out` (empty, outliving finish()), room left for the headers of about
  // `expected_entries_size` octets of entries.
  void start(AtomicFile& out, std::uint64_t expected_entries_size);
  // Each entry, in the order of the CRL. `serial_octets` are the DER INTEGER content octets.
  // reasonCode is left out for unspecified (RFC 5280 5.3.1); invalidityDate is added when known
  // (5.3.2).
  void add_entry(std::string_view serial_octets, UnixTime revocation_date, ReasonCode reason,
                 std::optional<UnixTime> invalidity_date);
  // Writes the headers, signs and completes the file.
  void finish();
  std::size_t entry_count() const noexcept { return count_; }
  std::uint64_t der_size() const noexcept { return der_size_; }

 private:
  // Updates the cached encodings of the date and the invalidityDate extension.
  void prepare(UnixTime revocation_date, std::optional<UnixTime> invalidity_date);
  void flush();
  // TBSCertList's header, its fields before the entries and the entries' SEQUENCE header, for
  // `entries_size` octets of entries.
  std::string tbs_prefix(std::uint64_t entries_size) const;
  std::uint64_t list_header_size(std::uint64_t tbs_size) const;

  const CrlSigner& signer_;
  UnixTime this_update_;
  UnixTime next_update_;
  std::uint64_t crl_number_;
  std::optional<std::uint64_t> delta_base_;
  std::string distribution_point_;
  std::string freshest_crl_;

  AtomicFile* out_ = nullptr;
  std::string fields_;                // version, signature, issuer, thisUpdate, nextUpdate
  std::string extensions_;            // crlExtensions [0], encoded by start()
  std::uint64_t entries_offset_ = 0;  // where start() put the first entry
  std::uint64_t entries_size_ = 0;
  std::uint64_t written_back_ = 0;  // entries handed to start_writeback()
  std::size_t count_ = 0;
  std::string buffer_;  // entries not yet written
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
