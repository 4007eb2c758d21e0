#pragma once
// The operator console on the operator API's listener (docs/CONSOLE.md): its compiled-in files
// under /console/, / sending a browser there, and the page a browser gets when its client
// certificate is refused (a person reads it, so it is HTML, not problem details).
#include <optional>
#include <string_view>

#include "api/problem_details.hpp"
#include "revocation/error.hpp"

namespace revocore::api {

// Whether the request is for the console (/, /console, /console/...): answered by
// console_response(), not by the API's routes.
bool is_console_path(std::string_view target) noexcept;

// The console file or redirect for an authenticated operator's request; 404 for a file that
// does not exist, 405 for a method other than GET or HEAD.
HttpResponse console_response(const HttpRequest& request);

// The page for a browser whose certificate was refused (or that sent none): what is missing and
// what to do, every value escaped.
HttpResponse console_refusal(const Error& error, unsigned version);

}  // namespace revocore::api
