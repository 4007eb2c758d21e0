#pragma once
// Errors of the operator API as RFC 9457 problem details: application/problem+json with type,
// title, status, detail (the same message the command line prints) and instance (the path).
#include <boost/beast/http.hpp>
#include <string_view>

#include "revocation/error.hpp"

namespace revocore::api {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// 400 bad input, 401 no certificate, 403 refused certificate, 404 unknown id, 409 wrong state or
// conflict, 507 store full, 500 for faults of the service itself.
boost::beast::http::status http_status_for(ErrorCode code) noexcept;

HttpResponse problem_response(boost::beast::http::status status, std::string_view code_name,
                              std::string_view detail, std::string_view instance, unsigned version);
HttpResponse problem_response(const Error& error, std::string_view instance, unsigned version);

// Set on every answer of the operator API, whatever produced it: nothing is sniffed, cached,
// framed or allowed to load anything (the answers are JSON for programs, not pages).
void add_security_headers(HttpResponse& response);

}  // namespace revocore::api
