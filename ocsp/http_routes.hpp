#pragma once
// What the responder's HTTP server answers, as a pure function of the request (no sockets), so
// every route is unit-tested:
//   POST /                 application/ocsp-request body        (RFC 6960 A.1)
//   GET  /<base64 DER>     '/' raw or %2F both accepted          (RFC 6960 A.1, RFC 9919 5)
//   GET  /crl/<file>       the published CRLs, shards as /crl/<issuer>/<shard>.crl, and each
//                          issuer's shard list /crl/<issuer>/shards.json (crl/crl_file_names.hpp);
//                          strong ETags, 304 to conditional requests (RFC 9110 13)
//   GET  /metrics          Prometheus text
//   GET  /health           "ok"; a replica that cannot vouch: 503 with the reason
//   /api/...               404: the operator API has its own listener (api/admin_server.hpp)
// Anything else: 404, 405 with Allow, or 413 for a request over the size limit.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "ocsp/crl_file_cache.hpp"
#include "ocsp/http_message.hpp"
#include "ocsp/metrics.hpp"
#include "ocsp/ocsp_responder.hpp"

namespace revocore::ocsp {

// What a connection keeps from one request to the next, so that answering reuses its buffers.
struct ConnectionBuffers {
  std::string unescaped;  // a GET path without its %-escapes
  std::string der;        // the request's DER
  OcspAnswer answer;
};

class HttpRoutes {
 public:
  // Does not take ownership; all must outlive the routes.
  HttpRoutes(OcspResponder& responder, ResponderMetrics& metrics,
             const config::Configuration& config, Clock clock);

  // Writes the answer to `request` into `response`. Never throws for a request's content.
  void handle(const HttpRequestView& request, HttpResponseBuffer& response,
              ConnectionBuffers& buffers) const;
  // The answer to a request refused before it was read whole (body or path too long): 413, and
  // the connection closes.
  void too_large(unsigned version, HttpResponseBuffer& response) const;

  // Replication's part of /health and /metrics (docs/REPLICATION.md): on a replica `problem`
  // says why it cannot vouch now (empty: healthy); on either side `metrics` renders its
  // Prometheus lines. Either may be empty. Set before serving.
  struct ReplicationHooks {
    std::function<std::string()> problem;
    std::function<std::string()> metrics;
  };
  void set_replication_hooks(ReplicationHooks hooks) { replica_ = std::move(hooks); }
  // A replica serves the CRLs the stream brought into `directory` under the names the writer
  // publishes them by, for every configured issuer. Set before serving.
  void serve_replicated_crls(const std::filesystem::path& directory);

 private:
  void ocsp(const HttpRequestView& request, std::string_view der, bool get,
            HttpResponseBuffer& response, OcspAnswer& answer) const;
  void crl(const HttpRequestView& request, std::string_view name,
           HttpResponseBuffer& response) const;
  // Whether `file_name` in the issuer's publish directory was served (200 or 304).
  bool serve_published_file(const HttpRequestView& request, const config::IssuerConfig& issuer,
                            const std::string& file_name, HttpResponseBuffer& response) const;

  OcspResponder& responder_;
  ResponderMetrics& metrics_;
  const config::Configuration& config_;
  Clock clock_;
  std::vector<const config::IssuerConfig*> crl_issuers_;  // those with CRLs configured
  mutable PublishedFileCache published_files_;            // thread-safe
  ReplicationHooks replica_;
  std::vector<config::IssuerConfig> replicated_crl_issuers_;  // a replica's, pointed to above
};

}  // namespace revocore::ocsp
