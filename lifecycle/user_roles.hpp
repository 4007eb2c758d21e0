#pragma once
// Giving a user its roles (docs/AUTHORIZATION.md): which [[role]] permissions an operator whose
// certificate belongs to that user holds in the operator API. A local administrator's act
// (`revocore user roles`), audited like a process, in one transaction.
#include <string>
#include <string_view>
#include <vector>

#include "config/configuration.hpp"
#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::lifecycle {

// Replaces the user's roles with `roles` and appends an audit record (kRolesChanged, roles
// before and after). Throws kNotFound for an unknown user and kInvalidArgument for a role that
// is neither a configured [[role]] nor the default role (a typo would grant nothing, silently).
AuditRecord set_user_roles(Store& store, const config::Configuration& config,
                           std::string_view user_id, std::vector<std::string> roles,
                           std::string_view operator_name, UnixTime now);

}  // namespace revocore::lifecycle
