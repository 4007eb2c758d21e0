#pragma once
// The responder's HTTP/1.1 server (Boost.Asio, Beast's parser): keep-alive and pipelining, N
// worker threads sharing one event loop with an acceptor each on the shared port, body and header
// limits, a header timeout and a write timeout (checked by one sweep, not a timer per request),
// and a clean drain on SIGTERM or SIGINT: stop accepting, let requests in flight finish, close
// idle connections, exit. Pre-signed responses queued by the responder are written to the store
// by a separate thread, never by an I/O thread.
#include <atomic>
#include <memory>
#include <string>

#include "config/configuration.hpp"
#include "ocsp/http_routes.hpp"

namespace revocore::ocsp {

class OcspServer {
 public:
  // Does not take ownership; routes, responder and settings must outlive the server.
  OcspServer(const HttpRoutes& routes, OcspResponder& responder,
             const config::OcspSettings& settings);
  ~OcspServer();

  // Binds and listens; throws kNetwork naming the address. Returns the port (useful with 0).
  unsigned short listen(const std::string& address, unsigned short port);
  // Serves until SIGTERM or SIGINT; returns once drained.
  void run();

  // Implementation detail, shared with the connections (http_server.cpp).
  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace revocore::ocsp
