#include "api/admin_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <optional>

#include "api/console_pages.hpp"
#include "http/request_framing.hpp"
#include "pki/private_key.hpp"
#include "revocation/error.hpp"

namespace revocore::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// TLS must not end the handshake over the client certificate: the request that follows is
// answered with a problem that says what is wrong (RFC 9457), which a TLS alert cannot.
// ClientAuthenticator verifies the certificate in full before any route runs.
extern "C" int defer_client_certificate_check(int, X509_STORE_CTX*) {
  return 1;
}

void load_tls_identity(ssl::context& context, const config::AdminSettings& settings) {
  SSL_CTX* native = context.native_handle();
  if (::SSL_CTX_use_certificate_chain_file(native, settings.certificate.c_str()) != 1) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("[admin] certificate {} is not a readable PEM certificate chain ({})",
                            settings.certificate.string(), pki::drain_openssl_errors()));
  }
  const pki::ScopedEvpPkey key = pki::load_private_key("[admin]", settings.private_key);
  if (::SSL_CTX_use_PrivateKey(native, key.get()) != 1 ||
      ::SSL_CTX_check_private_key(native) != 1) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("[admin] private_key {} does not belong to the certificate {} ({})",
                            settings.private_key.string(), settings.certificate.string(),
                            pki::drain_openssl_errors()));
  }
}

// How long a TLS session may be resumed (the server's session cache; tickets are off).
constexpr long kSessionSeconds = 300;

}  // namespace

struct AdminServer::State {
  State(const AdminRoutes& r, const ClientAuthenticator& a, const config::AdminSettings& s)
      : routes(r), authenticator(a), settings(s) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX* native = tls.native_handle();
    // TLS 1.2: AEAD suites with forward secrecy only, as Mozilla's "intermediate" profile (no
    // CBC, no static RSA); TLS 1.3 suites are all AEAD and stay OpenSSL's default.
    ::SSL_CTX_set_cipher_list(native,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                              "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
                              "DHE-RSA-CHACHA20-POLY1305");
    // Session resumption (issue 19). A server that verifies client certificates must name a
    // session id context, or OpenSSL refuses every resumption (alert 80, "session id context
    // uninitialized"). Tickets are off: resumption uses the server's own session cache (TLS 1.2
    // session ids; TLS 1.3 stateful tickets), so there is no ticket key to protect and rotate,
    // and a session lives at most kSessionSeconds. A resumed session carries the client
    // certificate of its full handshake, and every request checks it again (validity,
    // revocation in the store or the CRL) exactly as on a new connection.
    static constexpr unsigned char kSessionContext[] = "revocore-admin";
    ::SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
    ::SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    ::SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
    ::SSL_CTX_sess_set_cache_size(native, 4096);
    ::SSL_CTX_set_timeout(native, kSessionSeconds);
    load_tls_identity(tls, settings);
    ::SSL_CTX_set_verify(tls.native_handle(), SSL_VERIFY_PEER, defer_client_certificate_check);
    // Tells clients which CAs' certificates to present: operators', and card holders' for
    // self-service.
    ::SSL_CTX_add_client_CA(tls.native_handle(), authenticator.operator_ca().handle());
    for (const auto& issuer : authenticator.self_service_issuers()) {
      ::SSL_CTX_add_client_CA(tls.native_handle(), issuer.handle());
    }
  }

  const AdminRoutes& routes;
  const ClientAuthenticator& authenticator;
  const config::AdminSettings& settings;
  ssl::context tls{ssl::context::tls_server};
  net::io_context io{1};
  tcp::acceptor acceptor{io};

  void accept();
};

namespace {

class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(tcp::socket socket, AdminServer::State& state)
      : stream_(std::move(socket), state.tls), state_(state) {}

  void start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                spdlog::info("event=api_tls_failure error=\"{}\"", ec.message());
                                return;
                              }
                              self->read();
                            });
  }

 private:
  // A request is read in two steps: the header (at most kHeaderLimit), then, once the header's
  // framing is sound and the client certificate authenticated, the body (at most
  // max_body_bytes). A client without a valid operator certificate never gets a byte of its
  // body buffered.
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Checked against Content-Length as soon as the header is in; no body byte is read before
    // authentication beyond what one read of at most kMaxBufferedBytes brings along.
    parser_->body_limit(state_.settings.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&AdminSession::on_header, shared_from_this()));
  }

  // Answers a read error that deserves an answer; false when the connection just ends.
  bool answer_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      shutdown();
      return true;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow) {
      response_ = problem_response(
          http::status::payload_too_large, "too-large",
          fmt::format("the request is larger than [admin] max_body_bytes ({} bytes) or its "
                      "header larger than {} bytes; split it",
                      state_.settings.max_body_bytes, kHeaderLimit),
          "", 11);
      write(true);
      return true;
    }
    if (ec == http::error::bad_target || ec == http::error::bad_method ||
        ec == http::error::bad_version || ec == http::error::bad_field ||
        ec == http::error::bad_value || ec == http::error::bad_line_ending ||
        ec == http::error::bad_content_length || ec == http::error::bad_transfer_encoding ||
        ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension ||
        ec == http::error::bad_obs_fold) {
      response_ = problem_response(http::status::bad_request, "bad-request",
                                   "the request is not well-formed HTTP/1.1", "", 11);
      write(true);
      return true;
    }
    return false;  // timeouts, resets, TLS errors: nothing to answer
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) {
      answer_read_error(ec);
      return;
    }
    const HttpRequest& request = parser_->get();
    const std::string_view target(request.target().data(), request.target().size());
    started_ = std::chrono::steady_clock::now();
    logged_method_ = std::string(request.method_string().substr(0, 16));
    logged_path_ = loggable_path(target);
    caller_ = {};
    const revocore::http::FramingError framing_error =
        revocore::http::check_framing(request.base(), request.version());
    if (framing_error != revocore::http::FramingError::kNone) {
      std::string detail(revocore::http::describe(framing_error));
      detail.pop_back();  // the trailing newline of the plain-text form
      response_ =
          problem_response(http::status::bad_request, "bad-framing", detail, "", request.version());
      unread_body_ = !parser_->is_done();
      return write(true);
    }
    // Authenticate before reading the body (the TLS handshake has the certificate already).
    SSL* ssl = stream_.native_handle();
    const pki::ScopedX509 peer(::SSL_get1_peer_certificate(ssl));
    try {
      // Card holders sign in on /api/v1/self only, operators everywhere else; the routes check
      // the caller's kind again.
      caller_ = AdminRoutes::is_self_service(target)
                    ? state_.authenticator.authenticate_card_holder(peer.get(),
                                                                    ::SSL_get_peer_cert_chain(ssl))
                    : state_.authenticator.authenticate(peer.get(), ::SSL_get_peer_cert_chain(ssl));
    } catch (const Error& e) {
      spdlog::warn("event=api_refused path=\"{}\" error=\"{}\"", target.substr(0, 200), e.what());
      // A browser opening the console gets a page that says what is missing.
      response_ = is_console_path(target)
                      ? console_refusal(e, request.version())
                      : problem_response(e, target.substr(0, target.find('?')), request.version());
      // The body, if any, stays unread: the connection closes after the answer.
      unread_body_ = !parser_->is_done();
      return write(true);
    }
    if (parser_->is_done()) {
      return on_read({}, 0);
    }
    // A body is coming: what the caller may not do is refused before a byte of it is buffered
    // (the routes check again once it is in). The body stays unread; the connection closes
    // after the answer.
    if (auto refused = state_.routes.answer_before_body(request, caller_)) {
      response_ = std::move(*refused);
      unread_body_ = true;
      return write(true);
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&AdminSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      answer_read_error(ec);
      return;
    }
    const HttpRequest& request = parser_->get();
    // Exceptions never leave this handler: every failure becomes an HTTP answer.
    try {
      const std::string_view target(request.target().data(), request.target().size());
      response_ = is_console_path(target) ? console_response(request)
                                          : state_.routes.handle(request, caller_);
    } catch (const std::exception& e) {
      spdlog::error("event=api_failure error=\"{}\"", e.what());
      response_ = problem_response(http::status::internal_server_error, "internal",
                                   "the request failed inside revocore; see its log", "",
                                   request.version());
    }
    response_.keep_alive(request.keep_alive());
    write(!request.keep_alive());
  }

  void write(bool close_after) {
    add_security_headers(response_);
    log_request();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_,
                      [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                        if (ec) {
                          return;
                        }
                        if (close_after && self->unread_body_) {
                          return self->discard_then_close();
                        }
                        if (close_after) {
                          return self->shutdown();
                        }
                        self->read();
                      });
  }

  // After answering a request whose body was left unread (refused before authentication or on
  // its framing): closing now, with the client still sending, would make the kernel reset the
  // connection and the client could lose the answer before reading it. So, as nginx's
  // lingering close does, stop sending and drop what still comes, unbuffered, for at most
  // kLingerSeconds and kLingerBytes, then close.
  void discard_then_close() {
    auto& tcp = beast::get_lowest_layer(stream_);
    beast::error_code ignored;
    tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp.expires_after(std::chrono::seconds(kLingerSeconds));
    discard();
  }

  void discard() {
    beast::get_lowest_layer(stream_).async_read_some(
        net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->discarded_ += n;
          if (ec || self->discarded_ >= kLingerBytes) {
            beast::error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().close(ignored);
            return;
          }
          self->discard();
        });
  }

  void shutdown() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  // Before authentication only a header is read; after it, a chunk-size line or trailer must fit
  // in what is buffered too (Beast parses each only once it has all of it).
  static constexpr std::uint32_t kHeaderLimit = 16 * 1024;
  static constexpr std::size_t kMaxBufferedBytes = 64 * 1024;
  static constexpr int kLingerSeconds = 2;
  static constexpr std::size_t kLingerBytes = 8 << 20;

  // One line per answered request, reads included (who read which user is personal data access
  // that auditors ask about): operator, method, path without query values, status, bytes,
  // duration and whether the TLS session was resumed.
  void log_request() {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started_);
    spdlog::info(
        "event=api_request operator=\"{}\" method={} path=\"{}\" status={} bytes={} "
        "duration_ms={:.3f} tls_resumed={}",
        caller_.subject.empty() ? "-" : caller_.subject,
        logged_method_.empty() ? "-" : logged_method_, logged_path_,
        static_cast<unsigned>(response_.result_int()), response_.body().size(),
        static_cast<double>(elapsed.count()) / 1000.0,
        ::SSL_session_reused(stream_.native_handle()) == 1);
    logged_method_.clear();
    logged_path_ = "-";
  }

  // The path, and of the query only the parameter names: a value may be personal data or a
  // secret. Bytes outside printable ASCII are escaped so that the log line stays one line.
  static std::string loggable_path(std::string_view target) {
    const std::size_t question = target.find('?');
    std::string out;
    const auto append = [&](std::string_view part) {
      for (const char c : part.substr(0, 512)) {
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
          out += c;
        } else {
          out += fmt::format("%{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        }
      }
    };
    append(target.substr(0, question));
    if (question != std::string_view::npos) {
      std::string_view query = target.substr(question + 1);
      char separator = '?';
      while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        out += separator;
        append(pair.substr(0, pair.find('=')));
        out += "=...";
        separator = '&';
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      }
    }
    return out;
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  AdminServer::State& state_;
  beast::flat_buffer buffer_{kMaxBufferedBytes};
  ApiCaller caller_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::string logged_method_;
  std::string logged_path_ = "-";
  bool unread_body_ = false;  // the last answer was sent without reading the request's body
  std::array<char, 16 * 1024> discard_;
  std::size_t discarded_ = 0;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse response_;
};

}  // namespace

void AdminServer::State::accept() {
  acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) {
      return;
    }
    if (!ec) {
      std::make_shared<AdminSession>(std::move(socket), *this)->start();
    }
    accept();
  });
}

AdminServer::AdminServer(const AdminRoutes& routes, const ClientAuthenticator& authenticator,
                         const config::AdminSettings& settings)
    : state_(std::make_unique<State>(routes, authenticator, settings)) {}

AdminServer::~AdminServer() {
  stop();
}

unsigned short AdminServer::listen() {
  const auto& settings = state_->settings;
  beast::error_code ec;
  const auto address = net::ip::make_address(settings.listen_address, ec);
  if (ec) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("[admin] listen address '{}' is not an IP address; use e.g. 127.0.0.1",
                            settings.listen_address));
  }
  const tcp::endpoint endpoint(address, settings.port);
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw Error(ErrorCode::kNetwork,
                fmt::format("cannot listen on {}:{} for the operator API: {}",
                            settings.listen_address, settings.port, ec.message()));
  }
  return acceptor.local_endpoint().port();
}

void AdminServer::start() {
  state_->accept();
  thread_ = std::thread([this] {
    // A handler that throws (it should not) must not take the process down with it.
    while (true) {
      try {
        state_->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("event=api_loop_failure error=\"{}\"", e.what());
      }
    }
  });
}

void AdminServer::stop() {
  if (!thread_.joinable()) {
    return;
  }
  net::post(state_->io, [this] {
    beast::error_code ignored;
    state_->acceptor.close(ignored);
    state_->io.stop();
  });
  thread_.join();
}

}  // namespace revocore::api
