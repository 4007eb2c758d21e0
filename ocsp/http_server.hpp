#pragma once
// The responder's HTTP/1.1 server (Boost.Beast): keep-alive, N threads on one io_context, a
// fresh parser per request with body and header limits and a header timeout, and a clean
// drain on SIGTERM or SIGINT: stop accepting, let requests in flight finish, close idle
// connections, exit. Pre-signed responses queued by the responder are written to the store by
// a separate thread, never by an I/O thread.
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

  // Binds and listens; throws kStoreIo naming the address. Returns the port (useful with 0).
  unsigned short listen(const std::string& address, unsigned short port);
  // Serves until SIGTERM or SIGINT; returns once drained.
  void run();

  // Implementation detail, shared with the connections (http_server.cpp).
  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace revocore::ocsp
