#pragma once
// Makes and publishes an issuer's CRLs, shard by shard (docs/CRL.md): checks everything that can
// be checked first (key, certificate, publish directory, shard count), then reserves the CRL
// numbers in LMDB (so a number is never used twice, even after a crash), builds the CRLs from one
// read snapshot straight into their files (one scan for every shard published together), publishes
// them atomically and records what each covers.
//
// When CRLs are made (RFC 5280 5.2.4 for deltas): without delta CRLs, every change makes new
// full CRLs of the shards it touched. With them, a change makes a delta over each touched shard's
// current full CRL, so the newest full CRL and the newest delta always combine into the current
// state; full CRLs come on a schedule (nextUpdate - overlap, full_crl_interval_hours), each
// followed by a delta over it. full_crl_on_change = true makes full CRLs (and empty deltas over
// them) on every change instead.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "crl/crl_file_names.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::crl {

struct PublishedCrl {
  std::string issuer;
  std::uint16_t shard = 0;
  std::uint16_t shard_count = 1;  // the issuer's published shards
  CrlKind kind = CrlKind::kFull;
  std::uint64_t number = 0;
  std::uint64_t delta_base = 0;  // for a delta: the full CRL it applies to
  std::size_t entries = 0;
  std::uint64_t bytes = 0;
  UnixTime this_update = 0;
  UnixTime next_update = 0;
  std::filesystem::path file;           // the stable name relying parties fetch
  std::filesystem::path numbered_file;  // the copy kept under its number
  std::string url;                      // the issuingDistributionPoint (empty: none configured)
};

// Where the time of the last publish_shards() went, for benchmarks and logs.
struct CrlPublishTimings {
  double write_seconds = 0;    // scan the store (or the journal), encode, write to the files
  double sign_seconds = 0;     // headers, hash the TBSCertLists from the files' pages, sign
  double publish_seconds = 0;  // fsync, link and rename into place, fsync the directory
};

class CrlPublisher {
 public:
  // Does not take ownership; store and config must outlive the publisher.
  CrlPublisher(Store& store, const config::Configuration& config, Clock clock)
      : store_(store), config_(config), clock_(std::move(clock)) {}

  // One CRL of one shard (0: the single CRL of an unsharded issuer). Throws revocore::Error
  // naming the issuer and the file; no CRL number is used up then.
  PublishedCrl publish(std::string_view issuer_name, CrlKind kind, std::uint16_t shard = 0);
  // CRLs of `kind` for these shards, all built in the same two scans; empty: every shard.
  std::vector<PublishedCrl> publish_shards(std::string_view issuer_name, CrlKind kind,
                                           std::vector<std::uint16_t> shards = {});

  // Full CRLs of every shard and, when the issuer has delta CRLs, an empty delta over each, so
  // that the newest full and delta CRLs combine (`revocore crl generate`).
  std::vector<PublishedCrl> publish_full(std::string_view issuer_name);

  // After a batch order committed (BatchResult::issuers_changed): for each issuer it changed
  // that has CRLs configured, the CRLs of the shards whose certificates changed since they were
  // last published, as the scheme above says.
  std::vector<PublishedCrl> publish_after(const std::vector<IssuerId>& issuers_changed);

  // CRLs that are missing or due: full CRLs at nextUpdate - overlap or full_crl_interval_hours,
  // delta CRLs when a quarter of their validity is left.
  std::vector<PublishedCrl> publish_due();

  // Issuers with CRLs configured.
  std::vector<std::string> issuers_with_crls() const;
  // The shards an issuer's CRLs are published in (see revocation/crl_shard_binding.hpp).
  std::uint16_t published_shards(std::string_view issuer_name) const;

  const CrlPublishTimings& last_timings() const noexcept { return timings_; }

 private:
  std::vector<PublishedCrl> publish_group(const config::IssuerConfig& issuer, CrlKind kind,
                                          const std::vector<std::uint16_t>& shards);
  void write_shard_list(const config::IssuerConfig& issuer, std::uint16_t shards) const;

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
  CrlPublishTimings timings_;
};

}  // namespace revocore::crl
