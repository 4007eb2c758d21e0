#pragma once
// The names under which an issuer's CRLs are published, in one place: the publisher writes them
// and the responder's /crl/ route serves those names and no others.
//   <issuer>.crl                    shard 0's current full CRL (the single CRL when unsharded)
//   <issuer>-<number>.crl           each of its full CRLs, kept under its CRL number
//   <issuer>-delta.crl              its current delta CRL (RFC 5280 5.2.4)
//   <issuer>-delta-<number>.crl
//   <issuer>-shard<S>.crl, <issuer>-shard<S>-<number>.crl, <issuer>-shard<S>-delta.crl,
//   <issuer>-shard<S>-delta-<number>.crl        the same for shard S >= 1
//   <issuer>-shards.json            every shard's URLs (docs/CRL.md)
// each CRL with a ".pem" copy beside it when the issuer's `pem = true`. Over HTTP a shard is
// also reachable as /crl/<issuer>/<S>.crl, /crl/<issuer>/<S>-delta.crl, /crl/<issuer>/<S>-<n>.crl
// and /crl/<issuer>/<S>-delta-<n>.crl (0 included), the list as /crl/<issuer>/shards.json.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/configuration.hpp"

namespace revocore::crl {

enum class CrlKind { kFull, kDelta };

// "<issuer>" or "<issuer>-shard<S>", then "-delta" for a delta CRL.
std::string crl_file_stem(std::string_view issuer, std::uint16_t shard, CrlKind kind);
inline std::string crl_file_stem(std::string_view issuer, CrlKind kind) {
  return crl_file_stem(issuer, 0, kind);
}
// "<issuer>-shards.json".
std::string shard_list_file_name(std::string_view issuer);

// True when `name` is one of the file names above for `issuer` (its CRL settings say whether
// ".pem" copies and deltas are published). Nothing else in a publish directory is ever served.
bool is_published_crl_name(const config::IssuerConfig& issuer, std::string_view name) noexcept;

// The file a /crl/ request path (what follows "/crl/") names for `issuer`: a published file name
// as is, or the "<issuer>/<S>..." form mapped to its file; nullopt for anything else.
std::optional<std::string> published_file_for(const config::IssuerConfig& issuer,
                                              std::string_view path);

}  // namespace revocore::crl
