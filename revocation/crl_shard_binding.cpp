#include "revocation/crl_shard_binding.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "revocation/error.hpp"

namespace revocore {

CrlShardCount check_crl_shards(const StoreTransaction& txn, const IssuerRecord& issuer,
                               std::uint16_t configured, std::string_view origin) {
  CrlShardCount count;
  count.configured = std::max<std::uint16_t>(configured, 1);
  count.published = std::max(count.configured, issuer.crl_shards);
  if (count.configured != 1) {
    const std::uint64_t unsharded = issuer.unsharded_certificates
                                        ? *issuer.unsharded_certificates
                                        : txn.count_unsharded_certificates(issuer.id);
    if (unsharded != 0) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("{}: issuer '{}' has crl_shards = {}, but {} of its certificates "
                              "were registered before CRL shards existed and carry no shard; "
                              "their CRL distribution point is the issuer's single CRL. Keep "
                              "crl_shards = 1 for this issuer, or shard a new issuer (docs/CRL.md)",
                              origin, issuer.name, configured, unsharded));
    }
  }
  return count;
}

CrlShardCount bind_crl_shards(WriteTransaction& txn, IssuerRecord issuer, std::uint16_t configured,
                              std::string_view origin) {
  const CrlShardCount count = check_crl_shards(txn, issuer, configured, origin);
  bool changed = false;
  if (!issuer.unsharded_certificates) {
    issuer.unsharded_certificates = txn.count_unsharded_certificates(issuer.id);
    changed = true;
  }
  if (issuer.crl_shards < count.configured) {
    issuer.crl_shards = count.configured;
    changed = true;
  }
  if (changed) {
    txn.put_issuer(issuer);
  }
  return count;
}

}  // namespace revocore
