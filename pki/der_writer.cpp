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

void time(std::string& out, UnixTime t) {
  const std::time_t seconds = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  const int year = tm.tm_year + 1900;
  char text[15];
  std::size_t n = 0;
  if (year < 2050) {
    out.push_back(static_cast<char>(kUtcTime));
    out.push_back(13);
    digits(text, year % 100, 2);
    n = 2;
  } else {
    out.push_back(static_cast<char>(kGeneralizedTime));
    out.push_back(15);
    digits(text, year, 4);
    n = 4;
  }
  digits(text + n, tm.tm_mon + 1, 2);
  digits(text + n + 2, tm.tm_mday, 2);
  digits(text + n + 4, tm.tm_hour, 2);
  digits(text + n + 6, tm.tm_min, 2);
  digits(text + n + 8, tm.tm_sec, 2);
  text[n + 10] = 'Z';
  out.append(text, n + 11);
}

void generalized_time(std::string& out, UnixTime t) {
  const std::time_t seconds = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[15];
  digits(text, tm.tm_year + 1900, 4);
  digits(text + 4, tm.tm_mon + 1, 2);
  digits(text + 6, tm.tm_mday, 2);
  digits(text + 8, tm.tm_hour, 2);
  digits(text + 10, tm.tm_min, 2);
  digits(text + 12, tm.tm_sec, 2);
  text[14] = 'Z';
  out.push_back(static_cast<char>(kGeneralizedTime));
  out.push_back(15);
  out.append(text, 15);
}

}  // namespace revocore::der
