// Fuzz target: raw bytes as they arrive on either listener, fed in pieces whose sizes the input
// chooses, to the request reading each listener does (request line, headers, chunked bodies,
// chunk extensions, trailers, pipelining):
//   - the public OCSP port: ocsp::RequestParser through ocsp::parse_request;
//   - the operator API: Beast's request_parser into a size-limited flat_buffer, then
//     http::check_framing on the header.
// Beyond "no crash, no sanitizer report", it checks that the limits hold: nothing buffered
// beyond the bound, no body beyond the body limit, and no request accepted whose framing
// RFC 9112 refuses.
#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/request_framing.hpp"
#include "ocsp/http_request_parser.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::size_t kBodyLimit = 8192;
constexpr std::uint32_t kHeaderLimit = 2 * 8192 + 8192;  // the public port's, for 8 KiB bodies

void check(bool holds) {
  if (!holds) {
    std::abort();  // a limit did not hold: libFuzzer saves the input
  }
}

void public_port(const std::uint8_t* data, std::size_t size, std::size_t piece) {
  std::string target;
  std::string body;
  beast::flat_buffer buffer;
  std::size_t at = 0;
  for (int requests = 0; requests < 64; ++requests) {
    revocore::ocsp::RequestConditions conditions;
    revocore::ocsp::RequestParser parser(target, body, conditions, kBodyLimit, kHeaderLimit);
    revocore::ocsp::ParseStep step = revocore::ocsp::parse_request(parser, buffer, kHeaderLimit);
    while (step == revocore::ocsp::ParseStep::kNeedMore && at < size) {
      const std::size_t n = std::min(piece, size - at);
      auto space = buffer.prepare(n);
      std::memcpy(space.data(), data + at, n);
      buffer.commit(n);
      at += n;
      step = revocore::ocsp::parse_request(parser, buffer, kHeaderLimit);
      check(buffer.size() <= kHeaderLimit + piece);
    }
    check(body.size() <= kBodyLimit);
    check(target.size() <= kHeaderLimit);
    if (step != revocore::ocsp::ParseStep::kDone) {
      return;  // refused (the connection closes) or the input ended mid-request
    }
    check(parser.framing_error() == revocore::http::FramingError::kNone);
  }
}

void operator_api(const std::uint8_t* data, std::size_t size, std::size_t piece) {
  constexpr std::size_t kMaxBuffered = 64 * 1024;
  beast::flat_buffer buffer(kMaxBuffered);
  std::size_t at = 0;
  // The reads Beast's http::read would do, one piece at a time.
  const auto feed = [&]() {
    if (at >= size || buffer.size() >= kMaxBuffered) {
      return false;
    }
    const std::size_t n = std::min({piece, size - at, kMaxBuffered - buffer.size()});
    auto space = buffer.prepare(n);
    std::memcpy(space.data(), data + at, n);
    buffer.commit(n);
    at += n;
    return true;
  };
  // Parses what is buffered, feeding more, until `done()`; false on a parse error or when the
  // input ends first.
  const auto parse_until = [&](http::request_parser<http::string_body>& parser, auto done) {
    while (!done()) {
      if (buffer.size() > 0) {
        beast::error_code ec;
        buffer.consume(parser.put(buffer.data(), ec));
        if (ec && ec != http::error::need_more) {
          return false;
        }
        if (done()) {
          break;
        }
      }
      if (!feed()) {
        return false;
      }
    }
    return true;
  };
  for (int requests = 0; requests < 64; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kBodyLimit);
    // The header first; the body only after the framing check (and, in the server,
    // authentication).
    if (!parse_until(parser, [&] { return parser.is_header_done(); })) {
      return;
    }
    if (revocore::http::check_framing(parser.get().base(), parser.get().version()) !=
        revocore::http::FramingError::kNone) {
      return;  // 400, the connection closes
    }
    if (!parse_until(parser, [&] { return parser.is_done(); })) {
      return;
    }
    check(buffer.size() <= kMaxBuffered);
    check(parser.get().body().size() <= kBodyLimit);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  // The first byte chooses how the bytes arrive: 1 to 256 at a time.
  const std::size_t piece = std::size_t{data[0]} + 1;
  public_port(data + 1, size - 1, piece);
  operator_api(data + 1, size - 1, piece);
  return 0;
}
