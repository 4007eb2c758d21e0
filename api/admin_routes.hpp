#pragma once
// The operator API, /api/v1, as a pure function of an authenticated request (no sockets), so
// every route is unit-tested. JSON in and out (Boost.JSON); errors are RFC 9457 problem details.
//
//   GET  /api/v1/whoami                          the caller's operator identity
//   GET  /api/v1/processes                       processes, their reasons, approval step
//   POST /api/v1/processes/{name}                {"target", "reason", "invalidity_date"?}
//   GET  /api/v1/approvals[?all=true]            pending (or all) approval requests
//   POST /api/v1/approvals/{id}/approve
//   POST /api/v1/approvals/{id}/reject           {"note"?}
//   GET  /api/v1/users/{id}
//   GET  /api/v1/credentials/{id}
//   GET  /api/v1/certificates/{issuer}/{serial}
//   POST /api/v1/certificates                    register certificates after issuance
//   GET  /api/v1/audit[?limit=N]                 newest first
//   GET  /api/v1/jobs, GET /api/v1/jobs/{id}     batch jobs and their progress
//   POST /api/v1/jobs                            {"process"?, "reason", "targets": [...]}
// docs/API.md has the bodies and answers.
#include <cstdint>
#include <functional>
#include <string_view>

#include "api/operator_authentication.hpp"
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

  // Never throws for anything a client sends: errors become problem details.
  HttpResponse handle(const HttpRequest& request, const OperatorIdentity& caller) const;

 private:
  struct Reply;
  static Reply method_not_allowed(const char* allow);
  Reply route(const HttpRequest& request, const OperatorIdentity& caller, std::string_view path,
              std::string_view query) const;
  Reply run_process(std::string_view name, const HttpRequest& request,
                    const OperatorIdentity& caller) const;
  Reply decide_approval(std::uint64_t id, std::string_view decision, const HttpRequest& request,
                        const OperatorIdentity& caller) const;
  Reply register_certificates(const HttpRequest& request, const OperatorIdentity& caller) const;
  Reply create_job(const HttpRequest& request, const OperatorIdentity& caller) const;
  // POST /api/v1/certificates/{issuer}/{serial}/revoke|hold|release: CertsProcRevoke, ...
  Reply run_certificate_process(std::string_view action, std::string_view issuer,
                                std::string_view serial, const HttpRequest& request,
                                const OperatorIdentity& caller) const;
  // Runs (or files for approval) a process and answers with its outcome and CRLs.
  Reply apply_process(const lifecycle::ProcessRequest& process,
                      const OperatorIdentity& caller) const;
  // Audits the refusal (kRefused, note "missing <missing>"), logs it, throws kPermissionDenied
  // with `message`.
  [[noreturn]] void refuse(const OperatorIdentity& caller, std::string_view process,
                           std::string_view target_kind, std::string_view target_id,
                           std::string_view missing, std::string message) const;
  // Throws kPermissionDenied naming `permission` unless the caller's roles grant it, after an
  // audit record of the refusal (kRefused).
  void require(const OperatorIdentity& caller, const std::string& permission,
               std::string_view target_kind = {}, std::string_view target_id = {}) const;
  // [authorization] approver_needs_other_role: refuses (audited, kPermissionDenied) unless one of
  // the caller's roles grants `permission` and was not the requester's.
  void require_other_role(const OperatorIdentity& caller, const ApprovalRequest& approval,
                          const std::string& permission) const;
  // With [admin] audit_reads: an audit record saying who read which user or credential.
  void audit_read(std::string_view kind, std::string_view id, const OperatorIdentity& caller) const;
  Reply job(std::uint64_t id) const;

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
  std::function<void(std::uint64_t)> start_job_;
};

}  // namespace revocore::api
