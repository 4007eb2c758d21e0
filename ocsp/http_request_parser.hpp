#pragma once
// How the public listener reads a request: Beast's HTTP/1.1 parser, keeping only what the routes
// read (method, target, body) in buffers the connection reuses (beast::http::request_parser
// would allocate every header field), with RFC 9112's framing checks and a bound on every part
// of a request. Separate from the server so that the fuzz target (fuzz/fuzz_http_framing.cpp)
// drives exactly this code.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>
#include <string>

#include "http/request_framing.hpp"

namespace revocore::ocsp {

// The conditional-request fields the routes answer 304 to (RFC 9110 13.1.2, 13.1.3), kept in
// buffers the connection reuses. Repeated If-None-Match fields are one list (RFC 9110 5.3).
struct RequestConditions {
  std::string if_none_match;
  std::string if_modified_since;
  void clear() {
    if_none_match.clear();
    if_modified_since.clear();
  }
};

class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  // `target`, `body` and `conditions` are the connection's, cleared here and filled as the
  // request is parsed. The body is bounded by `body_limit`, the header by `header_limit` (which
  // bounds the conditions too).
  RequestParser(std::string& target, std::string& body, RequestConditions& conditions,
                std::uint64_t body_limit, std::uint32_t header_limit);

  boost::beast::http::verb method() const noexcept { return method_; }
  unsigned version() const noexcept { return version_; }
  // Set when the header broke RFC 9112's framing rules (parsing then fails).
  revocore::http::FramingError framing_error() const noexcept { return framing_error_; }
  // Set when parsing failed on a size limit (body, header, or what had to be buffered).
  bool too_large() const noexcept { return too_large_; }
  void set_too_large() noexcept { too_large_ = true; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code&) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view,
                     boost::beast::string_view value, boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&,
                         boost::beast::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code&) override;
  void on_finish_impl(boost::beast::error_code&) override {}

  std::string& target_;
  std::string& body_;
  RequestConditions& conditions_;
  revocore::http::RequestFraming framing_;
  revocore::http::FramingError framing_error_ = revocore::http::FramingError::kNone;
  bool too_large_ = false;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  unsigned version_ = 11;
};

enum class ParseStep {
  kNeedMore,   // read more into the buffer and call again
  kDone,       // a whole request; what follows it (pipelined) stays in the buffer
  kTooLarge,   // over a limit: answer 413 and close
  kMalformed,  // not HTTP, or framing refused: answer 400 and close
};

// Feeds what `buffer` holds to `parser`, consuming what it parsed. Beast parses a header, a
// chunk-size line (with its extensions) or the trailers only once it has all of it, so those
// bytes pile up in the buffer; the body is consumed as it comes. kTooLarge once more than
// `max_buffered` bytes wait unparsed: that bounds every part of a request that has no limit of
// its own in the parser (a 1 GiB chunk extension once took 2 GB of memory).
ParseStep parse_request(RequestParser& parser, boost::beast::flat_buffer& buffer,
                        std::size_t max_buffered);

}  // namespace revocore::ocsp
