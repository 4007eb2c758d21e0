#include "ocsp/http_routes.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "ocsp/ocsp_request.hpp"

namespace revocore::ocsp {
namespace {

namespace http = boost::beast::http;

// RFC 9110 5.6.7 IMF-fixdate.
std::string http_date(UnixTime t) {
  const std::time_t seconds = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

HttpResponse plain(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "revocore");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

bool safe_file_name(std::string_view name) {
  if (name.empty() || name[0] == '.') {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return name.ends_with(".crl") || name.ends_with(".crl.pem");
}

}  // namespace

HttpRoutes::HttpRoutes(OcspResponder& responder, ResponderMetrics& metrics,
                       const config::Configuration& config, Clock clock)
    : responder_(responder), metrics_(metrics), config_(config), clock_(std::move(clock)) {
  for (const auto& issuer : config.issuers) {
    if (issuer.crl) {
      crl_directories_.push_back(issuer.crl->publish_directory);
    }
  }
}

HttpResponse HttpRoutes::too_large(unsigned version) const {
  metrics_.record_http_error(413);
  HttpRequest request;
  request.version(version);
  HttpResponse response =
      plain(request, http::status::payload_too_large,
            fmt::format("OCSP requests are limited to {} bytes\n", config_.ocsp.max_request_bytes));
  response.keep_alive(false);
  return response;
}

HttpResponse HttpRoutes::handle(const HttpRequest& request) const {
  const std::string_view target = request.target();
  const bool get = request.method() == http::verb::get;
  if (get && target == "/health") {
    return plain(request, http::status::ok, "ok\n");
  }
  if (get && target == "/metrics") {
    HttpResponse response = plain(request, http::status::ok, metrics_.render());
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    return response;
  }
  if (get && target.starts_with("/crl/")) {
    return crl(request, target.substr(5));
  }
  // The operator API has its own TLS listener; say so rather than answer in OCSP terms. (A
  // base64 OCSP request starts with 'M', the encoding of its outer SEQUENCE, never with "api/".)
  if (target.starts_with("/api/")) {
    metrics_.record_http_error(404);
    return plain(request, http::status::not_found,
                 "the operator API is not served on the public OCSP listener\n");
  }
  if (request.method() == http::verb::post) {
    if (target.starts_with("/crl/") || target == "/metrics" || target == "/health") {
      metrics_.record_http_error(405);
      HttpResponse response = plain(request, http::status::method_not_allowed, "use GET\n");
      response.set(http::field::allow, "GET");
      return response;
    }
    if (request.body().size() > config_.ocsp.max_request_bytes) {
      return too_large(request.version());
    }
    return ocsp(request, request.body(), /*get=*/false);
  }
  if (get) {
    if (target == "/" || target.empty()) {
      metrics_.record_http_error(404);
      return plain(request, http::status::not_found,
                   "revocore OCSP responder: POST an application/ocsp-request to /, or GET "
                   "/<base64 request>\n");
    }
    if (target.size() > config_.ocsp.max_request_bytes * 4 / 3 + 16) {
      return too_large(request.version());
    }
    const auto der = decode_get_path(target.substr(1));
    if (!der) {
      // Not base64: answered in OCSP terms, which is what a relying party can act on.
      return ocsp(request, "", /*get=*/true);
    }
    return ocsp(request, *der, /*get=*/true);
  }
  metrics_.record_http_error(405);
  HttpResponse response =
      plain(request, http::status::method_not_allowed, "OCSP takes GET or POST (RFC 6960 A.1)\n");
  response.set(http::field::allow, "GET, POST");
  return response;
}

HttpResponse HttpRoutes::ocsp(const HttpRequest& request, std::string_view der, bool get) const {
  const auto start = std::chrono::steady_clock::now();
  OcspAnswer answer = responder_.answer(der);
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::server, "revocore");
  response.set(http::field::content_type, "application/ocsp-response");
  // RFC 9919 (as RFC 5019 6.2): GET answers carry caching headers up to nextUpdate; answers to
  // nonce requests and error answers are not to be cached.
  const UnixTime now = clock_();
  if (get && !answer.etag.empty() && answer.next_update > now) {
    response.set(
        http::field::cache_control,
        fmt::format("max-age={}, public, no-transform, must-revalidate", answer.next_update - now));
    response.set(http::field::last_modified, http_date(answer.this_update));
    response.set(http::field::expires, http_date(answer.next_update));
    response.set(http::field::etag, answer.etag);
  } else {
    response.set(http::field::cache_control, "no-store");
  }
  response.body() = std::move(answer.der);
  response.prepare_payload();
  metrics_.record_ocsp(answer.outcome, answer.from_store, std::chrono::steady_clock::now() - start);
  return response;
}

HttpResponse HttpRoutes::crl(const HttpRequest& request, std::string_view name) const {
  if (safe_file_name(name)) {
    for (const auto& directory : crl_directories_) {
      const std::filesystem::path file = directory / std::string(name);
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        continue;
      }
      std::ostringstream bytes;
      bytes << in.rdbuf();
      HttpResponse response = plain(request, http::status::ok, bytes.str());
      response.set(http::field::content_type,
                   name.ends_with(".pem") ? "application/x-pem-file" : "application/pkix-crl");
      struct stat info {};
      if (::stat(file.c_str(), &info) == 0) {
        response.set(http::field::last_modified, http_date(info.st_mtime));
      }
      return response;
    }
  }
  metrics_.record_http_error(404);
  return plain(request, http::status::not_found, fmt::format("no CRL named {}\n", name));
}

}  // namespace revocore::ocsp
