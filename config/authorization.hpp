#pragma once
// Who may do what (docs/AUTHORIZATION.md): [[role]] tables grant permissions; an operator holds
// the permissions of the roles its user holds in the store (or, where the operator CA is not a
// revocore issuer, the roles [authorization.subject_roles] maps its certificate's subject to).
//
// Permissions, as written in a role's `permissions`:
//   process:<Name>   run that process (user, credential or certificate process); process:*
//   approve:<Name>   approve or reject requests of that process (it has an approval step);
//                    approve:*
//   register         register certificates (POST /api/v1/certificates)
//   jobs             start batch jobs (each also needs process:<its process>)
//   read:users       read users, credentials and certificates
//   read:audit       read the audit trail
//   read:jobs        read batch jobs and approval requests
//   read             the three read permissions
#include <string>
#include <string_view>
#include <vector>

namespace revocore::config {

struct Role {
  std::string name;
  std::vector<std::string> permissions;  // as configured, validated at load
  std::string origin;                    // "file:line", for messages
};

// A certificate subject (RFC 2253, exactly as revocore prints it) or one attribute of it
// ("OU=Help desk", matching any subject with that attribute) and the roles it gives.
struct SubjectRoles {
  std::string subject;
  std::vector<std::string> roles;
};

struct AuthorizationSettings {
  // The command line has no authenticated identity (-o is only a label): approving there is
  // refused unless the administrator allows it here.
  bool local_approvals = false;
  // Four eyes from another role: an approver needs a role granting the approval that the
  // requester did not hold when it filed the request.
  bool approver_needs_other_role = false;
  std::vector<SubjectRoles> subject_roles;  // client_crl mode only
};

// [self_service]: card holders acting on their own user and credentials, authenticated on the
// operator API's listener (under /api/v1/self) by a valid certificate of one of their own
// credentials. Nothing here applies to operators.
struct SelfServiceSettings {
  // The [[issuer]]s whose certificates authenticate card holders (each directly issued by one).
  std::vector<std::string> issuers;
  // The processes a card holder may run on their own user, credentials or certificates.
  std::vector<std::string> processes;
  std::string origin;  // "file:line" of the section, for messages

  bool allows(std::string_view process) const noexcept {
    for (const auto& allowed : processes) {
      if (allowed == process) {
        return true;
      }
    }
    return false;
  }
};

// Whether `permission` (e.g. "process:UsersProcLock") is granted by any of `roles`, a role's
// wildcard ("process:*", "read") included. Roles not configured grant nothing.
bool grants(const std::vector<Role>& configured, const std::vector<std::string>& roles,
            std::string_view permission);

// Whether `permission` is one a role may list; `process_exists` and `has_approval` answer for a
// process name. Returns an empty string when it is, else what is wrong.
std::string check_permission(std::string_view permission, bool process_exists, bool has_approval);

// The roles [authorization.subject_roles] gives the certificate subject `subject` (RFC 2253).
std::vector<std::string> roles_for_subject(const AuthorizationSettings& settings,
                                           std::string_view subject);

}  // namespace revocore::config
