#pragma once
// Reads DER (X.690 10.1) TLVs out of a byte range without copying, for the one structure revocore
// decodes on a hot path: the OCSP request (ocsp/ocsp_request.cpp). Strict: single-octet tags,
// definite and minimal lengths (X.690 10.1), nothing past the end. Everything else is OpenSSL's.
#include <cstdint>
#include <string_view>

namespace revocore::der {

struct Tlv {
  std::uint8_t tag = 0;
  std::string_view content;  // the value octets
  std::string_view whole;    // tag, length and value
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) noexcept : rest_(bytes) {}

  bool empty() const noexcept { return rest_.empty(); }
  // The tag of the next TLV, 0 at the end (0 is not a tag DER structures use).
  std::uint8_t peek() const noexcept {
    return rest_.empty() ? 0 : static_cast<std::uint8_t>(rest_.front());
  }
  // Reads the next TLV; false when it is malformed or missing.
  bool next(Tlv& out) noexcept;
  // Reads the next TLV when it has `tag`; false (and nothing read) otherwise.
  bool expect(std::uint8_t tag, Tlv& out) noexcept { return peek() == tag && next(out); }

 private:
  std::string_view rest_;
};

}  // namespace revocore::der
