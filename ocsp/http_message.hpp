#pragma once
// The HTTP messages of the public listener, as the routes see them: a request as views into the
// connection's buffers, and a response serialized straight into a buffer the connection keeps
// from one request to the next. Once a connection is warm, answering allocates nothing.
//
// Why not beast::http::message: its fields container allocates per header and its serializer
// walks a generic buffer sequence; together with the timers of beast::tcp_stream they were about
// 15% of the responder's CPU under load (perf, 1M certificates, wrk 64 connections) while the
// same bytes come out of this in a few appends. Beast still parses every request.
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <ostream>  // Beast's status.ipp streams without including it
#include <string>
#include <string_view>

#include "revocation/types.hpp"

namespace revocore::ocsp {

struct HttpRequestView {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;
  std::string_view body;
  unsigned version = 11;  // 10 or 11
  bool keep_alive = true;
  std::string_view if_none_match;  // the fields' values, empty when absent
  std::string_view if_modified_since;
};

class HttpResponseBuffer {
 public:
  static constexpr std::size_t kKeptCapacity = 64 * 1024;

  // Starts a response: clears what a previous one left, writes the status line (RFC 9112 4)
  // and the Server header. `version` is the request's; keep_alive what the request allows.
  void start(boost::beast::http::status status, unsigned version, bool keep_alive);
  void header(std::string_view name, std::string_view value);
  void header(std::string_view name, std::uint64_t value);
  // Ends the header block with Content-Type, Content-Length and Connection, then the body.
  void finish(std::string_view content_type, std::string_view body);

  // Ends the header block of a response that has no content (304: RFC 9110 15.4.5), with
  // Connection as finish() writes it.
  void finish_without_body();

  // Answers with a plain-text body.
  void text(boost::beast::http::status status, unsigned version, bool keep_alive,
            std::string_view body);

  // For HEAD (RFC 9110 9.3.2): the same status and headers as GET, Content-Length included,
  // without the body.
  void drop_body() { bytes_.resize(header_size_); }

  boost::beast::http::status status() const noexcept { return status_; }
  bool keep_alive() const noexcept { return keep_alive_; }
  const std::string& bytes() const noexcept { return bytes_; }
  // After a large answer (a CRL of a million entries is tens of megabytes), gives the memory
  // back rather than keep it for the rest of the connection's life.
  void release_if_large() {
    if (bytes_.capacity() > kKeptCapacity) {
      std::string().swap(bytes_);
    }
  }

 private:
  std::string bytes_;
  std::size_t header_size_ = 0;  // where the body starts
  boost::beast::http::status status_ = boost::beast::http::status::ok;
  unsigned version_ = 11;
  bool keep_alive_ = true;
};

// RFC 9110 5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), always 29 characters. Plain
// arithmetic: gmtime_r takes glibc's time-zone lock, strftime consults the locale.
inline constexpr std::size_t kHttpDateSize = 29;
void format_http_date(UnixTime t, char (&out)[kHttpDateSize]);
std::string http_date(UnixTime t);

}  // namespace revocore::ocsp
