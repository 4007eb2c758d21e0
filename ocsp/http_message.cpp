#include "ocsp/http_message.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

namespace revocore::ocsp {
namespace {

namespace http = boost::beast::http;

void append_number(std::string& out, std::uint64_t value) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

void two_digits(char* out, unsigned value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

}  // namespace

void HttpResponseBuffer::start(http::status status, unsigned version, bool keep_alive) {
  status_ = status;
  version_ = version;
  keep_alive_ = keep_alive;
  bytes_.clear();
  bytes_.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(bytes_, static_cast<unsigned>(status));
  bytes_.push_back(' ');
  bytes_.append(http::obsolete_reason(status));
  bytes_.append("\r\nServer: revocore\r\n");
  // RFC 9110 6.6.1: an origin server with a clock sends Date. Formatted once a second per thread.
  thread_local UnixTime formatted_at = -1;
  thread_local char date[kHttpDateSize];
  const UnixTime now = static_cast<UnixTime>(std::time(nullptr));
  if (now != formatted_at) {
    format_http_date(now, date);
    formatted_at = now;
  }
  header("Date", std::string_view(date, kHttpDateSize));
}

void HttpResponseBuffer::header(std::string_view name, std::string_view value) {
  bytes_.append(name);
  bytes_.append(": ");
  bytes_.append(value);
  bytes_.append("\r\n");
}

void HttpResponseBuffer::header(std::string_view name, std::uint64_t value) {
  bytes_.append(name);
  bytes_.append(": ");
  append_number(bytes_, value);
  bytes_.append("\r\n");
}

void HttpResponseBuffer::finish(std::string_view content_type, std::string_view body) {
  header("Content-Type", content_type);
  header("Content-Length", body.size());
  finish_without_body();
  bytes_.append(body);
}

void HttpResponseBuffer::finish_without_body() {
  // RFC 9112 9.3: HTTP/1.1 persists unless told otherwise; HTTP/1.0 only when told so.
  if (!keep_alive_) {
    bytes_.append("Connection: close\r\n");
  } else if (version_ == 10) {
    bytes_.append("Connection: keep-alive\r\n");
  }
  bytes_.append("\r\n");
  header_size_ = bytes_.size();
}

void HttpResponseBuffer::text(http::status status, unsigned version, bool keep_alive,
                              std::string_view body) {
  start(status, version, keep_alive);
  finish("text/plain; charset=utf-8", body);
}

void format_http_date(UnixTime t, char (&out)[kHttpDateSize]) {
  static constexpr std::string_view kDays = "SunMonTueWedThuFriSat";
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  using namespace std::chrono;
  const sys_seconds instant{seconds{t}};
  const sys_days day = floor<days>(instant);
  const year_month_day date{day};
  const hh_mm_ss clock{instant - day};
  const unsigned weekday_index = weekday{day}.c_encoding();
  const unsigned month_index = static_cast<unsigned>(date.month()) - 1;
  const int year = static_cast<int>(date.year());
  char* p = out;
  kDays.copy(p, 3, weekday_index * 3);
  p[3] = ',';
  p[4] = ' ';
  two_digits(p + 5, static_cast<unsigned>(date.day()));
  p[7] = ' ';
  kMonths.copy(p + 8, 3, month_index * 3);
  p[11] = ' ';
  two_digits(p + 12, static_cast<unsigned>(year / 100 % 100));
  two_digits(p + 14, static_cast<unsigned>(year % 100));
  p[16] = ' ';
  two_digits(p + 17, static_cast<unsigned>(clock.hours().count()));
  p[19] = ':';
  two_digits(p + 20, static_cast<unsigned>(clock.minutes().count()));
  p[22] = ':';
  two_digits(p + 23, static_cast<unsigned>(clock.seconds().count()));
  std::string_view(" GMT").copy(p + 25, 4);
}

std::string http_date(UnixTime t) {
  char out[kHttpDateSize];
  format_http_date(t, out);
  return std::string(out, kHttpDateSize);
}

}  // namespace revocore::ocsp
