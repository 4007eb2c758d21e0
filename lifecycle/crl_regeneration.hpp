#pragma once
// After a process, an approval or a batch job has committed: the CRLs of the issuers it changed
// are regenerated at once, so relying parties see the change in the next CRL they fetch.
#include <string_view>
#include <vector>

#include "config/configuration.hpp"
#include "crl/crl_publisher.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::lifecycle {

// One full CRL (and a delta where configured) per changed issuer that revocore publishes CRLs
// for. The change itself is already committed, so a failure throws kCrlNotPublished saying so:
// "<committed>, but its CRL was not published: <why>. Fix that and run <retry>".
std::vector<crl::PublishedCrl> regenerate_crls(Store& store, const config::Configuration& config,
                                               const Clock& clock,
                                               const std::vector<IssuerId>& issuers_changed,
                                               std::string_view committed, std::string_view retry);

}  // namespace revocore::lifecycle
