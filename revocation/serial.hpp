#pragma once
// Certificate serial numbers, as every component names them (the store's keys, CRL entries,
// OCSP CertIDs, the command line).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace revocore {

// A certificate serial as the content octets of its DER INTEGER (RFC 5280 4.1.2.2: at most 20
// octets of value, so at most 21 with the sign octet). Fixed storage: no heap on the hot path.
class Serial {
 public:
  static constexpr std::size_t kMaxOctets = 21;

  Serial() = default;
  // From DER INTEGER content octets; throws kInvalidArgument when empty or too long.
  static Serial from_der_content(std::string_view octets);
  // From hexadecimal (optionally "0x"-prefixed, ':' separators allowed), read as a positive number.
  static Serial from_hex(std::string_view hex);

  std::string_view octets() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), size_};
  }
  std::string hex() const;  // upper case, no separators, no sign octet
  bool operator==(const Serial& other) const noexcept { return octets() == other.octets(); }

 private:
  std::array<std::uint8_t, kMaxOctets> bytes_{};
  std::uint8_t size_ = 0;
};

}  // namespace revocore
