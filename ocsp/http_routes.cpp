#include "ocsp/http_routes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>

#include "crl/crl_file_names.hpp"
#include "http/request_framing.hpp"
#include "ocsp/ocsp_request.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::ocsp {
namespace {

namespace http = boost::beast::http;

}  // namespace

HttpRoutes::HttpRoutes(OcspResponder& responder, ResponderMetrics& metrics,
                       const config::Configuration& config, Clock clock)
    : responder_(responder), metrics_(metrics), config_(config), clock_(std::move(clock)) {
  for (const auto& issuer : config.issuers) {
    if (issuer.crl) {
      crl_issuers_.push_back(&issuer);
    }
  }
}

void HttpRoutes::too_large(unsigned version, HttpResponseBuffer& response) const {
  metrics_.record_http_error(413);
  response.text(
      http::status::payload_too_large, version, /*keep_alive=*/false,
      fmt::format("OCSP requests are limited to {} bytes\n", config_.ocsp.max_request_bytes));
}

void HttpRoutes::handle(const HttpRequestView& request, HttpResponseBuffer& response,
                        ConnectionBuffers& buffers) const {
  if (request.method == http::verb::head) {
    // RFC 9110 9.3.2: what GET would answer, without the body (CDNs and `curl -I` use it).
    HttpRequestView as_get = request;
    as_get.method = http::verb::get;
    handle(as_get, response, buffers);
    return response.drop_body();
  }
  // RFC 9112 3.2.2: the absolute form ("GET http://host/health") is routed by its path.
  const std::string_view target = revocore::http::origin_form(request.target);
  const bool get = request.method == http::verb::get;
  const bool post = request.method == http::verb::post;
  const auto text = [&](http::status status, std::string_view body) {
    response.text(status, request.version, request.keep_alive, body);
  };
  const auto refuse_method = [&](std::string_view allow, std::string_view body) {
    metrics_.record_http_error(405);
    response.start(http::status::method_not_allowed, request.version, request.keep_alive);
    response.header("Allow", allow);
    response.finish("text/plain; charset=utf-8", body);
  };
  const bool local = target == "/health" || target == "/metrics" || target.starts_with("/crl/");
  if (post && local) {
    return refuse_method("GET, HEAD", "use GET\n");
  }
  if (get && target == "/health") {
    return text(http::status::ok, "ok\n");
  }
  if (get && target == "/metrics") {
    response.start(http::status::ok, request.version, request.keep_alive);
    return response.finish("text/plain; version=0.0.4", metrics_.render());
  }
  if (get && target.starts_with("/crl/")) {
    return crl(request, target.substr(5), response);
  }
  // The operator API has its own TLS listener; say so rather than answer in OCSP terms. (A
  // base64 OCSP request starts with 'M', the encoding of its outer SEQUENCE, never with "api/".)
  if (target.starts_with("/api/")) {
    metrics_.record_http_error(404);
    return text(http::status::not_found,
                "the operator API is not served on the public OCSP listener\n");
  }
  if (post) {
    if (request.body.size() > config_.ocsp.max_request_bytes) {
      return too_large(request.version, response);
    }
    return ocsp(request, request.body, /*get=*/false, response, buffers.answer);
  }
  if (get) {
    if (target == "/" || target.empty()) {
      metrics_.record_http_error(404);
      return text(http::status::not_found,
                  "revocore OCSP responder: POST an application/ocsp-request to /, or GET "
                  "/<base64 request>\n");
    }
    if (target.size() > config_.ocsp.max_request_bytes * 4 / 3 + 16) {
      return too_large(request.version, response);
    }
    // Not base64: answered in OCSP terms (malformedRequest), which a relying party can act on.
    const bool decoded = decode_get_path(target.substr(1), buffers.unescaped, buffers.der);
    return ocsp(request, decoded ? std::string_view(buffers.der) : std::string_view(),
                /*get=*/true, response, buffers.answer);
  }
  refuse_method("GET, HEAD, POST", "OCSP takes GET or POST (RFC 6960 A.1)\n");
}

void HttpRoutes::ocsp(const HttpRequestView& request, std::string_view der, bool get,
                      HttpResponseBuffer& response, OcspAnswer& answer) const {
  const auto start = std::chrono::steady_clock::now();
  responder_.answer(der, answer);
  response.start(http::status::ok, request.version, request.keep_alive);
  // RFC 9919 (as RFC 5019 6.2): GET answers carry caching headers up to nextUpdate; answers to
  // nonce requests and error answers are not to be cached.
  const UnixTime now = clock_();
  if (get && !answer.etag.empty() && answer.next_update > now) {
    char max_age[64];
    const auto end = fmt::format_to_n(max_age, sizeof max_age,
                                      "max-age={}, public, no-transform, must-revalidate",
                                      answer.next_update - now);
    response.header("Cache-Control", std::string_view(max_age, end.size));
    char date[kHttpDateSize];
    format_http_date(answer.this_update, date);
    response.header("Last-Modified", std::string_view(date, kHttpDateSize));
    format_http_date(answer.next_update, date);
    response.header("Expires", std::string_view(date, kHttpDateSize));
    response.header("ETag", answer.etag);
  } else {
    response.header("Cache-Control", "no-store");
  }
  response.finish("application/ocsp-response", answer.der);
  metrics_.record_ocsp(answer.outcome, answer.from_store, std::chrono::steady_clock::now() - start);
}

void HttpRoutes::crl(const HttpRequestView& request, std::string_view name,
                     HttpResponseBuffer& response) const {
  // Only a name the publisher writes (crl/crl_file_names.hpp), opened without following a link
  // and only if it is a regular file: whatever else someone puts in a publish directory (a link
  // to a key, a FIFO) is never served.
  for (const config::IssuerConfig* issuer : crl_issuers_) {
    if (!crl::is_published_crl_name(*issuer, name)) {
      continue;
    }
    const FileDescriptor directory(
        ::open(issuer->crl->publish_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory.valid()) {
      break;
    }
    const std::string file_name(name);
    const FileDescriptor file = open_regular_file_at(directory.get(), file_name.c_str());
    struct stat info {};
    std::string bytes;
    if (!file.valid() || ::fstat(file.get(), &info) != 0 ||
        !read_up_to(file.get(), static_cast<std::size_t>(info.st_size), bytes) ||
        bytes.size() != static_cast<std::size_t>(info.st_size)) {
      break;
    }
    response.start(http::status::ok, request.version, request.keep_alive);
    char date[kHttpDateSize];
    format_http_date(info.st_mtime, date);
    response.header("Last-Modified", std::string_view(date, kHttpDateSize));
    return response.finish(
        name.ends_with(".pem") ? "application/x-pem-file" : "application/pkix-crl", bytes);
  }
  metrics_.record_http_error(404);
  // The name is echoed only when it is one we could publish: no arbitrary bytes in an answer.
  response.text(http::status::not_found, request.version, request.keep_alive, "no such CRL\n");
}

}  // namespace revocore::ocsp
