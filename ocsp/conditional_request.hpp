#pragma once
// Conditional GET (RFC 9110 13): whether a client's cached copy is still the current one, so the
// answer is 304 Not Modified without a body. Browsers, CDNs and CRL aggregators revalidate CRLs
// and OCSP answers this way instead of downloading them again.
#include <optional>
#include <string_view>

#include "ocsp/http_message.hpp"
#include "revocation/types.hpp"

namespace revocore::ocsp {

// RFC 9110 13.1.2: true when the If-None-Match field value (a list of entity-tags, or "*")
// holds `etag` by the weak comparison (W/ ignored, 8.8.3.2). A malformed list matches nothing.
bool if_none_match_holds(std::string_view field, std::string_view etag) noexcept;

// RFC 9110 5.6.7: an HTTP-date in the preferred IMF-fixdate form, or one of the two obsolete
// forms a recipient must accept (RFC 850, asctime); nullopt for anything else.
std::optional<UnixTime> parse_http_date(std::string_view text) noexcept;

// Whether `last_modified` may be given as Last-Modified and compared with If-Modified-Since at
// `now`: only once its second is over. HTTP dates have a resolution of one second, and two CRLs
// (or OCSP answers) made within the same second share one; a client can hold a Last-Modified
// only from an answer made after that second, when no other representation of that second can
// appear any more (RFC 9110 8.8.2.2: a date within the current second is a weak validator).
constexpr bool last_modified_is_settled(UnixTime last_modified, UnixTime now) noexcept {
  return now > last_modified;
}

// RFC 9110 13.2.2: If-None-Match decides when present; otherwise If-Modified-Since (when it is
// a valid date and `last_modified` is settled at `now`) does: not modified when `last_modified`
// is not after it.
bool is_not_modified(const HttpRequestView& request, std::string_view etag, UnixTime last_modified,
                     UnixTime now) noexcept;

}  // namespace revocore::ocsp
