// `revocore serve` and `revocore ocsp presign`.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "ocsp/http_server.hpp"
#include "ocsp/ocsp_responder.hpp"
#include "revocation/error.hpp"

namespace revocore::cli {

void serve_command(const GlobalOptions& options, const std::string& listen, unsigned threads,
                   std::ostream& out) {
  // Structured logs on stderr: one line per event, key=value, UTC.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("revocore"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);

  DataDirectory dir = DataDirectory::open(options);
  config::OcspSettings settings = dir.config.ocsp;
  if (!listen.empty()) {
    const auto colon = listen.rfind(':');
    int port = -1;
    if (colon == std::string::npos || std::sscanf(listen.c_str() + colon + 1, "%d", &port) != 1 ||
        port < 0 || port > 65535) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("--listen '{}' must be ADDRESS:PORT, e.g. 127.0.0.1:8080", listen));
    }
    settings.listen_address = listen.substr(0, colon);
    settings.port = static_cast<unsigned short>(port);
  }
  if (threads != 0) {
    settings.threads = threads;
  }
  ocsp::OcspResponder responder(dir.store, dir.config, options.clock);
  if (responder.issuer_count() == 0) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("no issuer in {} has an OCSP or CA key, so there is nothing to "
                            "answer for; add ocsp_certificate and ocsp_private_key (or "
                            "private_key) to an [[issuer]]",
                            dir.config.source));
  }
  ocsp::ResponderMetrics metrics;
  const ocsp::HttpRoutes routes(responder, metrics, dir.config, options.clock);
  ocsp::OcspServer server(routes, responder, settings);
  const unsigned short port = server.listen(settings.listen_address, settings.port);
  fmt::print(out, "revocore OCSP responder on http://{}:{}/ ({} issuer(s), {} thread(s))\n",
             settings.listen_address, port, responder.issuer_count(), settings.threads);
  out.flush();
  spdlog::info("event=listening address={} port={} threads={}", settings.listen_address, port,
               settings.threads);
  server.run();
}

void ocsp_presign_command(const GlobalOptions& options, const std::string& issuer,
                          std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  ocsp::OcspResponder responder(dir.store, dir.config, options.clock);
  for (const auto& configured : dir.config.issuers) {
    if (!issuer.empty() && configured.name != issuer) {
      continue;
    }
    if (configured.ocsp_certificate.empty() && !configured.crl) {
      continue;
    }
    const std::size_t signed_count = responder.presign(configured.name);
    fmt::print(out, "{}: {} response(s) signed and stored\n", configured.name, signed_count);
  }
}

}  // namespace revocore::cli
