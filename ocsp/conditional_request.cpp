#include "ocsp/conditional_request.hpp"

#include <array>
#include <ctime>

namespace revocore::ocsp {
namespace {

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

void skip_ows(std::string_view& text) noexcept {
  while (!text.empty() && is_ows(text.front())) {
    text.remove_prefix(1);
  }
}

// entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE (RFC 9110 8.8.3). Returns
// the opaque-tag with its quotes, or empty when `text` does not start with one.
std::string_view take_entity_tag(std::string_view& text) noexcept {
  if (text.starts_with("W/")) {
    text.remove_prefix(2);
  }
  if (text.empty() || text.front() != '"') {
    return {};
  }
  const auto close = text.find('"', 1);
  if (close == std::string_view::npos) {
    return {};
  }
  for (const char c : text.substr(1, close - 1)) {
    // etagc = %x21 / %x23-7E / obs-text
    const auto octet = static_cast<unsigned char>(c);
    if (octet < 0x21 || octet == 0x7F) {
      return {};
    }
  }
  const std::string_view tag = text.substr(0, close + 1);
  text.remove_prefix(close + 1);
  return tag;
}

int month_index(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// `digits` decimal digits at the front of `text` (a space counts as a leading zero when
// `space_pads`, as asctime's day does).
bool take_digits(std::string_view& text, std::size_t digits, int& out,
                 bool space_pads = false) noexcept {
  if (text.size() < digits) {
    return false;
  }
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[i];
    if (space_pads && i == 0 && c == ' ') {
      continue;
    }
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  text.remove_prefix(digits);
  return true;
}

bool take(std::string_view& text, std::string_view literal) noexcept {
  if (!text.starts_with(literal)) {
    return false;
  }
  text.remove_prefix(literal.size());
  return true;
}

// "HH:MM:SS"
bool take_time_of_day(std::string_view& text, std::tm& tm) noexcept {
  return take_digits(text, 2, tm.tm_hour) && take(text, ":") && take_digits(text, 2, tm.tm_min) &&
         take(text, ":") && take_digits(text, 2, tm.tm_sec) && tm.tm_hour < 24 && tm.tm_min < 60 &&
         tm.tm_sec < 61;
}

bool take_month(std::string_view& text, std::tm& tm) noexcept {
  if (text.size() < 3) {
    return false;
  }
  tm.tm_mon = month_index(text.substr(0, 3));
  text.remove_prefix(3);
  return tm.tm_mon >= 0;
}

}  // namespace

bool if_none_match_holds(std::string_view field, std::string_view etag) noexcept {
  skip_ows(field);
  if (field == "*") {
    return !etag.empty();
  }
  std::string_view wanted = etag;
  const std::string_view opaque = take_entity_tag(wanted);
  if (opaque.empty()) {
    return false;
  }
  while (!field.empty()) {
    const std::string_view tag = take_entity_tag(field);
    if (tag.empty()) {
      return false;
    }
    if (tag == opaque) {
      return true;
    }
    skip_ows(field);
    if (!field.empty() && !take(field, ",")) {
      return false;
    }
    skip_ows(field);
  }
  return false;
}

std::optional<UnixTime> parse_http_date(std::string_view text) noexcept {
  std::tm tm{};
  const auto comma = text.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    text.remove_prefix(4);
    if (!(take(text, " ") && take_digits(text, 2, tm.tm_mday) && take(text, " ") &&
          take_month(text, tm) && take(text, " ") && take_digits(text, 4, tm.tm_year) &&
          take(text, " ") && take_time_of_day(text, tm) && take(text, " GMT") && text.empty())) {
      return std::nullopt;
    }
    tm.tm_year -= 1900;
  } else if (comma != std::string_view::npos && comma >= 6 && comma <= 9) {
    // rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year that would be more than
    // 50 years ahead is in the past century (RFC 9110 5.6.7).
    text.remove_prefix(comma + 1);
    int year = 0;
    if (!(take(text, " ") && take_digits(text, 2, tm.tm_mday) && take(text, "-") &&
          take_month(text, tm) && take(text, "-") && take_digits(text, 2, year) &&
          take(text, " ") && take_time_of_day(text, tm) && take(text, " GMT") && text.empty())) {
      return std::nullopt;
    }
    tm.tm_year = year < 70 ? year + 100 : year;
  } else if (comma == std::string_view::npos && text.size() == 24) {
    // asctime-date: "Sun Nov  6 08:49:37 1994"
    text.remove_prefix(4);
    if (!(take_month(text, tm) && take(text, " ") && take_digits(text, 2, tm.tm_mday, true) &&
          take(text, " ") && take_time_of_day(text, tm) && take(text, " ") &&
          take_digits(text, 4, tm.tm_year) && text.empty())) {
      return std::nullopt;
    }
    tm.tm_year -= 1900;
  } else {
    return std::nullopt;
  }
  if (tm.tm_mday < 1 || tm.tm_mday > 31) {
    return std::nullopt;
  }
  return static_cast<UnixTime>(::timegm(&tm));
}

bool is_not_modified(const HttpRequestView& request, std::string_view etag, UnixTime last_modified,
                     UnixTime now) noexcept {
  if (!request.if_none_match.empty()) {
    return if_none_match_holds(request.if_none_match, etag);
  }
  if (!request.if_modified_since.empty() && last_modified_is_settled(last_modified, now)) {
    const auto since = parse_http_date(request.if_modified_since);
    return since && last_modified <= *since;
  }
  return false;
}

}  // namespace revocore::ocsp
