#pragma once
// An issuer's CRL shard count as configured, checked against what its certificates in the store
// were bound under (revocation/crl_shard.hpp). Called by everything that registers certificates
// or publishes CRLs, so that neither can run on a shard count the store contradicts.
#include <cstdint>
#include <string_view>

#include "revocation/store.hpp"

namespace revocore {

struct CrlShardCount {
  std::uint16_t configured = 1;  // what new certificates are bound under
  // Shards to publish: the configured count or the largest any certificate was bound under,
  // whichever is more (a shard keeps being published while it may list a certificate).
  std::uint16_t published = 1;
};

// Throws kInvalidConfig, naming `origin` (the file and line of crl_shards), when the issuer has
// certificates registered before shards existed (they carry no shard) and `configured` is not 1:
// their embedded CRL distribution point is the single CRL's.
CrlShardCount check_crl_shards(const StoreTransaction& txn, const IssuerRecord& issuer,
                               std::uint16_t configured, std::string_view origin);

// The check, then records in the issuer's record the count new certificates are bound under and
// how many carry no shard (counted once for a record written before shards existed).
CrlShardCount bind_crl_shards(WriteTransaction& txn, IssuerRecord issuer, std::uint16_t configured,
                              std::string_view origin);

}  // namespace revocore
