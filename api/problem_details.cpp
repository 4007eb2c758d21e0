#include "api/problem_details.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "revocation/identifier.hpp"

namespace revocore::api {
namespace {

namespace http = boost::beast::http;

std::string_view code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kWrongState:
      return "wrong-state";
    case ErrorCode::kIllegalTransition:
      return "illegal-transition";
    case ErrorCode::kReasonNotOffered:
      return "reason-not-offered";
    case ErrorCode::kDuplicate:
      return "duplicate";
    case ErrorCode::kUnknownIssuer:
      return "unknown-issuer";
    case ErrorCode::kInvalidCertificate:
      return "invalid-certificate";
    case ErrorCode::kInvalidManifest:
      return "invalid-registration";
    case ErrorCode::kInvalidConfig:
      return "invalid-config";
    case ErrorCode::kApprovalDenied:
      return "approval-denied";
    case ErrorCode::kStoreCorrupt:
      return "store-corrupt";
    case ErrorCode::kStoreVersion:
      return "store-version";
    case ErrorCode::kStoreFull:
      return "store-full";
    case ErrorCode::kStoreIo:
      return "store-io";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kSigning:
      return "signing";
    case ErrorCode::kCrlNotPublished:
      return "crl-not-published";
    case ErrorCode::kNotAuthenticated:
      return "not-authenticated";
    case ErrorCode::kOperatorRefused:
      return "operator-refused";
    case ErrorCode::kReplication:
      return "replication";
    case ErrorCode::kPermissionDenied:
      return "permission-denied";
  }
  return "error";
}

}  // namespace

http::status http_status_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kReasonNotOffered:
    case ErrorCode::kUnknownIssuer:
    case ErrorCode::kInvalidCertificate:
    case ErrorCode::kInvalidManifest:
      return http::status::bad_request;
    case ErrorCode::kNotAuthenticated:
      return http::status::unauthorized;
    case ErrorCode::kOperatorRefused:
    case ErrorCode::kPermissionDenied:
      return http::status::forbidden;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kWrongState:
    case ErrorCode::kIllegalTransition:
    case ErrorCode::kDuplicate:
    case ErrorCode::kApprovalDenied:
      return http::status::conflict;
    case ErrorCode::kStoreFull:
      return http::status::insufficient_storage;
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kStoreCorrupt:
    case ErrorCode::kStoreVersion:
    case ErrorCode::kStoreIo:
    case ErrorCode::kIo:
    case ErrorCode::kNetwork:
    case ErrorCode::kReplication:
    case ErrorCode::kSigning:
    case ErrorCode::kCrlNotPublished:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

// Messages echo what the client sent (an id from the path, a field): bytes that are not valid
// UTF-8 are written as \xNN, so that the JSON stays valid (Boost.JSON copies them raw); control
// characters, NUL included, are escaped by the serializer.
std::string printable_detail(std::string_view detail) {
  std::string out;
  out.reserve(detail.size());
  while (!detail.empty()) {
    const std::size_t length = utf8_sequence_length(detail);
    if (length == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned>(static_cast<unsigned char>(detail[0])));
      detail.remove_prefix(1);
    } else {
      out.append(detail.substr(0, length));
      detail.remove_prefix(length);
    }
  }
  return out;
}

void add_security_headers(HttpResponse& response) {
  response.set("X-Content-Type-Options", "nosniff");
  response.set(http::field::cache_control, "no-store");
  // The console's pages set their own (scripts and styles from this listener); all else none.
  if (response.find("Content-Security-Policy") == response.end()) {
    response.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
}

HttpResponse problem_response(http::status status, std::string_view code, std::string_view detail,
                              std::string_view instance, unsigned version) {
  HttpResponse response{status, version};
  response.set(http::field::content_type, "application/problem+json");
  response.set(http::field::cache_control, "no-store");
  if (status == http::status::unauthorized) {
    // RFC 9110 11.6.1 asks for a challenge; the scheme here is TLS client authentication.
    response.set(http::field::www_authenticate, "TLS-client-certificate");
  }
  boost::json::object body{{"type", std::string("urn:revocore:problem:") + std::string(code)},
                           {"title", std::string(http::obsolete_reason(status))},
                           {"status", static_cast<int>(status)},
                           {"detail", printable_detail(detail)},
                           {"instance", printable_detail(instance)}};
  response.body() = boost::json::serialize(body);
  response.body() += '\n';
  response.prepare_payload();
  return response;
}

HttpResponse problem_response(const Error& error, std::string_view instance, unsigned version) {
  return problem_response(http_status_for(error.code()), code_name(error.code()), error.what(),
                          instance, version);
}

}  // namespace revocore::api
