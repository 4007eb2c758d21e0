#include "ocsp/http_routes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include <chrono>

#include "crl/crl_file_names.hpp"
#include "http/request_framing.hpp"
#include "ocsp/conditional_request.hpp"
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

void HttpRoutes::serve_replicated_crls(const std::filesystem::path& directory) {
  replicated_crl_issuers_.clear();
  for (const auto& configured : config_.issuers) {
    if (configured.crl) {
      continue;
    }
    // The writer's names, full and delta, in this replica's directory (no .pem copies).
    config::IssuerConfig issuer = configured;
    issuer.crl.emplace();
    issuer.crl->publish_directory = directory;
    issuer.crl->delta_crls = true;
    replicated_crl_issuers_.push_back(std::move(issuer));
  }
  for (const auto& issuer : replicated_crl_issuers_) {
    crl_issuers_.push_back(&issuer);
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
    if (replica_.problem) {
      // A load balancer routes around a replica that would answer tryLater.
      if (const std::string problem = replica_.problem(); !problem.empty()) {
        return text(http::status::service_unavailable, fmt::format("replica: {}\n", problem));
      }
    }
    return text(http::status::ok, "ok\n");
  }
  if (get && target == "/metrics") {
    response.start(http::status::ok, request.version, request.keep_alive);
    std::string body = metrics_.render();
    if (replica_.metrics) {
      body += replica_.metrics();
    }
    return response.finish("text/plain; version=0.0.4", body);
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
  // RFC 9919 (as RFC 5019 6.2): GET answers carry caching headers up to nextUpdate; answers to
  // nonce requests and error answers are not to be cached. A pre-signed answer the client
  // already holds (its ETag, or not newer than If-Modified-Since) is 304 (RFC 9110 13.2.2).
  const UnixTime now = clock_();
  const bool cacheable = get && !answer.etag.empty() && answer.next_update > now;
  const bool not_modified =
      cacheable && is_not_modified(request, answer.etag, answer.this_update, now);
  response.start(not_modified ? http::status::not_modified : http::status::ok, request.version,
                 request.keep_alive);
  if (cacheable) {
    char max_age[64];
    const auto end = fmt::format_to_n(max_age, sizeof max_age,
                                      "max-age={}, public, no-transform, must-revalidate",
                                      answer.next_update - now);
    response.header("Cache-Control", std::string_view(max_age, end.size));
    char date[kHttpDateSize];
    if (last_modified_is_settled(answer.this_update, now)) {
      format_http_date(answer.this_update, date);
      response.header("Last-Modified", std::string_view(date, kHttpDateSize));
    }
    format_http_date(answer.next_update, date);
    response.header("Expires", std::string_view(date, kHttpDateSize));
    response.header("ETag", answer.etag);
  } else {
    response.header("Cache-Control", "no-store");
  }
  if (not_modified) {
    response.finish_without_body();
  } else {
    response.finish("application/ocsp-response", answer.der);
  }
  metrics_.record_ocsp(answer.outcome, answer.from_store, std::chrono::steady_clock::now() - start);
}

void HttpRoutes::crl(const HttpRequestView& request, std::string_view name,
                     HttpResponseBuffer& response) const {
  // Only a name the publisher writes (crl/crl_file_names.hpp), opened without following a link
  // and only if it is a regular file: whatever else someone puts in a publish directory (a link
  // to a key, a FIFO) is never served.
  for (const config::IssuerConfig* issuer : crl_issuers_) {
    const std::optional<std::string> file_name = crl::published_file_for(*issuer, name);
    if (file_name && serve_published_file(request, *issuer, *file_name, response)) {
      return;
    }
  }
  metrics_.record_http_error(404);
  // The name is echoed only when it is one we could publish: no arbitrary bytes in an answer.
  response.text(http::status::not_found, request.version, request.keep_alive, "no such CRL\n");
}

bool HttpRoutes::serve_published_file(const HttpRequestView& request,
                                      const config::IssuerConfig& issuer,
                                      const std::string& file_name,
                                      HttpResponseBuffer& response) const {
  // One open of the configured directory's entry: O_NOFOLLOW refuses a link as the entry, and
  // the name (checked by published_file_for) has no '/'. The path is formatted on the stack.
  char path[PATH_MAX];
  const auto formatted = fmt::format_to_n(path, sizeof path - 1, "{}/{}",
                                          issuer.crl->publish_directory.native(), file_name);
  if (formatted.size >= sizeof path - 1) {
    return false;
  }
  path[formatted.size] = '\0';
  struct stat info {};
  const FileDescriptor file = open_regular_file_at(AT_FDCWD, path, &info);
  if (!file.valid()) {
    return false;
  }
  const FileIdentity identity = FileIdentity::of(info);
  std::string bytes;
  const auto read_whole = [&] {
    return read_up_to(file.get(), static_cast<std::size_t>(info.st_size), bytes) &&
           bytes.size() == static_cast<std::size_t>(info.st_size);
  };
  std::optional<PublishedFileValidators> validators = published_files_.find(file_name, identity);
  if (!validators) {
    if (!read_whole()) {
      return false;
    }
    validators = validators_of(file_name, bytes, info.st_mtime);
    published_files_.remember(file_name, identity, *validators);
  }
  const UnixTime now = clock_();
  const bool not_modified =
      is_not_modified(request, validators->etag, validators->last_modified, now);
  if (!not_modified && bytes.empty() && info.st_size != 0 && !read_whole()) {
    return false;
  }

  // How long caches may keep it: the configured cap, and never past the CRL's nextUpdate, so
  // that no CDN serves a CRL for longer than the cap after a newer one is published
  // (RFC 9111 5.2.2.1, 5.3; RFC 5280 5.1.2.5).
  std::int64_t max_age = config_.ocsp.crl_max_age_seconds;
  if (validators->next_update) {
    max_age = std::clamp<std::int64_t>(*validators->next_update - now, 0, max_age);
  }
  response.start(not_modified ? http::status::not_modified : http::status::ok, request.version,
                 request.keep_alive);
  // RFC 9110 15.4.5: a 304 carries the ETag, Cache-Control and Expires a 200 would.
  response.header("ETag", validators->etag);
  char value[64];
  const auto end = fmt::format_to_n(value, sizeof value,
                                    "max-age={}, public, no-transform, must-revalidate", max_age);
  response.header("Cache-Control", std::string_view(value, end.size));
  char date[kHttpDateSize];
  format_http_date(now + max_age, date);
  response.header("Expires", std::string_view(date, kHttpDateSize));
  if (last_modified_is_settled(validators->last_modified, now)) {
    format_http_date(validators->last_modified, date);
    response.header("Last-Modified", std::string_view(date, kHttpDateSize));
  }
  if (not_modified) {
    response.finish_without_body();
    return true;
  }
  const std::string_view type = file_name.ends_with(".json")  ? "application/json"
                                : file_name.ends_with(".pem") ? "application/x-pem-file"
                                                              : "application/pkix-crl";
  response.finish(type, bytes);
  return true;
}

}  // namespace revocore::ocsp
