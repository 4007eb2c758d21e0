#include "lifecycle/user_roles.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace revocore::lifecycle {

AuditRecord set_user_roles(Store& store, const config::Configuration& config,
                           std::string_view user_id, std::vector<std::string> roles,
                           std::string_view operator_name, UnixTime now) {
  std::vector<std::string> known = {config.default_role};
  for (const auto& role : config.roles) {
    known.push_back(role.name);
  }
  for (const auto& role : roles) {
    if (std::find(known.begin(), known.end(), role) == known.end()) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("role '{}' is not configured; roles are {} ([[role]] in {})", role,
                              fmt::join(known, ", "), config.source));
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  WriteTransaction txn = store.write();
  auto user = txn.user(user_id);
  if (!user) {
    throw Error(ErrorCode::kNotFound, fmt::format("user {} does not exist", user_id));
  }
  AuditRecord audit;
  audit.kind = AuditKind::kRolesChanged;
  audit.time = now;
  audit.target_kind = "user";
  audit.target_id = user->id;
  audit.operator_name = std::string(operator_name);
  audit.roles_before = user->roles;
  audit.roles_after = roles;
  user->roles = std::move(roles);
  txn.put_user(*user);
  audit.id = txn.append_audit(audit);
  txn.commit();
  return audit;
}

}  // namespace revocore::lifecycle
