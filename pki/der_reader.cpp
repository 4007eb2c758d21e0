#include "pki/der_reader.hpp"

namespace revocore::der {

bool Reader::next(Tlv& out) noexcept {
  if (rest_.size() < 2) {
    return false;
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(rest_.data());
  const std::uint8_t tag = p[0];
  if ((tag & 0x1F) == 0x1F) {
    return false;  // high tag numbers: nothing revocore reads uses them
  }
  std::size_t length = p[1];
  std::size_t header = 2;
  if (length & 0x80) {
    const std::size_t octets = length & 0x7F;
    // 0: the indefinite form, not DER (X.690 10.1); more than 4: far beyond any request.
    if (octets == 0 || octets > 4 || rest_.size() < 2 + octets || p[2] == 0) {
      return false;
    }
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) {
      length = (length << 8) | p[2 + i];
    }
    if (length < 0x80) {
      return false;  // DER uses the short form below 128 (X.690 10.1)
    }
    header += octets;
  }
  if (rest_.size() - header < length) {
    return false;
  }
  out.tag = tag;
  out.content = rest_.substr(header, length);
  out.whole = rest_.substr(0, header + length);
  rest_.remove_prefix(header + length);
  return true;
}

}  // namespace revocore::der
