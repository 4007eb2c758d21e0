#pragma once
// Encodes and signs an X.509 v2 CRL (RFC 5280 5.1), full or delta, straight to DER:
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
// Entries are appended to one buffer as they come (no object per entry), which is what makes a
// CRL of a million entries take well under a second; OpenSSL only signs the finished TBSCertList.
// The issue time is a parameter: the builder never reads a clock.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
  void reserve(std::size_t entries) { entries_.reserve(entries * 40); }

  // `serial_octets` are the DER INTEGER content octets. reasonCode is left out for unspecified
  // (RFC 5280 5.3.1); invalidityDate is added when known (5.3.2).
  void add_entry(std::string_view serial_octets, UnixTime revocation_date, ReasonCode reason,
                 std::optional<UnixTime> invalidity_date);
  std::size_t entry_count() const noexcept { return count_; }

  // The signed CertificateList, DER.
  std::string finish() const;

 private:
  const CrlSigner& signer_;
  UnixTime this_update_;
  UnixTime next_update_;
  std::uint64_t crl_number_;
  std::optional<std::uint64_t> delta_base_;
  std::string distribution_point_;
  std::string freshest_crl_;
  std::string entries_;  // the revokedCertificates entries, DER, back to back
  std::size_t count_ = 0;
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
