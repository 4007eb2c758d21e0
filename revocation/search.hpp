#pragma once
// One search box over the store (GET /api/v1/search, `revocore search`, the operator console):
// users by id prefix and by the words of their names, credentials by id prefix, certificates by
// serial prefix (hex, colons allowed) in every issuer or, written ISSUER/SERIAL, in one.
// Every part is a cursor range over an index, and every part is bounded, so a one-letter query
// over a million users costs what a page of results costs.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore {

struct SearchHit {
  enum class Kind { kUser, kCredential, kCertificate };
  Kind kind = Kind::kUser;
  User user;                       // kUser
  Credential credential;           // kCredential
  CertificateKey certificate_key;  // kCertificate
  CertificateRecord certificate;
};

struct SearchPage {
  std::vector<SearchHit> hits;  // users by id, users by name, credentials, certificates
  bool more = false;            // another page follows
};

inline constexpr std::size_t kMaxSearchLimit = 100;
inline constexpr std::size_t kMaxSearchOffset = 1000;
inline constexpr std::size_t kMaxSearchQueryBytes = 200;

// At most `limit` hits after skipping `offset`. Throws kInvalidArgument for an empty query, one
// longer than kMaxSearchQueryBytes or holding control characters, a limit of 0 or over
// kMaxSearchLimit, an offset over kMaxSearchOffset.
SearchPage search(const StoreTransaction& txn, std::string_view query, std::size_t limit,
                  std::size_t offset);

}  // namespace revocore
