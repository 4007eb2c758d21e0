#pragma once
// thisUpdate and nextUpdate of a DER CRL, read from its first bytes without decoding the
// entries (a 1,000,000-entry CRL is 34 MiB; OpenSSL's d2i_X509_CRL takes about a second over it).
// The responder's /crl/ route uses them for Last-Modified and for how long caches may keep it.
#include <optional>
#include <string_view>

#include "revocation/types.hpp"

namespace revocore::crl {

struct CrlValidity {
  UnixTime this_update = 0;
  std::optional<UnixTime> next_update;  // OPTIONAL in RFC 5280 5.1.2.5; revocore always sets it
};

// The CertificateList's version, signature, issuer, thisUpdate and nextUpdate from `der`, which
// may be only the file's start (4 KiB are plenty for any issuer name revocore signs with).
// nullopt when those are not there or not well formed.
std::optional<CrlValidity> read_crl_validity(std::string_view der) noexcept;

}  // namespace revocore::crl
