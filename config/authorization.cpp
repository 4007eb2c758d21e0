#include "config/authorization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace revocore::config {

namespace {

constexpr std::array<std::string_view, 6> kPlainPermissions = {
    "register", "jobs", "read", "read:users", "read:audit", "read:jobs"};

bool role_grants(const Role& role, std::string_view permission) {
  for (const auto& granted : role.permissions) {
    if (granted == permission) {
      return true;
    }
    // "process:*" grants every "process:<Name>", "read" every "read:<what>".
    if (granted.size() >= 2 && granted.back() == '*' &&
        permission.substr(0, granted.size() - 1) ==
            std::string_view(granted).substr(0, granted.size() - 1)) {
      return true;
    }
    if (granted == "read" && permission.substr(0, 5) == "read:") {
      return true;
    }
  }
  return false;
}

// The components of an RFC 2253 subject, split at commas that are not escaped.
std::vector<std::string_view> subject_attributes(std::string_view subject) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < subject.size(); ++i) {
    if (subject[i] == '\\') {
      ++i;
    } else if (subject[i] == ',') {
      out.push_back(subject.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(subject.substr(start));
  return out;
}

}  // namespace

bool grants(const std::vector<Role>& configured, const std::vector<std::string>& roles,
            std::string_view permission) {
  for (const auto& name : roles) {
    for (const auto& role : configured) {
      if (role.name == name && role_grants(role, permission)) {
        return true;
      }
    }
  }
  return false;
}

std::string check_permission(std::string_view permission, bool process_exists, bool has_approval) {
  if (std::find(kPlainPermissions.begin(), kPlainPermissions.end(), permission) !=
          kPlainPermissions.end() ||
      permission == "process:*" || permission == "approve:*") {
    return {};
  }
  const auto colon = permission.find(':');
  const std::string_view kind = permission.substr(0, colon);
  if (colon == std::string_view::npos || (kind != "process" && kind != "approve")) {
    return fmt::format(
        "unknown permission '{}'; permissions are process:<Name>, approve:<Name>, process:*, "
        "approve:*, {}",
        permission, fmt::join(kPlainPermissions, ", "));
  }
  const std::string_view process = permission.substr(colon + 1);
  if (!process_exists) {
    return fmt::format("permission '{}' names process '{}', which is not configured", permission,
                       process);
  }
  if (kind == "approve" && !has_approval) {
    return fmt::format(
        "permission '{}' grants approving {}, but that process has no approval step "
        "(approval = false); remove it, or set approval = true in [process.{}]",
        permission, process, process);
  }
  return {};
}

std::vector<std::string> roles_for_subject(const AuthorizationSettings& settings,
                                           std::string_view subject) {
  std::vector<std::string> out;
  const auto attributes = subject_attributes(subject);
  for (const auto& mapping : settings.subject_roles) {
    const bool matches =
        mapping.subject == subject ||
        std::find(attributes.begin(), attributes.end(), mapping.subject) != attributes.end();
    if (matches) {
      out.insert(out.end(), mapping.roles.begin(), mapping.roles.end());
    }
  }
  return out;
}

}  // namespace revocore::config
