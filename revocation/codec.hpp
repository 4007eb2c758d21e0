#pragma once
// Little building blocks of the store's binary record encoding. Integers are written big-endian
// so that keys sort numerically in LMDB; values use the same writer for simplicity. LMDB only
// guarantees 2-byte alignment of values, so every read goes through memcpy.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "revocation/error.hpp"

namespace revocore::codec {

class ByteWriter {
 public:
  // Appends to `out` (not cleared), so a caller can reuse one buffer across many records.
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { big_endian(v, 2); }
  void u32(std::uint32_t v) { big_endian(v, 4); }
  void u64(std::uint64_t v) { big_endian(v, 8); }
  void i64(std::int64_t v) { big_endian(static_cast<std::uint64_t>(v), 8); }
  void bytes(std::string_view b) { out_.append(b); }
  // Strings carry a 16-bit length; longer ones are refused, never truncated.
  void str(std::string_view s) {
    if (s.size() > 0xFFFF) {
      throw Error(ErrorCode::kInvalidArgument, "text field longer than 65535 bytes");
    }
    u16(static_cast<std::uint16_t>(s.size()));
    out_.append(s);
  }

 private:
  // One append per field, not one push_back per byte: the change feed encodes a few million
  // fields a second, and the per-byte version was its largest cost (perf, 3% of all samples).
  void big_endian(std::uint64_t v, int width) {
    char buffer[8];
    for (int i = 0; i < width; ++i) {
      buffer[i] = static_cast<char>((v >> ((width - 1 - i) * 8)) & 0xFF);
    }
    out_.append(buffer, static_cast<std::size_t>(width));
  }
  std::string& out_;
};

class ByteReader {
 public:
  // `what` names the record for the corruption message.
  ByteReader(std::string_view in, const char* what) : in_(in), what_(what) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(big_endian(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(big_endian(4)); }
  std::uint64_t u64() { return big_endian(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(big_endian(8)); }
  std::string_view bytes(std::size_t n) { return take(n); }
  std::string_view str() { return take(u16()); }
  bool at_end() const noexcept { return in_.empty(); }
  [[noreturn]] void fail(std::string_view detail) const;

 private:
  std::string_view take(std::size_t n) {
    if (in_.size() < n) {
      fail("record is truncated");
    }
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::uint64_t big_endian(int width) {
    std::string_view b = take(static_cast<std::size_t>(width));
    std::uint64_t v = 0;
    for (char c : b) {
      v = (v << 8) | static_cast<std::uint8_t>(c);
    }
    return v;
  }
  std::string_view in_;
  const char* what_;
};

// The value of a hexadecimal digit, or -1.
inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Fixed-width big-endian helpers for patching records in place (the status-apply hot path).
inline void store_u64_at(char* dst, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    dst[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
}
inline std::uint64_t load_u64_at(const char* src) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<std::uint8_t>(src[i]);
  }
  return v;
}

}  // namespace revocore::codec
