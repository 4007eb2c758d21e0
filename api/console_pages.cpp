#include "api/console_pages.hpp"

#include <fmt/format.h>

#include "console/console_assets.hpp"

namespace revocore::api {
namespace {

namespace http = boost::beast::http;

// Scripts and styles from this listener only, no inline ones, nothing from elsewhere, no frames.
constexpr const char* kConsolePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

bool is_console_path(std::string_view target) noexcept {
  const std::string_view path = path_of(target);
  return path == "/" || path == "/favicon.ico" || path == "/console" ||
         path.starts_with("/console/");
}

HttpResponse console_response(const HttpRequest& request) {
  const std::string_view path = path_of({request.target().data(), request.target().size()});
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    HttpResponse response =
        problem_response(http::status::method_not_allowed, "method-not-allowed",
                         "the console's pages are read with GET", path, request.version());
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  if (path == "/favicon.ico") {
    // Browsers ask for it on their own; the console has no icon, and says so without an error.
    HttpResponse response{http::status::no_content, request.version()};
    response.prepare_payload();
    return response;
  }
  if (path == "/" || path == "/console") {
    HttpResponse response{http::status::see_other, request.version()};
    response.set(http::field::location, "/console/");
    response.prepare_payload();
    return response;
  }
  std::string_view name = path.substr(std::string_view("/console/").size());
  if (name.empty()) {
    name = "index.html";
  }
  const console::Asset* asset = console::find_asset(name);
  if (asset == nullptr) {
    return problem_response(http::status::not_found, "not-found",
                            "the console has no such page; start at /console/", path,
                            request.version());
  }
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, console::content_type(asset->name));
  response.set("Content-Security-Policy", kConsolePolicy);
  response.body() = std::string(asset->bytes);
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    response.body().clear();
  }
  return response;
}

HttpResponse console_refusal(const Error& error, unsigned version) {
  const bool none = error.code() == ErrorCode::kNotAuthenticated;
  HttpResponse response{none ? http::status::unauthorized : http::status::forbidden, version};
  response.set(http::field::content_type, "text/html; charset=utf-8");
  response.set("Content-Security-Policy", kConsolePolicy);
  if (none) {
    response.set(http::field::www_authenticate, "TLS-client-certificate");
  }
  response.body() = fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>revocore console: {0}</title>"
      "<link rel=\"stylesheet\" href=\"/console/console.css\"></head><body>"
      "<header><span class=\"brand\">revocore</span></header><main>"
      "<h1>{0}</h1><p class=\"problem\" role=\"alert\">{1}</p>"
      "<p>The console signs operators in with a client certificate of the operator CA, held in "
      "the browser's certificate store (Chromium on Linux: the NSS database, imported with "
      "<code>pk12util</code>). Import yours, restart the browser and open this page again; an "
      "administrator issues one if you have none.</p></main></body></html>\n",
      none ? "No client certificate" : "Certificate refused", html_escape(error.what()));
  response.prepare_payload();
  return response;
}

}  // namespace revocore::api
