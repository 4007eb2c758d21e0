#pragma once
// RFC 9112's framing rules that Beast's parser leaves to its user, checked on the header fields
// of every request on both listeners (the public OCSP port and the operator API) before a body
// is read. A request that breaks them is answered 400 and the connection is closed: a proxy or
// CDN in front of revocore may have framed the same bytes differently (request smuggling).
//   RFC 9112 6.1: Transfer-Encoding whose final coding is not "chunked" cannot frame a request.
//   RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing.
//   RFC 9112 6.3: Transfer-Encoding together with Content-Length "ought to be handled as an
//                 error"; revocore refuses it.
//   RFC 9112 3.2: an HTTP/1.1 request has exactly one Host field; never more than one.
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <string_view>

namespace revocore::http {

enum class FramingError {
  kNone,
  kTransferEncodingNotChunked,         // the final coding is not chunked (RFC 9112 6.1)
  kTransferEncodingInHttp10,           // HTTP/1.0 has no transfer codings (RFC 9112 6.1)
  kTransferEncodingWithContentLength,  // both framings at once (RFC 9112 6.3)
  kMissingHost,                        // HTTP/1.1 without Host (RFC 9112 3.2)
  kDuplicateHost,                      // more than one Host (RFC 9112 3.2)
};

// What the client did wrong, for the 400 answer's body.
std::string_view describe(FramingError error) noexcept;

// Fed each header field as the parser meets it; asked once the header is complete. Allocates
// nothing, so the public listener's hot path stays free of heap churn.
class RequestFraming {
 public:
  void on_field(boost::beast::http::field name, std::string_view value) noexcept;
  // `version` is 10 or 11 (the request line's).
  FramingError check(unsigned version) const noexcept;

 private:
  bool transfer_encoding_ = false;
  bool last_coding_chunked_ = false;  // of the last Transfer-Encoding field seen
  bool content_length_ = false;
  unsigned hosts_ = 0;
};

// The same check over a header Beast's request_parser has already read (the operator API).
FramingError check_framing(const boost::beast::http::fields& header, unsigned version) noexcept;

// The origin-form path of a request target: "/health" for "/health" and for the absolute form
// "http://host:8080/health" (RFC 9112 3.2.2: a server must accept the absolute form); "/" when
// the absolute form has no path. Other targets are returned unchanged.
std::string_view origin_form(std::string_view target) noexcept;

}  // namespace revocore::http
