#pragma once
// The operator API, /api/v1, as a pure function of an authenticated request (no sockets), so
// every route is unit-tested. JSON in and out (Boost.JSON); errors are RFC 9457 problem details.
//
//   GET  /api/v1/whoami                          the caller's operator identity
//   GET  /api/v1/processes                       processes, their reasons, approval step
//   POST /api/v1/processes/{name}[?dry_run=true] {"target", "reason", "invalidity_date"?,
//                                                "preview"?} (dry run: what would change)
//   GET  /api/v1/approvals[?all=true]            pending (or all) approval requests
//   POST /api/v1/approvals/{id}/approve
//   POST /api/v1/approvals/{id}/reject           {"note"?}
//   GET  /api/v1/search?q=...[&limit=N&offset=N]   users, credentials, certificates
//   GET  /api/v1/users/{id}
//   GET  /api/v1/credentials/{id}
//   GET  /api/v1/certificates/{issuer}/{serial}
//   POST /api/v1/certificates                    register certificates after issuance
//   GET  /api/v1/audit[?limit=N&operator=&process=&target=&user=&since=&until=]  newest first
//   GET  /api/v1/jobs, GET /api/v1/jobs/{id}     batch jobs and their progress
//   GET  /api/v1/status                          CRLs per issuer and shard, OCSP counters
//   POST /api/v1/jobs                            {"process"?, "reason", "targets": [...]}
// Self-service, for card holders signed in with a certificate of their own ([self_service]):
//   GET  /api/v1/self                            who they are, their user and credentials
//   POST /api/v1/self/processes/{name}           {"target"?, "reason"} on their own only
// docs/API.md has the bodies and answers.
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "api/client_authentication.hpp"
#include "api/problem_details.hpp"
#include "config/configuration.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::api {

class AdminRoutes {
 public:
  // `start_job` hands a newly created batch job to whatever applies it in the background.
  // Does not take ownership; store and config must outlive the routes.
  AdminRoutes(Store& store, const config::Configuration& config, Clock clock,
              std::function<void(std::uint64_t)> start_job);

  // What GET /api/v1/status reports of the OCSP responder serving beside the API (its counters
  // live in that process, not in the store); unset: no responder, reported as null.
  void set_ocsp_status(std::function<boost::json::value()> ocsp_status) {
    ocsp_status_ = std::move(ocsp_status);
  }

  // Never throws for anything a client sends: errors become problem details.
  HttpResponse handle(const HttpRequest& request, const ApiCaller& caller) const;

  // The checks that need no body: cross-site requests, and what the caller's roles (or, for a
  // card holder, [self_service]) do not permit, refused and audited. The server calls this once
  // a request's header is in, so that a refused caller never gets its body buffered; handle()
  // calls it too. Returns the answer for a refusal, nothing when the request may go on.
  std::optional<HttpResponse> answer_before_body(const HttpRequest& request,
                                                 const ApiCaller& caller) const;

  // Whether a request target is a self-service path (/api/v1/self...), decoded as the routes
  // decode it: such a request is authenticated as a card holder, any other as an operator.
  static bool is_self_service(std::string_view target) noexcept;

 private:
  struct Reply;
  static Reply method_not_allowed(const char* allow);
  Reply route(const HttpRequest& request, const ApiCaller& caller, std::string_view path,
              std::string_view query) const;
  // The permission each route needs (audited refusal, kPermissionDenied), from the method and
  // the path alone.
  void authorize(const HttpRequest& request, const ApiCaller& caller, std::string_view path) const;
  // /api/v1/self...: a card holder's own user, and the self-service processes on it.
  Reply self_service(const HttpRequest& request, const ApiCaller& caller,
                     const std::vector<std::string>& segments) const;
  Reply run_process(std::string_view name, const HttpRequest& request,
                    const ApiCaller& caller) const;
  Reply decide_approval(std::uint64_t id, std::string_view decision, const HttpRequest& request,
                        const ApiCaller& caller) const;
  Reply register_certificates(const HttpRequest& request, const ApiCaller& caller) const;
  Reply create_job(const HttpRequest& request, const ApiCaller& caller) const;
  // POST /api/v1/certificates/{issuer}/{serial}/revoke|hold|release: CertsProcRevoke, ...
  Reply run_certificate_process(std::string_view action, std::string_view issuer,
                                std::string_view serial, const HttpRequest& request,
                                const ApiCaller& caller) const;
  // Runs (or files for approval) a process and answers with its outcome and CRLs.
  // With ?dry_run=true, answers the preview instead (lifecycle::ProcessPreview).
  Reply apply_process(const lifecycle::ProcessRequest& process, const HttpRequest& request,
                      const ApiCaller& caller) const;
  // Audits the refusal (kRefused, note "missing <missing>"), logs it, throws kPermissionDenied
  // with `message`.
  [[noreturn]] void refuse(const ApiCaller& caller, std::string_view process,
                           std::string_view target_kind, std::string_view target_id,
                           std::string_view missing, std::string message) const;
  // Throws kPermissionDenied naming `permission` unless the caller's roles grant it, after an
  // audit record of the refusal (kRefused).
  void require(const ApiCaller& caller, const std::string& permission,
               std::string_view target_kind = {}, std::string_view target_id = {}) const;
  // [authorization] approver_needs_other_role: refuses (audited, kPermissionDenied) unless one of
  // the caller's roles grants `permission` and was not the requester's.
  void require_other_role(const ApiCaller& caller, const ApprovalRequest& approval,
                          const std::string& permission) const;
  // With [admin] audit_reads: an audit record saying who read which user or credential.
  void audit_read(std::string_view kind, std::string_view id, const ApiCaller& caller) const;
  Reply job(std::uint64_t id) const;
  // GET /api/v1/audit: newest first, filtered by operator (part of its subject), process,
  // target, user (its own records and its credentials' and certificates'), since and until.
  Reply audit_trail(std::string_view query) const;

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
  std::function<void(std::uint64_t)> start_job_;
  std::function<boost::json::value()> ocsp_status_;
  // GET /api/v1/status: per issuer its CRLs (number, dates, per shard), the store's size, OCSP.
  Reply status() const;
};

}  // namespace revocore::api
