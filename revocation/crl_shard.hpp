#pragma once
// Which of an issuer's CRL shards a certificate is listed in (RFC 5280 5.2.5: each shard is a
// CRL of its own, scoped by its issuingDistributionPoint). The shard is chosen once, when the
// certificate is registered, and stored with it (CertificateRecord::crl_shard): a certificate's
// CRL distribution point is embedded at issuance and must never point elsewhere later, so a new
// shard count applies to new certificates only (Boulder had to learn this, boulder#7094).
#include <cstdint>

#include "revocation/serial.hpp"

namespace revocore {

// The largest `crl_shards` an issuer may have: 1024 shards of a 1,000,000-entry CRL are about
// 34 KiB each; more only multiplies fetches, signatures and the shard list.
inline constexpr std::uint16_t kMaxCrlShards = 1024;

// A shard in [0, shard_count): FNV-1a of the serial octets, so that sequential and random
// serials spread evenly. Changing this function moves no certificate (the shard is stored).
std::uint16_t crl_shard_for(const Serial& serial, std::uint16_t shard_count) noexcept;

}  // namespace revocore
