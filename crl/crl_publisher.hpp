#pragma once
// Makes and publishes an issuer's CRLs: checks everything that can be checked first (key,
// certificate, publish directory), then reserves the CRL number in LMDB (so a number is never
// used twice, even after a crash), builds the CRL from one read snapshot, writes it atomically
// and records what the new base covers.
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
  CrlKind kind = CrlKind::kFull;
  std::uint64_t number = 0;
  std::uint64_t delta_base = 0;  // for a delta: the full CRL it applies to
  std::size_t entries = 0;
  UnixTime this_update = 0;
  UnixTime next_update = 0;
  std::filesystem::path file;           // the stable name relying parties fetch
  std::filesystem::path numbered_file;  // the copy kept under its number
};

class CrlPublisher {
 public:
  // Does not take ownership; store and config must outlive the publisher.
  CrlPublisher(Store& store, const config::Configuration& config, Clock clock)
      : store_(store), config_(config), clock_(std::move(clock)) {}

  // Throws revocore::Error naming the issuer and the file; no CRL number is used up then.
  PublishedCrl publish(std::string_view issuer_name, CrlKind kind);

  // After a batch order committed (BatchResult::issuers_changed): for each issuer it changed that
  // has CRLs configured, a delta over the previous base (when deltas are on) and then a new full
  // CRL. One per issuer and batch, however many certificates changed.
  std::vector<PublishedCrl> publish_after(const std::vector<IssuerId>& issuers_changed);

  // Full CRLs that are missing or due (now >= nextUpdate - overlap), with their deltas.
  std::vector<PublishedCrl> publish_due();

  // Issuers with CRLs configured.
  std::vector<std::string> issuers_with_crls() const;

 private:
  std::vector<PublishedCrl> publish_with_delta(const config::IssuerConfig& issuer);

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
};

}  // namespace revocore::crl
