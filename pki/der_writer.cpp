#include "pki/der_writer.hpp"

#include <ctime>

namespace revocore::der {
namespace {

void digits(char* out, int value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// YYYYMMDDHHMMSSZ, or YYMMDDHHMMSSZ with `two_digit_year`; returns the octets written.
std::size_t time_text(char* text, UnixTime t, bool two_digit_year) {
  const std::time_t seconds = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  const int year = tm.tm_year + 1900;
  std::size_t n = two_digit_year ? 2 : 4;
  digits(text, two_digit_year ? year % 100 : year, static_cast<int>(n));
  digits(text + n, tm.tm_mon + 1, 2);
  digits(text + n + 2, tm.tm_mday, 2);
  digits(text + n + 4, tm.tm_hour, 2);
  digits(text + n + 6, tm.tm_min, 2);
  digits(text + n + 8, tm.tm_sec, 2);
  text[n + 10] = 'Z';
  return n + 11;
}

}  // namespace

std::string integer_content(std::uint64_t value) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    const auto byte = static_cast<char>((value >> shift) & 0xFF);
    if (!out.empty() || byte != 0 || shift == 0) {
      if (out.empty() && (static_cast<std::uint8_t>(byte) & 0x80)) {
        out.push_back('\0');  // keep it positive
      }
      out.push_back(byte);
    }
  }
  return out;
}

void Writer::close(std::size_t content_start) {
  const std::size_t length = out_.size() - content_start;
  if (length < 0x80) {
    out_[content_start - 1] = static_cast<char>(length);
    return;
  }
  // Long form (X.690 8.1.3.5): 0x80 | n, then n octets of length; the content moves up by n.
  const std::size_t n = length_size(length) - 1;
  out_.insert(content_start, n, '\0');
  out_[content_start - 1] = static_cast<char>(0x80 | n);
  for (std::size_t i = 0; i < n; ++i) {
    out_[content_start + i] = static_cast<char>((length >> ((n - 1 - i) * 8)) & 0xFF);
  }
}

void Writer::enumerated(std::uint8_t value) {
  const char octets[] = {static_cast<char>(kEnumerated), 1, static_cast<char>(value)};
  out_.append(octets, sizeof octets);
}

void Writer::boolean(bool value) {
  // X.690 11.1: DER encodes TRUE as 0xFF.
  const char octets[] = {static_cast<char>(kBoolean), 1, static_cast<char>(value ? 0xFF : 0x00)};
  out_.append(octets, sizeof octets);
}

void Writer::bit_string(std::string_view octets) {
  header(out_, kBitString, 1 + octets.size());
  out_.push_back('\0');  // no unused bits
  out_.append(octets);
}

void Writer::implicit_null(std::uint8_t tag) {
  const char octets[] = {static_cast<char>(tag), 0};
  out_.append(octets, sizeof octets);
}

void Writer::time(UnixTime t) {
  char text[15];
  if (t < kGeneralizedTimeFrom) {
    const std::size_t n = time_text(text, t, /*two_digit_year=*/true);
    tlv(kUtcTime, std::string_view(text, n));
  } else {
    generalized_time(t);
  }
}

void Writer::generalized_time(UnixTime t) {
  char text[15];
  const std::size_t n = time_text(text, t, /*two_digit_year=*/false);
  tlv(kGeneralizedTime, std::string_view(text, n));
}

}  // namespace revocore::der
