#pragma once
// The names under which an issuer's CRLs are published, in one place: the publisher writes them
// and the responder's /crl/ route serves those names and no others.
//   <issuer>.crl               the current full CRL
//   <issuer>-<number>.crl      each full CRL, kept under its CRL number
//   <issuer>-delta.crl         the current delta CRL (RFC 5280 5.2.4)
//   <issuer>-delta-<number>.crl
// each with a ".pem" copy beside it when the issuer's `pem = true`.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/configuration.hpp"

namespace revocore::crl {

enum class CrlKind { kFull, kDelta };

// "<issuer>" or "<issuer>-delta".
std::string crl_file_stem(std::string_view issuer, CrlKind kind);

// True when `name` is one of the names above for `issuer` (its CRL settings say whether ".pem"
// copies are published). Nothing else in a publish directory is ever served.
bool is_published_crl_name(const config::IssuerConfig& issuer, std::string_view name) noexcept;

}  // namespace revocore::crl
