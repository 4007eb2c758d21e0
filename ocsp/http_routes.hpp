#pragma once
// What the responder's HTTP server answers, as a pure function of the request (no sockets), so
// every route is unit-tested:
//   POST /                 application/ocsp-request body        (RFC 6960 A.1)
//   GET  /<base64 DER>     '/' raw or %2F both accepted          (RFC 6960 A.1, RFC 9919 5)
//   GET  /crl/<file>       the published CRLs
//   GET  /metrics          Prometheus text
//   GET  /health           "ok"
//   /api/...               404: the operator API has its own listener (api/admin_server.hpp)
// Anything else: 404, 405 with Allow, or 413 for a request over the size limit.
#include <boost/beast/http.hpp>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "ocsp/metrics.hpp"
#include "ocsp/ocsp_responder.hpp"

namespace revocore::ocsp {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpRoutes {
 public:
  // Does not take ownership; all must outlive the routes.
  HttpRoutes(OcspResponder& responder, ResponderMetrics& metrics,
             const config::Configuration& config, Clock clock);

  HttpResponse handle(const HttpRequest& request) const;
  // The answer to a request refused before it was read whole (body or path too long).
  HttpResponse too_large(unsigned version) const;

 private:
  HttpResponse ocsp(const HttpRequest& request, std::string_view der, bool get) const;
  HttpResponse crl(const HttpRequest& request, std::string_view name) const;

  OcspResponder& responder_;
  ResponderMetrics& metrics_;
  const config::Configuration& config_;
  Clock clock_;
  std::vector<std::filesystem::path> crl_directories_;
};

}  // namespace revocore::ocsp
