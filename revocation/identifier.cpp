#include "revocation/identifier.hpp"

#include <fmt/format.h>

#include "revocation/error.hpp"

namespace revocore {

std::size_t utf8_sequence_length(std::string_view text) noexcept {
  if (text.empty()) {
    return 0;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char c = p[0];
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (c < 0x80) {
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    length = 2;
    code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    code = c & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((p[i] & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (p[i] & 0x3F);
  }
  const std::uint32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
  if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

bool is_valid_utf8(std::string_view text) noexcept {
  while (!text.empty()) {
    const std::size_t length = utf8_sequence_length(text);
    if (length == 0) {
      return false;
    }
    text.remove_prefix(length);
  }
  return true;
}

void check_identifier(std::string_view field, std::string_view id) {
  if (id.empty()) {
    throw Error(ErrorCode::kInvalidArgument, fmt::format("{} is empty; give an id", field));
  }
  if (id.size() > kMaxIdentifierBytes) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} is {} bytes long; ids are at most {} bytes", field, id.size(),
                            kMaxIdentifierBytes));
  }
  if (!is_valid_utf8(id)) {
    throw Error(ErrorCode::kInvalidArgument, fmt::format("{} is not valid UTF-8", field));
  }
  for (const char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} holds a control character (byte 0x{:02x}); ids are printable",
                              field, static_cast<unsigned>(static_cast<unsigned char>(c))));
    }
  }
}

}  // namespace revocore
