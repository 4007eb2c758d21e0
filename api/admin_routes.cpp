#include "api/admin_routes.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <vector>

#include "api/json_duplicate_keys.hpp"
#include "api/record_json.hpp"
#include "importer/certificate_import.hpp"
#include "lifecycle/batch_job.hpp"
#include "lifecycle/crl_regeneration.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/codec.hpp"
#include "revocation/identifier.hpp"

namespace revocore::api {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

// One path segment or query value, %XX decoded (RFC 3986 2.1).
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? codec::hex_digit(text[i + 1]) : -1;
    const int low = high >= 0 ? codec::hex_digit(text[i + 2]) : -1;
    if (low < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("'{}' has a % that is not followed by two hex digits; encode a "
                              "literal % as %25",
                              text));
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) {
      segments.push_back(percent_decode(path.substr(start, end - start)));
    }
    start = end + 1;
  }
  return segments;
}

std::string query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      return equals == std::string_view::npos ? "true" : percent_decode(pair.substr(equals + 1));
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return {};
}

std::uint64_t parse_number(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' is not a whole number", what, text));
  }
  return value;
}

// The request's JSON object; an empty body is an empty object. Keys outside `allowed` are
// refused, so a misspelt field is not silently ignored.
json::object body_object(const HttpRequest& request,
                         std::initializer_list<std::string_view> allowed,
                         std::string_view example) {
  if (request.body().empty()) {
    return {};
  }
  boost::system::error_code ec;
  json::value value = json::parse(request.body(), ec);
  if (ec) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the request body is not JSON ({}); send an object such as {}",
                            ec.message(), example));
  }
  if (!value.is_object()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the request body must be a JSON object such as {}", example));
  }
  if (const auto duplicate = first_duplicate_key(request.body())) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the request body names '{}' twice; give each field once",
                            duplicate->substr(0, 100)));
  }
  for (const auto& [key, member] : value.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("unknown field '{}' in the request body; the fields are {}",
                              std::string_view(key), fmt::join(allowed, ", ")));
    }
  }
  return std::move(value.as_object());
}

std::string string_field(const json::object& body, std::string_view key, bool required,
                         std::string_view example) {
  const json::value* value = body.if_contains(key);
  if (value == nullptr || value->is_null()) {
    if (required) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("the request body needs '{}', e.g. {}", key, example));
    }
    return {};
  }
  if (!value->is_string()) {
    throw Error(ErrorCode::kInvalidArgument, fmt::format("'{}' must be a string", key));
  }
  return std::string(value->as_string());
}

// After a committed change: its CRLs, or why they were not published. The change stays
// committed either way, so this is reported in a 2xx answer, not as a failure to retry.
void add_crls(Store& store, const config::Configuration& config, const Clock& clock,
              const std::vector<IssuerId>& issuers, std::string_view committed, json::object& out) {
  json::array crls;
  try {
    for (const auto& crl : lifecycle::regenerate_crls(store, config, clock, issuers, committed,
                                                      "`revocore crl generate`")) {
      crls.emplace_back(published_json(crl));
    }
  } catch (const Error& e) {
    spdlog::error("event=crl_not_published error=\"{}\"", e.what());
    // The message names key and directory paths: those stay in the log, out of answers.
    out["crl_error"] =
        "the change is committed, but its CRLs could not be published; the server's log says why "
        "(event=crl_not_published); run `revocore crl generate` once it is fixed";
  }
  out["crls"] = std::move(crls);
}

// 404 naming the processes there are, for a process name from a path or a body.
void require_configured_process(const config::Configuration& config, std::string_view name) {
  if (!config.processes.contains(name)) {
    std::vector<std::string_view> names;
    for (const auto& [configured, policy] : config.processes) {
      names.push_back(configured);
    }
    throw Error(ErrorCode::kNotFound, fmt::format("process '{}' is not configured; processes: {}",
                                                  name, fmt::join(names, ", ")));
  }
}

// An operator's browser presents the client certificate to any page that asks, so a page of
// another site could make it post to the API (cross-site request forgery). A state-changing
// request is therefore refused, before any route runs, when the browser says it comes from
// elsewhere: an Origin that is not this listener's own (RFC 6454; "null" included), or
// Sec-Fetch-Site cross-site or same-site (Fetch Metadata). And it must be application/json:
// the types an HTML form or a "simple" cross-origin fetch can send without a preflight
// (form-urlencoded, multipart, text/plain) are refused, so a page cannot smuggle JSON as text.
// Returns the problem to answer, or nothing when the request may go on.
std::optional<HttpResponse> refuse_cross_site(const HttpRequest& request, std::string_view path) {
  const http::verb method = request.method();
  if (method == http::verb::get || method == http::verb::head || method == http::verb::options) {
    return std::nullopt;
  }
  const auto header = [&](http::field name) {
    const auto it = request.find(name);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
  };
  const std::string_view origin = header(http::field::origin);
  const std::string_view host = header(http::field::host);
  if (!origin.empty() && origin != fmt::format("https://{}", host)) {
    return problem_response(http::status::forbidden, "cross-site",
                            fmt::format("a request from origin {} may not change anything here; "
                                        "the operator API takes changes only from its own origin "
                                        "or from programs that send no Origin",
                                        origin.substr(0, 200)),
                            path, request.version());
  }
  const auto site = request.find("Sec-Fetch-Site");
  if (site != request.end() && site->value() != "same-origin" && site->value() != "none") {
    return problem_response(http::status::forbidden, "cross-site",
                            "the browser marked this request Sec-Fetch-Site: " +
                                std::string(site->value().substr(0, 50)) +
                                "; changes are taken only from the API's own origin",
                            path, request.version());
  }
  std::string_view type = header(http::field::content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  const bool json = boost::beast::iequals(type, "application/json");
  if (!json && (!type.empty() || !request.body().empty())) {
    return problem_response(
        http::status::unsupported_media_type, "unsupported-media-type",
        fmt::format("a request that changes something must be Content-Type: application/json, "
                    "not '{}'; with curl add -H 'Content-Type: application/json'",
                    type.substr(0, 100)),
        path, request.version());
  }
  return std::nullopt;
}

}  // namespace

struct AdminRoutes::Reply {
  http::status status = http::status::ok;
  json::value body;
  std::string location = {};  // for 201 and 202
  // Set when the route exists but not for the request's method: 405 with this Allow (RFC 9110
  // 15.5.6).
  const char* allow = nullptr;
};

AdminRoutes::Reply AdminRoutes::method_not_allowed(const char* allow) {
  return {http::status::method_not_allowed, nullptr, {}, allow};
}

AdminRoutes::AdminRoutes(Store& store, const config::Configuration& config, Clock clock,
                         std::function<void(std::uint64_t)> start_job)
    : store_(store), config_(config), clock_(std::move(clock)), start_job_(std::move(start_job)) {}

HttpResponse AdminRoutes::handle(const HttpRequest& request, const ApiCaller& caller) const {
  const std::string_view target(request.target().data(), request.target().size());
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (auto refused = answer_before_body(request, caller)) {
    return std::move(*refused);
  }
  try {
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    Reply reply = route(request, caller, path, query);
    if (reply.allow != nullptr) {
      HttpResponse response = problem_response(
          http::status::method_not_allowed, "method-not-allowed",
          fmt::format("{} is not allowed on {}; use {}", std::string_view(request.method_string()),
                      path, reply.allow),
          path, request.version());
      response.set(http::field::allow, reply.allow);
      return response;
    }
    HttpResponse response{reply.status, request.version()};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    if (!reply.location.empty()) {
      response.set(http::field::location, reply.location);
    }
    response.body() = json::serialize(reply.body);
    response.body() += '\n';
    response.prepare_payload();
    return response;
  } catch (const Error& e) {
    if (http_status_for(e.code()) == http::status::internal_server_error) {
      spdlog::error("event=api_failure path={} error=\"{}\"", path, e.what());
    }
    return problem_response(e, path, request.version());
  } catch (const std::exception& e) {
    spdlog::error("event=api_failure path={} error=\"{}\"", path, e.what());
    return problem_response(http::status::internal_server_error, "internal",
                            "the request failed inside revocore; see its log", path,
                            request.version());
  }
}

AdminRoutes::Reply AdminRoutes::route(const HttpRequest& request, const ApiCaller& caller,
                                      std::string_view path, std::string_view query) const {
  const std::vector<std::string> all = split_path(path);
  if (all.size() < 3 || all[0] != "api" || all[1] != "v1") {
    throw Error(
        ErrorCode::kNotFound,
        fmt::format("there is no {}; the operator API is under /api/v1/ (docs/API.md)", path));
  }
  const std::vector<std::string> s(all.begin() + 2, all.end());
  const std::string& resource = s[0];
  if (resource == "self") {
    return self_service(request, caller, s);
  }

  if (resource == "whoami" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    json::array roles;
    for (const auto& role : caller.roles) {
      roles.emplace_back(role);
    }
    // Every permission the roles grant, spelt out, so that a client (the operator console)
    // offers only what the operator may do without knowing the wildcards.
    json::array permissions;
    const auto add = [&](const std::string& permission) {
      if (config_.permits(caller.roles, permission)) {
        permissions.emplace_back(permission);
      }
    };
    for (const auto& [name, policy] : config_.processes) {
      add("process:" + name);
      if (policy.approval) {
        add("approve:" + name);
      }
    }
    for (const char* permission : {"register", "jobs", "read:users", "read:audit", "read:jobs"}) {
      add(permission);
    }
    return {http::status::ok, json::object{{"subject", caller.subject},
                                           {"serial", caller.serial},
                                           {"user", caller.user_id},
                                           {"roles", std::move(roles)},
                                           {"permissions", std::move(permissions)}}};
  }
  if (resource == "processes" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    return {http::status::ok, processes_json(config_)};
  }
  if (resource == "processes" && s.size() == 2) {
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST");
    }
    return run_process(s[1], request, caller);
  }
  if (resource == "approvals" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    const bool everything = query_value(query, "all") == "true";
    json::array listed;
    lifecycle::LifecycleProcesses(store_, config_, clock_).retire_pending();
    for (const auto& approval : store_.read().approvals()) {
      if (everything || approval.status == ApprovalStatus::kPending) {
        listed.emplace_back(approval_json(approval));
      }
    }
    return {http::status::ok, std::move(listed)};
  }
  if (resource == "approvals" && s.size() == 3 && (s[2] == "approve" || s[2] == "reject")) {
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST");
    }
    return decide_approval(parse_number(s[1], "approval id"), s[2], request, caller);
  }
  if (resource == "search" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    const std::string q = query_value(query, "q");
    const std::string limit_text = query_value(query, "limit");
    const std::string offset_text = query_value(query, "offset");
    const std::uint64_t limit = limit_text.empty() ? 20 : parse_number(limit_text, "limit");
    const std::uint64_t offset = offset_text.empty() ? 0 : parse_number(offset_text, "offset");
    json::value body;
    {
      const StoreTransaction txn = store_.read();
      body = search_json(txn, search(txn, q, limit, offset), limit, offset);
    }
    audit_read("search", q.substr(0, 200), caller);
    return {http::status::ok, std::move(body)};
  }
  if (resource == "users" && s.size() == 2) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    json::value body;
    {
      const StoreTransaction txn = store_.read();
      const auto user = txn.user(s[1]);
      if (!user) {
        throw Error(ErrorCode::kNotFound, fmt::format("user {} does not exist", s[1]));
      }
      body = user_json(txn, *user);
    }
    audit_read("user", s[1], caller);
    return {http::status::ok, std::move(body)};
  }
  if (resource == "credentials" && s.size() == 2) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    json::value body;
    {
      const StoreTransaction txn = store_.read();
      const auto credential = txn.credential(s[1]);
      if (!credential) {
        throw Error(ErrorCode::kNotFound, fmt::format("credential {} does not exist", s[1]));
      }
      body = credential_json(txn, *credential);
    }
    audit_read("credential", s[1], caller);
    return {http::status::ok, std::move(body)};
  }
  if (resource == "certificates" && s.size() == 1) {
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST");
    }
    return register_certificates(request, caller);
  }
  if (resource == "certificates" && s.size() == 4 &&
      (s[3] == "revoke" || s[3] == "hold" || s[3] == "release")) {
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST");
    }
    return run_certificate_process(s[3], s[1], s[2], request, caller);
  }
  if (resource == "certificates" && s.size() == 3) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    const StoreTransaction txn = store_.read();
    const auto [key, record] = find_certificate(txn, s[1], s[2]);
    return {http::status::ok, certificate_json(txn, key, record, &config_)};
  }
  if (resource == "audit" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    return audit_trail(query);
  }
  if (resource == "jobs" && s.size() == 1) {
    if (request.method() == http::verb::post) {
      return create_job(request, caller);
    }
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET, POST");
    }
    json::array listed;
    for (const auto& job : lifecycle::BatchJobs(store_, config_, clock_).jobs()) {
      listed.emplace_back(job_json(job));
    }
    return {http::status::ok, std::move(listed)};
  }
  if (resource == "status" && s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    return status();
  }
  if (resource == "jobs" && s.size() == 2) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    return job(parse_number(s[1], "job id"));
  }
  throw Error(ErrorCode::kNotFound,
              fmt::format("there is no {}; see docs/API.md for the operator API's paths", path));
}

std::optional<HttpResponse> AdminRoutes::answer_before_body(const HttpRequest& request,
                                                            const ApiCaller& caller) const {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (auto refused = refuse_cross_site(request, path)) {
    spdlog::warn("event=api_cross_site_refused path=\"{}\" operator=\"{}\"", path.substr(0, 200),
                 caller.subject);
    return refused;
  }
  try {
    authorize(request, caller, path);
  } catch (const Error& e) {
    return problem_response(e, path, request.version());
  } catch (const std::exception& e) {
    spdlog::error("event=api_failure path={} error=\"{}\"", path.substr(0, 200), e.what());
    return problem_response(http::status::internal_server_error, "internal",
                            "the request failed inside revocore; see its log", path,
                            request.version());
  }
  return std::nullopt;
}

void AdminRoutes::authorize(const HttpRequest& request, const ApiCaller& caller,
                            std::string_view path) const {
  std::vector<std::string> all;
  try {
    all = split_path(path);
  } catch (const Error&) {
    return;  // the route answers 400
  }
  if (all.size() < 3 || all[0] != "api" || all[1] != "v1") {
    return;  // the route answers 404
  }
  const std::vector<std::string> s(all.begin() + 2, all.end());
  const std::string& resource = s[0];
  const http::verb method = request.method();
  const bool get = method == http::verb::get;
  const bool post = method == http::verb::post;
  // A card holder's certificate opens the self-service paths and nothing else; an operator's,
  // everything else (operators act on others through the operator paths, with their roles).
  if ((caller.kind == ApiCaller::Kind::kCardHolder) != (resource == "self")) {
    refuse(caller, "", "", "", "a certificate of the right kind",
           caller.kind == ApiCaller::Kind::kCardHolder
               ? "a card holder's certificate signs in to self-service only (/api/v1/self)"
               : "self-service (/api/v1/self) is for card holders signed in with a certificate of "
                 "their own credential; operators use the operator paths");
  }
  // What each route needs, from the method and the path alone; a request that matches no route
  // (or not its method) needs nothing here and is answered 404 or 405 by route().
  if (resource == "self") {
    if (s.size() == 3 && s[1] == "processes" && post && config_.self_service &&
        !config_.self_service->allows(s[2])) {
      const auto& allowed = config_.self_service->processes;
      refuse(caller, s[2], "", "", "self-service " + s[2],
             fmt::format("'{}' is not a self-service process here; you may run {} ([self_service] "
                         "processes); for anything else ask the help desk",
                         s[2].substr(0, 100),
                         allowed.empty() ? std::string("none")
                                         : fmt::format("{}", fmt::join(allowed, ", "))));
    }
  } else if (resource == "processes" && s.size() == 2 && post) {
    if (config_.processes.contains(s[1])) {
      require(caller, "process:" + s[1]);
    }
  } else if (resource == "approvals" && s.size() == 1 && get) {
    require(caller, "read:jobs");
  } else if (resource == "approvals" && s.size() == 3 && (s[2] == "approve" || s[2] == "reject") &&
             post) {
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(s[1].data(), s[1].data() + s[1].size(), id);
    const auto approval = ec == std::errc{} && end == s[1].data() + s[1].size()
                              ? store_.read().approval(id)
                              : std::nullopt;
    if (approval) {
      // Four eyes: the second operator must be allowed to approve this process (and is not the
      // requester, which LifecycleProcesses checks).
      const std::string permission = "approve:" + approval->process;
      require(caller, permission, "approval", std::to_string(id));
      if (config_.authorization.approver_needs_other_role) {
        require_other_role(caller, *approval, permission);
      }
    }
  } else if (resource == "search" && s.size() == 1 && get) {
    require(caller, "read:users");
  } else if ((resource == "users" || resource == "credentials") && s.size() == 2 && get) {
    require(caller, "read:users", resource == "users" ? "user" : "credential", s[1]);
  } else if (resource == "certificates" && s.size() == 1 && post) {
    require(caller, "register");
  } else if (resource == "certificates" && s.size() == 4 && post &&
             (s[3] == "revoke" || s[3] == "hold" || s[3] == "release")) {
    const std::string_view name = s[3] == "revoke" ? config::kCertsProcRevoke
                                  : s[3] == "hold" ? config::kCertsProcHold
                                                   : config::kCertsProcRelease;
    require(caller, "process:" + std::string(name), "certificate",
            fmt::format("{}/{}", s[1], s[2]));
  } else if (resource == "certificates" && s.size() == 3 && get) {
    require(caller, "read:users", "certificate", s[1] + "/" + s[2]);
  } else if (resource == "audit" && s.size() == 1 && get) {
    require(caller, "read:audit");
  } else if (resource == "jobs" && s.size() == 1 && post) {
    require(caller, "jobs");  // and process:<its process>, from the body, in create_job()
  } else if ((resource == "jobs" && (s.size() == 1 || s.size() == 2) && get) ||
             (resource == "status" && s.size() == 1 && get)) {
    require(caller, "read:jobs");
  }
}

bool AdminRoutes::is_self_service(std::string_view target) noexcept {
  try {
    const std::vector<std::string> segments = split_path(target.substr(0, target.find('?')));
    return segments.size() >= 3 && segments[0] == "api" && segments[1] == "v1" &&
           segments[2] == "self";
  } catch (const std::exception&) {
    return false;  // a path that does not decode is answered 400 by the operator routes
  }
}

AdminRoutes::Reply AdminRoutes::self_service(const HttpRequest& request, const ApiCaller& caller,
                                             const std::vector<std::string>& s) const {
  if (!config_.self_service) {
    throw Error(ErrorCode::kNotFound, "self-service is not offered here ([self_service])");
  }
  const config::SelfServiceSettings& settings = *config_.self_service;
  if (s.size() == 1) {
    if (request.method() != http::verb::get) {
      return method_not_allowed("GET");
    }
    json::object processes;
    const json::object all = processes_json(config_);
    for (const auto& name : settings.processes) {
      if (const json::value* process = all.if_contains(name)) {
        processes[name] = *process;
      }
    }
    const StoreTransaction txn = store_.read();
    const auto user = txn.user(caller.user_id);
    if (!user) {
      throw Error(ErrorCode::kNotFound, "your user is no longer in revocore; ask the help desk");
    }
    return {http::status::ok, json::object{{"subject", caller.subject},
                                           {"certificate", caller.certificate},
                                           {"user", user_json(txn, *user)},
                                           {"processes", std::move(processes)}}};
  }
  if (s.size() == 3 && s[1] == "processes") {
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST");
    }
    const std::string& name = s[2];
    const config::ProcessPolicy& policy = config_.process(name);
    constexpr std::string_view example =
        R"({"target": "card-1003", "reason": "Card left at home"})";
    const json::object body =
        body_object(request, {"target", "reason", "invalidity_date", "preview"}, example);
    std::string target =
        string_field(body, "target", policy.target != config::ProcessTarget::kUser, example);
    if (target.empty()) {
      target = caller.user_id;  // a user process acts on the holder's own user
    }
    lifecycle::ProcessRequest process{
        name,
        std::move(target),
        string_field(body, "reason", true, example),
        caller.subject,
        std::nullopt,
        {},
        lifecycle::ProcessRequest::SelfService{caller.user_id, caller.certificate}};
    if (const std::string date = string_field(body, "invalidity_date", false, example);
        !date.empty()) {
      process.invalidity_date = parse_time(date, "invalidity_date");
    }
    process.expected_preview = string_field(body, "preview", false, example);
    return apply_process(process, request, caller);
  }
  throw Error(ErrorCode::kNotFound,
              "there is no such self-service path; see GET /api/v1/self (docs/API.md)");
}

AdminRoutes::Reply AdminRoutes::run_process(std::string_view name, const HttpRequest& request,
                                            const ApiCaller& caller) const {
  require_configured_process(config_, name);
  constexpr std::string_view example = R"({"target": "1001", "reason": "Left the organisation"})";
  const json::object body =
      body_object(request, {"target", "reason", "invalidity_date", "preview"}, example);
  lifecycle::ProcessRequest process{std::string(name),
                                    string_field(body, "target", true, example),
                                    string_field(body, "reason", true, example),
                                    caller.subject,
                                    std::nullopt,
                                    caller.roles};
  if (const std::string date = string_field(body, "invalidity_date", false, example);
      !date.empty()) {
    process.invalidity_date = parse_time(date, "invalidity_date");
  }
  process.expected_preview = string_field(body, "preview", false, example);
  return apply_process(process, request, caller);
}

AdminRoutes::Reply AdminRoutes::run_certificate_process(std::string_view action,
                                                        std::string_view issuer,
                                                        std::string_view serial,
                                                        const HttpRequest& request,
                                                        const ApiCaller& caller) const {
  const std::string_view name = action == "revoke" ? config::kCertsProcRevoke
                                : action == "hold" ? config::kCertsProcHold
                                                   : config::kCertsProcRelease;
  require_configured_process(config_, name);
  constexpr std::string_view example = R"({"reason": "Key compromise"})";
  const json::object body = body_object(request, {"reason", "invalidity_date", "preview"}, example);
  lifecycle::ProcessRequest process{std::string(name),
                                    lifecycle::certificate_target(issuer, serial),
                                    string_field(body, "reason", true, example),
                                    caller.subject,
                                    std::nullopt,
                                    caller.roles};
  if (const std::string date = string_field(body, "invalidity_date", false, example);
      !date.empty()) {
    process.invalidity_date = parse_time(date, "invalidity_date");
  }
  process.expected_preview = string_field(body, "preview", false, example);
  return apply_process(process, request, caller);
}

AdminRoutes::Reply AdminRoutes::apply_process(const lifecycle::ProcessRequest& process,
                                              const HttpRequest& request,
                                              const ApiCaller& caller) const {
  const std::string_view name = process.process;
  lifecycle::LifecycleProcesses processes(store_, config_, clock_);
  const std::string_view target(request.target().data(), request.target().size());
  const std::size_t question = target.find('?');
  if (question != std::string_view::npos &&
      query_value(target.substr(question + 1), "dry_run") == "true") {
    // The same code path in a transaction that is aborted: nothing changes, nothing is audited.
    const auto preview = processes.preview(process);
    return {http::status::ok, preview_json(store_.read(), preview)};
  }
  const auto outcome = processes.run(process);
  spdlog::info(
      "event=api_process process={} target=\"{}\" operator=\"{}\" self_service={} audit={}", name,
      process.target_id, caller.subject, process.self_service.has_value(), outcome.audit.id);
  json::object out = outcome_json(outcome);
  const bool holder = caller.kind == ApiCaller::Kind::kCardHolder;
  if (outcome.kind == lifecycle::ProcessOutcome::Kind::kPendingApproval) {
    // A card holder cannot read approval requests: no link to one.
    return {http::status::accepted, std::move(out),
            holder ? std::string() : fmt::format("/api/v1/approvals/{}", outcome.approval_id)};
  }
  add_crls(store_, config_, clock_, outcome.batch.issuers_changed,
           fmt::format("the process was applied and committed (audit #{})", outcome.audit.id), out);
  if (holder) {
    // Where the server keeps its CRL files is the operators' business.
    for (auto& crl : out["crls"].as_array()) {
      crl.as_object().erase("file");
      crl.as_object().erase("numbered_file");
    }
  }
  return {http::status::ok, std::move(out)};
}

AdminRoutes::Reply AdminRoutes::decide_approval(std::uint64_t id, std::string_view decision,
                                                const HttpRequest& request,
                                                const ApiCaller& caller) const {
  constexpr std::string_view example = R"({"note": "checked with the manager"})";
  const json::object body = body_object(request, {"note"}, example);
  if (!store_.read().approval(id)) {
    throw Error(ErrorCode::kNotFound, fmt::format("approval request {} does not exist", id));
  }
  lifecycle::LifecycleProcesses processes(store_, config_, clock_);
  if (decision == "reject") {
    const AuditRecord audit =
        processes.reject(id, caller.subject, string_field(body, "note", false, example));
    spdlog::info("event=api_reject approval={} operator=\"{}\"", id, caller.subject);
    return {http::status::ok, json::object{{"outcome", "rejected"}, {"audit", audit_json(audit)}}};
  }
  const auto outcome = processes.approve(id, caller.subject);
  spdlog::info("event=api_approve approval={} operator=\"{}\" audit={}", id, caller.subject,
               outcome.audit.id);
  json::object out = outcome_json(outcome);
  add_crls(
      store_, config_, clock_, outcome.batch.issuers_changed,
      fmt::format("the approved process was applied and committed (audit #{})", outcome.audit.id),
      out);
  return {http::status::ok, std::move(out)};
}

AdminRoutes::Reply AdminRoutes::register_certificates(const HttpRequest& request,
                                                      const ApiCaller& caller) const {
  constexpr std::string_view example =
      R"({"certificate": "-----BEGIN CERTIFICATE-----\n...", "credential": "card-1001", )"
      R"("type": "card", "user": "1001", "user_name": "Alice Andersson"})";
  const json::object body =
      body_object(request, {"certificate", "credential", "type", "user", "user_name"}, example);
  importer::CertificateRegistration registration;
  registration.certificates = string_field(body, "certificate", true, example);
  registration.credential_id = string_field(body, "credential", true, example);
  const std::string type = string_field(body, "type", true, example);
  const auto parsed_type = parse_credential_type(type);
  if (!parsed_type) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("'type' is '{}'; credential types are card, temporary_card, "
                            "virtual_smart_card, mobile_id, soft_token",
                            type));
  }
  registration.type = *parsed_type;
  registration.user_id = string_field(body, "user", true, example);
  registration.user_name = string_field(body, "user_name", false, example);
  registration.operator_name = caller.subject;
  const auto summary = importer::register_certificates(store_, config_, registration, clock_);
  spdlog::info("event=api_register credential=\"{}\" user=\"{}\" certificates={} operator=\"{}\"",
               registration.credential_id, registration.user_id, summary.certificates,
               caller.subject);
  const StoreTransaction txn = store_.read();
  json::object out{
      {"certificates", summary.certificates},
      {"user_created", summary.users_created != 0},
      {"credential_created", summary.credentials_created != 0},
      {"audit", summary.audit_id},
      {"held", summary.held},
      {"revoked", summary.revoked},
      {"credential", credential_json(txn, *txn.credential(registration.credential_id))}};
  add_crls(store_, config_, clock_, summary.issuers_changed,
           fmt::format("the registration was committed (audit #{})", summary.audit_id), out);
  return {http::status::created, std::move(out),
          fmt::format("/api/v1/credentials/{}", registration.credential_id)};
}

void AdminRoutes::refuse(const ApiCaller& caller, std::string_view process,
                         std::string_view target_kind, std::string_view target_id,
                         std::string_view missing, std::string message) const {
  AuditRecord record;
  record.kind = AuditKind::kRefused;
  record.time = clock_();
  record.process = std::string(process);
  record.target_kind = std::string(target_kind);
  record.target_id = std::string(target_id);
  record.operator_name = caller.subject;
  record.note = fmt::format("missing {}", missing);
  record.self_service_certificate = caller.certificate;
  {
    WriteTransaction txn = store_.write();
    txn.append_audit(std::move(record));
    txn.commit();
  }
  spdlog::warn("event=api_permission_denied operator=\"{}\" missing=\"{}\" roles=\"{}\"",
               caller.subject, missing, fmt::join(caller.roles, ","));
  throw Error(ErrorCode::kPermissionDenied, std::move(message));
}

void AdminRoutes::require(const ApiCaller& caller, const std::string& permission,
                          std::string_view target_kind, std::string_view target_id) const {
  if (config_.permits(caller.roles, permission)) {
    return;
  }
  const auto colon = permission.find(':');
  const std::string_view process =
      colon != std::string::npos && permission.compare(0, colon, "read") != 0
          ? std::string_view(permission).substr(colon + 1)
          : std::string_view{};
  refuse(caller, process, target_kind, target_id, "permission " + permission,
         fmt::format("operator '{}' may not do this: it needs permission '{}', which none of "
                     "its roles ({}) grants; an administrator grants it with a [[role]] in "
                     "revocore.toml (docs/AUTHORIZATION.md)",
                     caller.subject, permission,
                     caller.roles.empty() ? std::string("none")
                                          : fmt::format("{}", fmt::join(caller.roles, ", "))));
}

void AdminRoutes::require_other_role(const ApiCaller& caller, const ApprovalRequest& approval,
                                     const std::string& permission) const {
  const auto& held = approval.requested_roles;
  for (const auto& role : caller.roles) {
    if (std::find(held.begin(), held.end(), role) == held.end() &&
        config_.permits({role}, permission)) {
      return;
    }
  }
  const std::string missing = "a role granting " + permission + " that the requester did not hold";
  refuse(caller, approval.process, "approval", std::to_string(approval.id), missing,
         fmt::format(
             "operator '{}' may not decide approval request #{}: four eyes from "
             "another role ([authorization] approver_needs_other_role) need {}; the "
             "requester held {}",
             caller.subject, approval.id, missing,
             held.empty() ? std::string("no roles") : fmt::format("{}", fmt::join(held, ", "))));
}

void AdminRoutes::audit_read(std::string_view kind, std::string_view id,
                             const ApiCaller& caller) const {
  if (!config_.admin || !config_.admin->audit_reads) {
    return;
  }
  AuditRecord record;
  record.kind = AuditKind::kRead;
  record.time = clock_();
  record.target_kind = std::string(kind);
  record.target_id = std::string(id);
  record.operator_name = caller.subject;
  WriteTransaction txn = store_.write();
  txn.append_audit(std::move(record));
  txn.commit();
}

AdminRoutes::Reply AdminRoutes::create_job(const HttpRequest& request,
                                           const ApiCaller& caller) const {
  constexpr std::string_view example =
      R"({"process": "UsersProcLock", "reason": "Left the organisation", "targets": ["1001", "1002"]})";
  const json::object body =
      body_object(request, {"process", "reason", "targets", "source"}, example);
  std::string process = string_field(body, "process", false, example);
  if (process.empty()) {
    process = std::string(config::kUsersProcLock);
  }
  require_configured_process(config_, process);
  require(caller, "process:" + process);
  const json::value* targets_value = body.if_contains("targets");
  if (targets_value == nullptr || !targets_value->is_array()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the request body needs 'targets', a list of ids, e.g. {}", example));
  }
  std::vector<std::string> targets;
  targets.reserve(targets_value->as_array().size());
  for (const auto& element : targets_value->as_array()) {
    if (!element.is_string()) {
      throw Error(
          ErrorCode::kInvalidArgument,
          fmt::format("'targets' must hold strings; element {} is not one", targets.size() + 1));
    }
    targets.emplace_back(element.as_string());
    check_identifier(fmt::format("'targets' element {}", targets.size()), targets.back());
  }
  std::string source = string_field(body, "source", false, example);
  if (source.empty()) {
    source = "operator API";
  }
  lifecycle::BatchJobs jobs(store_, config_, clock_);
  const std::uint64_t id = jobs.create(
      process, targets, string_field(body, "reason", true, example), caller.subject, source);
  spdlog::info("event=api_job_created job={} process={} targets={} operator=\"{}\"", id, process,
               targets.size(), caller.subject);
  start_job_(id);
  return {http::status::accepted, job_json(*jobs.job(id)), fmt::format("/api/v1/jobs/{}", id)};
}

AdminRoutes::Reply AdminRoutes::audit_trail(std::string_view query) const {
  const std::string limit_text = query_value(query, "limit");
  const std::uint64_t limit =
      std::min<std::uint64_t>(limit_text.empty() ? 100 : parse_number(limit_text, "limit"), 10000);
  const std::string operator_part = query_value(query, "operator");
  const std::string process = query_value(query, "process");
  const std::string target = query_value(query, "target");
  const std::string user = query_value(query, "user");
  const std::string since_text = query_value(query, "since");
  const std::string until_text = query_value(query, "until");
  const UnixTime since = since_text.empty() ? 0 : parse_time(since_text, "since");
  const UnixTime until =
      until_text.empty() ? std::numeric_limits<UnixTime>::max() : parse_time(until_text, "until");
  const StoreTransaction txn = store_.read();
  // user=ID: the user's own records and those of its credentials and their certificates.
  std::vector<std::string> user_targets;
  if (!user.empty()) {
    check_identifier("user", user);
    user_targets.push_back(user);
    for (const auto& credential : txn.credentials_of_user(user)) {
      user_targets.push_back(credential.id);
      for (const auto& key : txn.certificates_of_credential(credential.id)) {
        user_targets.push_back(
            fmt::format("{}/{}", issuer_name(txn, key.issuer), key.serial.hex()));
      }
    }
  }
  const auto is_user_target = [&](std::string_view id) {
    return std::find(user_targets.begin(), user_targets.end(), id) != user_targets.end();
  };
  // Bounded: at most this many records are looked at, newest first, whatever the filters.
  constexpr std::size_t kMaxScanned = 200'000;
  std::size_t scanned = 0;
  json::array listed;
  txn.for_each_audit_record([&](const AuditRecord& record) {
    if (++scanned > kMaxScanned || record.time < since) {
      return false;  // older records only from here on
    }
    const bool matches =
        record.time <= until &&
        (operator_part.empty() || record.operator_name.find(operator_part) != std::string::npos) &&
        (process.empty() || record.process == process) &&
        (target.empty() || record.target_id == target) &&
        (user.empty() || is_user_target(record.target_id) ||
         std::any_of(record.credential_changes.begin(), record.credential_changes.end(),
                     [&](const CredentialChangeRecord& change) {
                       return is_user_target(change.credential_id);
                     }));
    if (matches) {
      listed.emplace_back(audit_json(record));
    }
    return listed.size() < limit;
  });
  return {http::status::ok, std::move(listed)};
}

AdminRoutes::Reply AdminRoutes::status() const {
  const StoreTransaction txn = store_.read();
  json::array issuers;
  for (const auto& configured : config_.issuers) {
    const auto issuer = txn.issuer_by_name(configured.name);
    json::object out{{"name", configured.name}, {"registered", issuer.has_value()}};
    if (issuer && configured.crl) {
      const std::uint16_t shards = configured.crl->shards;
      out["crl_shards"] = shards;
      json::array crls;
      // At most 256 shards listed; the rest are counted (a partitioned issuer may have 4096).
      for (std::uint16_t shard = 0; shard < shards && shard < 256; ++shard) {
        const CrlState state = txn.crl_state(issuer->id, shard);
        json::object crl{{"shard", shard}, {"number", state.base_number}};
        if (state.base_number != 0) {
          crl["this_update"] = format_time(state.base_this_update);
          crl["next_update"] = format_time(state.next_update);
        }
        if (state.delta_number != 0) {
          crl["delta_number"] = state.delta_number;
          crl["delta_next_update"] = format_time(state.delta_next_update);
        }
        crl["url"] = configured.crl->shard_url(shard);
        crls.emplace_back(std::move(crl));
      }
      out["crls"] = std::move(crls);
    }
    issuers.emplace_back(std::move(out));
  }
  return {http::status::ok,
          json::object{{"issuers", std::move(issuers)},
                       {"certificates", txn.count_certificates()},
                       {"journal", txn.last_journal_sequence()},
                       {"ocsp", ocsp_status_ ? ocsp_status_() : json::value(nullptr)}}};
}

AdminRoutes::Reply AdminRoutes::job(std::uint64_t id) const {
  lifecycle::BatchJobs jobs(store_, config_, clock_);
  const auto record = jobs.job(id);
  if (!record) {
    throw Error(ErrorCode::kNotFound, fmt::format("batch job #{} does not exist", id));
  }
  json::object out = job_json(*record);
  json::array failures;
  for (const auto& failure : jobs.failures(id, 1000)) {
    failures.emplace_back(json::object{{"target", failure.target}, {"reason", failure.reason}});
  }
  out["failures"] = std::move(failures);
  return {http::status::ok, std::move(out)};
}

}  // namespace revocore::api
