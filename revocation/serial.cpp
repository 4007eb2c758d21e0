#include "revocation/serial.hpp"

#include <fmt/format.h>

#include <cstring>

#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore {

using codec::hex_digit;

Serial Serial::from_der_content(std::string_view octets) {
  if (octets.empty() || octets.size() > kMaxOctets) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("a certificate serial number of {} octets is outside RFC 5280's limit "
                            "of 1 to 20 octets",
                            octets.size()));
  }
  Serial serial;
  std::memcpy(serial.bytes_.data(), octets.data(), octets.size());
  serial.size_ = static_cast<std::uint8_t>(octets.size());
  return serial;
}

Serial Serial::from_hex(std::string_view text) {
  const std::string_view original = text;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
  }
  std::string digits;
  for (char c : text) {
    if (c == ':') {
      continue;
    }
    if (hex_digit(c) < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("serial number '{}' is not hexadecimal; give it as printed by "
                              "`openssl x509 -serial`, e.g. 1A2B3C",
                              original));
    }
    digits.push_back(c);
  }
  const auto first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  if (digits.size() % 2 != 0) {
    digits.insert(digits.begin(), '0');
  }
  std::string octets;
  // DER INTEGER is two's complement: a positive number whose top bit is set gets a 0x00 octet.
  if (hex_digit(digits[0]) >= 8) {
    octets.push_back('\0');
  }
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    octets.push_back(static_cast<char>(hex_digit(digits[i]) * 16 + hex_digit(digits[i + 1])));
  }
  if (octets.size() > kMaxOctets) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("serial number '{}' is longer than RFC 5280's 20 octets", original));
  }
  return from_der_content(octets);
}

std::string Serial::hex() const {
  std::string out;
  std::size_t start = 0;
  // Drop the DER sign octet of positive serials, as `openssl x509 -serial` does.
  if (size_ > 1 && bytes_[0] == 0) {
    start = 1;
  }
  for (std::size_t i = start; i < size_; ++i) {
    out += fmt::format("{:02X}", bytes_[i]);
  }
  return out;
}

}  // namespace revocore
