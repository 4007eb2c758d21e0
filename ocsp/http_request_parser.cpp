#include "ocsp/http_request_parser.hpp"

#include <boost/beast/http/error.hpp>

namespace revocore::ocsp {

namespace beast = boost::beast;
namespace http = beast::http;

RequestParser::RequestParser(std::string& target, std::string& body, RequestConditions& conditions,
                             std::uint64_t body_limit, std::uint32_t header_limit)
    : target_(target), body_(body), conditions_(conditions) {
  target_.clear();
  body_.clear();
  conditions_.clear();
  eager(true);  // the body in the same put() as the header when it is there
  this->body_limit(body_limit);
  this->header_limit(header_limit);
}

void RequestParser::on_request_impl(http::verb method, beast::string_view,
                                    beast::string_view target, int version, beast::error_code&) {
  method_ = method;
  version_ = version == 10 ? 10 : 11;
  target_.assign(target.data(), target.size());
}

void RequestParser::on_field_impl(http::field name, beast::string_view, beast::string_view value,
                                  beast::error_code&) {
  framing_.on_field(name, std::string_view(value.data(), value.size()));
  if (name == http::field::if_none_match) {
    if (!conditions_.if_none_match.empty()) {
      conditions_.if_none_match += ", ";
    }
    conditions_.if_none_match.append(value.data(), value.size());
  } else if (name == http::field::if_modified_since && conditions_.if_modified_since.empty()) {
    conditions_.if_modified_since.assign(value.data(), value.size());
  }
}

void RequestParser::on_header_impl(beast::error_code& ec) {
  framing_error_ = framing_.check(version_);
  if (framing_error_ != revocore::http::FramingError::kNone) {
    ec = http::error::bad_transfer_encoding;  // refused before any body is read
  }
}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                              beast::error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

ParseStep parse_request(RequestParser& parser, beast::flat_buffer& buffer,
                        std::size_t max_buffered) {
  while (buffer.size() > 0) {
    beast::error_code ec;
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == http::error::need_more) {
      break;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      parser.set_too_large();
      return ParseStep::kTooLarge;
    }
    if (ec) {
      return ParseStep::kMalformed;
    }
    if (parser.is_done()) {
      return ParseStep::kDone;
    }
  }
  if (buffer.size() >= max_buffered) {
    parser.set_too_large();
    return ParseStep::kTooLarge;
  }
  return ParseStep::kNeedMore;
}

}  // namespace revocore::ocsp
