#pragma once
// Minimal DER (X.690) encoding for what revocore emits (CRLs, OCSP responses): lengths, INTEGER,
// ENUMERATED, OID bytes, times. Appends to a caller's buffer so the CRL builder can encode a
// million entries into one allocation. Sizes can be computed before writing (tlv_size), which
// nested SEQUENCEs need.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pki/der_tags.hpp"
#include "revocation/types.hpp"

namespace revocore::der {

inline std::size_t length_size(std::size_t length) noexcept {
  if (length < 0x80)
    return 1;
  std::size_t bytes = 0;
  for (std::size_t l = length; l != 0; l >>= 8)
    ++bytes;
  return 1 + bytes;
}
// Size of a whole TLV with `content` octets (one-octet tags only).
inline std::size_t tlv_size(std::size_t content) noexcept {
  return 1 + length_size(content) + content;
}

inline void header(std::string& out, std::uint8_t tag, std::size_t length) {
  out.push_back(static_cast<char>(tag));
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  const std::size_t bytes = length_size(length) - 1;
  out.push_back(static_cast<char>(0x80 | bytes));
  for (std::size_t i = bytes; i > 0; --i) {
    out.push_back(static_cast<char>((length >> ((i - 1) * 8)) & 0xFF));
  }
}

inline void tlv(std::string& out, std::uint8_t tag, std::string_view content) {
  header(out, tag, content.size());
  out.append(content);
}

// INTEGER from an unsigned number, minimal two's complement content.
std::string integer_content(std::uint64_t value);

// RFC 5280 4.1.2.5 / 5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050; both in UTC
// with seconds and a Z. Writes the whole TLV (15 or 17 octets).
void time(std::string& out, UnixTime t);
inline std::size_t time_size(UnixTime t) noexcept {
  return t < 2'524'608'000 ? 15 : 17;  // 2050-01-01T00:00:00Z
}
// GeneralizedTime always (RFC 5280 5.3.2 invalidityDate). 17 octets.
void generalized_time(std::string& out, UnixTime t);

}  // namespace revocore::der
