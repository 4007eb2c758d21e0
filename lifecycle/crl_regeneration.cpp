#include "lifecycle/crl_regeneration.hpp"

#include <fmt/format.h>

#include "revocation/error.hpp"

namespace revocore::lifecycle {

std::vector<crl::PublishedCrl> regenerate_crls(Store& store, const config::Configuration& config,
                                               const Clock& clock,
                                               const std::vector<IssuerId>& issuers_changed,
                                               std::string_view committed, std::string_view retry) {
  if (issuers_changed.empty()) {
    return {};
  }
  try {
    return crl::CrlPublisher(store, config, clock).publish_after(issuers_changed);
  } catch (const Error& e) {
    throw Error(ErrorCode::kCrlNotPublished,
                fmt::format("{}, but its CRL was not published: {}. Fix that and run {}", committed,
                            e.what(), retry));
  }
}

}  // namespace revocore::lifecycle
