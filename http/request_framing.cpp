#include "http/request_framing.hpp"

#include <boost/beast/core/string.hpp>

namespace revocore::http {
namespace {

namespace field = boost::beast::http;

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// RFC 9110 5.1 and 4.2.3: field values such as codings, and the scheme, compare without case.
bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() &&
         boost::beast::iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string_view describe(FramingError error) noexcept {
  switch (error) {
    case FramingError::kNone:
      return "";
    case FramingError::kTransferEncodingNotChunked:
      return "Transfer-Encoding must end with chunked in a request (RFC 9112 6.1)\n";
    case FramingError::kTransferEncodingInHttp10:
      return "HTTP/1.0 requests cannot use Transfer-Encoding (RFC 9112 6.1)\n";
    case FramingError::kTransferEncodingWithContentLength:
      return "a request cannot carry both Transfer-Encoding and Content-Length (RFC 9112 6.3)\n";
    case FramingError::kMissingHost:
      return "an HTTP/1.1 request needs a Host header (RFC 9112 3.2)\n";
    case FramingError::kDuplicateHost:
      return "a request carries exactly one Host header (RFC 9112 3.2)\n";
  }
  return "malformed HTTP request\n";
}

void RequestFraming::on_field(boost::beast::http::field name, std::string_view value) noexcept {
  switch (name) {
    case field::field::transfer_encoding: {
      transfer_encoding_ = true;
      // The final coding of a list ("gzip, chunked"), without parameters ("chunked;x=1" is not
      // a coding RFC 9112 7 defines; it is refused like any other final coding).
      const std::size_t comma = value.rfind(',');
      const std::string_view last =
          trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
      last_coding_chunked_ = boost::beast::iequals(last, "chunked");
      break;
    }
    case field::field::content_length:
      content_length_ = true;
      break;
    case field::field::host:
      ++hosts_;
      break;
    default:
      break;
  }
}

FramingError RequestFraming::check(unsigned version) const noexcept {
  if (transfer_encoding_) {
    if (version < 11) {
      return FramingError::kTransferEncodingInHttp10;
    }
    if (!last_coding_chunked_) {
      return FramingError::kTransferEncodingNotChunked;
    }
    if (content_length_) {
      return FramingError::kTransferEncodingWithContentLength;
    }
  }
  if (hosts_ > 1) {
    return FramingError::kDuplicateHost;
  }
  if (hosts_ == 0 && version >= 11) {
    return FramingError::kMissingHost;
  }
  return FramingError::kNone;
}

FramingError check_framing(const boost::beast::http::fields& header, unsigned version) noexcept {
  RequestFraming framing;
  for (const auto& field : header) {
    framing.on_field(field.name(), std::string_view(field.value().data(), field.value().size()));
  }
  return framing.check(version);
}

std::string_view origin_form(std::string_view target) noexcept {
  std::size_t authority = 0;
  if (starts_with_ignoring_case(target, "http://")) {
    authority = 7;
  } else if (starts_with_ignoring_case(target, "https://")) {
    authority = 8;
  } else {
    return target;
  }
  const std::size_t path = target.find('/', authority);
  return path == std::string_view::npos ? std::string_view("/") : target.substr(path);
}

}  // namespace revocore::http
