#pragma once
// The operator API's HTTPS listener (Boost.Beast over OpenSSL), separate from the public OCSP
// port and on loopback unless configured otherwise. TLS asks for a client certificate but lets
// the handshake finish without one, so that a missing or refused certificate gets a problem
// details answer (401, 403) instead of a bare TLS alert; ClientAuthenticator then checks the
// certificate on every request.
#include <memory>
#include <thread>

#include "api/admin_routes.hpp"
#include "api/client_authentication.hpp"
#include "config/configuration.hpp"

namespace revocore::api {

class AdminServer {
 public:
  // Loads the TLS certificate chain and key (a key readable by group or others is refused);
  // throws kInvalidConfig naming the file. Routes, authenticator and settings must outlive it.
  AdminServer(const AdminRoutes& routes, const ClientAuthenticator& authenticator,
              const config::AdminSettings& settings);
  ~AdminServer();  // stop()

  // Binds the configured address (port 0 picks one); returns the port. Throws kNetwork.
  unsigned short listen();
  // Serves on a thread of its own until stop().
  void start();
  // Closes the listener and every connection, and joins the thread.
  void stop();

  struct State;  // implementation detail (admin_server.cpp)

 private:
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace revocore::api
