#include "config/configuration.hpp"

#include <fmt/format.h>
#include <charconv>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "config/default_config.hpp"
#include "revocation/crl_shard.hpp"
#include "revocation/error.hpp"
#include "revocation/key_reference.hpp"
#include "revocation/posix_file.hpp"
#include "revocation/status_transition.hpp"

namespace revocore::config {
namespace {

// A file named in the configuration is relative to the configuration's own directory.
std::filesystem::path resolve_path(const std::filesystem::path& base_directory,
                                   const std::filesystem::path& path) {
  return path.is_absolute() ? path : base_directory / path;
}

// A private key: a file name is resolved like any other, a PKCS#11 URI is kept as written.
std::filesystem::path resolve_key(const std::filesystem::path& base_directory,
                                  const std::string& key) {
  return is_pkcs11_uri(key) ? std::filesystem::path(key) : resolve_path(base_directory, key);
}

// Collects the context every message needs: the file and the line of the offending node.
class Validator {
 public:
  explicit Validator(std::string source) : source_(std::move(source)) {}

  // "file:line" of `node`, for checks made later against the store.
  std::string origin(const toml::node* node) const {
    return node != nullptr && node->source().begin.line > 0
               ? fmt::format("{}:{}", source_, node->source().begin.line)
               : source_;
  }

  [[noreturn]] void fail(const toml::node* node, std::string_view message) const {
    if (node != nullptr && node->source().begin.line > 0) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("{}:{}: {}", source_, node->source().begin.line, message));
    }
    throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", source_, message));
  }

  void only_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                 std::string_view where) const {
    for (const auto& [key, value] : table) {
      bool known = false;
      for (auto name : allowed) {
        known = known || key.str() == name;
      }
      if (!known) {
        fail(&value, fmt::format("unknown key '{}' in {}; allowed keys are {}", key.str(), where,
                                 fmt::join(allowed, ", ")));
      }
    }
  }

  void only_keys_of(const toml::table& table, const std::vector<std::string_view>& allowed,
                    std::string_view where) const {
    for (const auto& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        fail(&value, fmt::format("unknown key '{}' in {}; allowed keys are {}", key.str(), where,
                                 fmt::join(allowed, ", ")));
      }
    }
  }

  const toml::table& table(const toml::table& parent, std::string_view key,
                           std::string_view where) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      fail(&parent, fmt::format("{} needs a [{}] table", where, key));
    }
    if (!node->is_table()) {
      fail(node, fmt::format("'{}' in {} must be a table", key, where));
    }
    return *node->as_table();
  }

  std::string string(const toml::table& parent, std::string_view key, std::string_view where,
                     bool required = true) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      if (required) {
        fail(&parent, fmt::format("{} needs '{}'", where, key));
      }
      return {};
    }
    const auto* value = node->as_string();
    if (value == nullptr || value->get().empty()) {
      fail(node, fmt::format("'{}' in {} must be a non-empty string", key, where));
    }
    return value->get();
  }

  LifecycleState state(const toml::node& node, std::string_view where) const {
    const auto* text = node.as_string();
    const auto state = text ? parse_lifecycle_state(text->get()) : std::nullopt;
    if (!state) {
      fail(&node, fmt::format("{} must be one of active, inactive, locked", where));
    }
    return *state;
  }

  std::vector<LifecycleState> states(const toml::table& parent, std::string_view key,
                                     std::string_view where) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      fail(&parent, fmt::format("{} needs '{}', a list of states", where, key));
    }
    const auto* array = node->as_array();
    if (array == nullptr || array->empty()) {
      fail(node,
           fmt::format("'{}' in {} must be a non-empty list such as [\"active\"]", key, where));
    }
    std::vector<LifecycleState> out;
    for (const auto& element : *array) {
      out.push_back(state(element, fmt::format("each entry of '{}' in {}", key, where)));
    }
    return out;
  }

  ReasonCode reason_code(const toml::node& node, std::string_view where) const {
    const auto* text = node.as_string();
    const auto code = text ? parse_reason_code(text->get()) : std::nullopt;
    if (!code) {
      fail(&node, fmt::format("{} must be an RFC 5280 reason code: unspecified, keyCompromise, "
                              "cACompromise, affiliationChanged, superseded, "
                              "cessationOfOperation, certificateHold, removeFromCRL, "
                              "privilegeWithdrawn or aACompromise",
                              where));
    }
    return *code;
  }

  // A non-negative whole number (hours or days), or `fallback` when absent.
  std::int64_t whole_number(const toml::table& parent, std::string_view key, std::string_view where,
                            std::int64_t fallback) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      return fallback;
    }
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < 0 || value->get() > 100'000) {
      fail(node, fmt::format("'{}' of {} must be a whole number from 0 to 100000", key, where));
    }
    return value->get();
  }

  bool boolean(const toml::table& parent, std::string_view key, std::string_view where) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      return false;
    }
    if (!node->is_boolean()) {
      fail(node, fmt::format("'{}' in {} must be true or false", key, where));
    }
    return node->as_boolean()->get();
  }

 private:
  std::string source_;
};

// A reason that may end a certificate: RFC 5280 5.3.1 keeps certificateHold for holds and
// removeFromCRL for delta CRLs.
bool can_revoke_with(ReasonCode code) noexcept {
  return code != ReasonCode::kCertificateHold && code != ReasonCode::kRemoveFromCrl;
}

CredentialRule parse_rule(const Validator& v, const toml::node& node, std::string_view where) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    v.fail(&node, fmt::format("{} must be a table such as {{ from = [\"active\"], to = "
                              "\"locked\", certificates = \"revoked\" }}",
                              where));
  }
  v.only_keys(*table, {"from", "to", "certificates", "revocation_reason"}, where);
  CredentialRule rule;
  rule.from = v.states(*table, "from", where);
  const toml::node* to = table->get("to");
  if (to == nullptr) {
    v.fail(table, fmt::format("{} needs 'to', the credential end state", where));
  }
  rule.to = v.state(*to, fmt::format("'to' in {}", where));
  for (const auto from : rule.from) {
    if (from != rule.to && !is_legal_transition(from, rule.to)) {
      v.fail(to, fmt::format("{} moves {} credentials to {}, which the credential state machine "
                             "forbids (locked is final)",
                             where, to_string(from), to_string(rule.to)));
    }
  }
  const std::string certificates = v.string(*table, "certificates", where);
  if (certificates == "valid") {
    rule.certificates = CertificateTarget::kValid;
  } else if (certificates == "on_hold") {
    rule.certificates = CertificateTarget::kOnHold;
  } else if (certificates == "revoked") {
    rule.certificates = CertificateTarget::kRevoked;
  } else if (certificates == "unchanged") {
    rule.certificates = CertificateTarget::kUnchanged;
  } else {
    v.fail(table->get("certificates"),
           fmt::format("'certificates' in {} must be valid, on_hold, revoked or unchanged", where));
  }
  if (const toml::node* reason = table->get("revocation_reason")) {
    rule.revocation_reason =
        v.reason_code(*reason, fmt::format("'revocation_reason' in {}", where));
    if (!can_revoke_with(*rule.revocation_reason)) {
      v.fail(reason, fmt::format("'revocation_reason' in {} cannot be {}: it does not end a "
                                 "certificate",
                                 where, to_string(*rule.revocation_reason)));
    }
  }
  return rule;
}

// 'reasons', a non-empty list of { label, code } with unique labels.
std::vector<Reason> parse_reasons(const Validator& v, const toml::table& table,
                                  const std::string& where) {
  std::vector<Reason> out;
  const toml::node* reasons = table.get("reasons");
  const auto* reason_array = reasons ? reasons->as_array() : nullptr;
  if (reason_array == nullptr || reason_array->empty()) {
    v.fail(reasons ? reasons : &table,
           fmt::format("{} needs 'reasons', a non-empty list of {{ label = \"...\", code = "
                       "\"...\" }}",
                       where));
  }
  std::set<std::string> labels;
  for (const auto& element : *reason_array) {
    const auto* reason_table = element.as_table();
    if (reason_table == nullptr) {
      v.fail(&element,
             fmt::format("each reason in {} must be {{ label = \"...\", code = \"...\" }}", where));
    }
    const std::string reason_where = fmt::format("a reason of {}", where);
    v.only_keys(*reason_table, {"label", "code"}, reason_where);
    Reason reason;
    reason.label = v.string(*reason_table, "label", reason_where);
    const toml::node* code = reason_table->get("code");
    if (code == nullptr) {
      v.fail(reason_table, fmt::format("reason '{}' of {} needs 'code'", reason.label, where));
    }
    reason.code = v.reason_code(*code, fmt::format("the code of reason '{}'", reason.label));
    if (!labels.insert(reason.label).second) {
      v.fail(&element, fmt::format("reason '{}' is listed twice in {}", reason.label, where));
    }
    out.push_back(std::move(reason));
  }

  return out;
}

// [process.X] with target = "certificate": no credentials, no user; the statuses it applies to
// and the one it sets, with the same reasons and approval keys as the other processes.
ProcessPolicy parse_certificate_process(const Validator& v, ProcessPolicy p,
                                        const toml::table& table, const std::string& where) {
  v.only_keys(
      table,
      {"title", "target", "required_status", "certificate_end_status", "approval", "reasons"},
      where);
  const toml::node* required = table.get("required_status");
  const auto* required_array = required ? required->as_array() : nullptr;
  if (required_array == nullptr || required_array->empty()) {
    v.fail(required ? required : &table,
           fmt::format("{} needs 'required_status', a non-empty list such as [\"valid\"]", where));
  }
  for (const auto& element : *required_array) {
    const auto* text = element.as_string();
    const auto status = text ? parse_certificate_status(text->get()) : std::nullopt;
    if (!status) {
      v.fail(&element, fmt::format("each entry of 'required_status' in {} must be valid, on_hold "
                                   "or revoked",
                                   where));
    }
    p.required_status.push_back(*status);
  }
  const std::string end = v.string(table, "certificate_end_status", where);
  const auto end_status = parse_certificate_status(end);
  if (!end_status) {
    v.fail(table.get("certificate_end_status"),
           fmt::format("'certificate_end_status' in {} must be valid, on_hold or revoked", where));
  }
  p.certificate_end_status = *end_status;
  for (const CertificateStatus from : p.required_status) {
    if (!is_legal_transition(from, p.certificate_end_status)) {
      v.fail(required, fmt::format("{} cannot move a certificate from {} to {} (RFC 5280: "
                                   "revoked is final)",
                                   where, to_string(from), to_string(p.certificate_end_status)));
    }
  }
  p.approval = v.boolean(table, "approval", where);
  p.reasons = parse_reasons(v, table, where);
  if (p.certificate_end_status == CertificateStatus::kRevoked) {
    for (const auto& reason : p.reasons) {
      if (!can_revoke_with(reason.code)) {
        v.fail(&table, fmt::format("{} revokes, but reason '{}' maps to {}, which cannot end a "
                                   "certificate",
                                   where, reason.label, to_string(reason.code)));
      }
    }
  }
  return p;
}

ProcessPolicy parse_process(const Validator& v, std::string_view name, const toml::node& node) {
  const std::string where = fmt::format("[process.{}]", name);
  const auto* table = node.as_table();
  if (table == nullptr) {
    v.fail(&node, fmt::format("{} must be a table", where));
  }
  ProcessPolicy p;
  p.name = std::string(name);
  p.title = v.string(*table, "title", where);

  const std::string target = v.string(*table, "target", where);
  if (target == "user") {
    p.target = ProcessTarget::kUser;
  } else if (target == "credential") {
    p.target = ProcessTarget::kCredential;
  } else if (target == "certificate") {
    p.target = ProcessTarget::kCertificate;
    return parse_certificate_process(v, std::move(p), *table, where);
  } else {
    v.fail(table->get("target"),
           fmt::format("'target' in {} must be user, credential or certificate", where));
  }
  v.only_keys(*table,
              {"title", "target", "required_state", "user_end_state", "roles", "relations",
               "approval", "reasons", "credentials"},
              where);
  p.required_state = v.states(*table, "required_state", where);

  if (const toml::node* end = table->get("user_end_state")) {
    if (p.target != ProcessTarget::kUser) {
      v.fail(end, fmt::format("{} targets a credential and leaves the user unchanged; remove "
                              "'user_end_state'",
                              where));
    }
    p.user_end_state = v.state(*end, fmt::format("'user_end_state' in {}", where));
  } else if (p.target == ProcessTarget::kUser) {
    v.fail(table, fmt::format("{} targets a user and needs 'user_end_state'", where));
  }

  const std::string roles = v.string(*table, "roles", where, /*required=*/false);
  if (roles.empty() || roles == "keep") {
    p.roles = RolesEffect::kKeep;
  } else if (roles == "withdraw_all") {
    p.roles = RolesEffect::kWithdrawAll;
  } else if (roles == "default_only") {
    p.roles = RolesEffect::kDefaultOnly;
  } else {
    v.fail(table->get("roles"),
           fmt::format("'roles' in {} must be keep, withdraw_all or default_only", where));
  }
  if (p.target == ProcessTarget::kCredential && p.roles != RolesEffect::kKeep) {
    v.fail(table->get("roles"),
           fmt::format("{} targets a credential; it cannot change the user's roles", where));
  }

  const std::string relations = v.string(*table, "relations", where, /*required=*/false);
  if (relations.empty() || relations == "keep") {
    p.relations = RelationsEffect::kKeep;
  } else if (relations == "deactivate") {
    p.relations = RelationsEffect::kDeactivate;
  } else if (relations == "activate") {
    p.relations = RelationsEffect::kActivate;
  } else {
    v.fail(table->get("relations"),
           fmt::format("'relations' in {} must be keep, deactivate or activate", where));
  }
  p.approval = v.boolean(*table, "approval", where);

  p.reasons = parse_reasons(v, *table, where);

  const toml::table& credentials = v.table(*table, "credentials", where);
  if (credentials.empty()) {
    v.fail(&credentials,
           fmt::format("{}.credentials needs a rule for at least one credential type", where));
  }
  for (const auto& [type_name, rule_node] : credentials) {
    const auto type = parse_credential_type(type_name.str());
    if (!type) {
      v.fail(&rule_node, fmt::format("unknown credential type '{}' in {}.credentials; types are "
                                     "card, temporary_card, virtual_smart_card, mobile_id, "
                                     "soft_token",
                                     type_name.str(), where));
    }
    const std::string rule_where = fmt::format("{}.credentials.{}", where, type_name.str());
    CredentialRule rule = parse_rule(v, rule_node, rule_where);
    if (rule.certificates == CertificateTarget::kRevoked && !rule.revocation_reason) {
      for (const auto& reason : p.reasons) {
        if (!can_revoke_with(reason.code)) {
          v.fail(&rule_node,
                 fmt::format("{} revokes certificates, but reason '{}' maps to {}, which cannot "
                             "end a certificate; give the rule a revocation_reason",
                             rule_where, reason.label, to_string(reason.code)));
        }
      }
    }
    p.rules[static_cast<std::size_t>(*type)] = std::move(rule);
  }
  return p;
}

// 'listen = "ADDRESS:PORT"' of a section, when present.
void parse_listen(const Validator& v, const toml::table& table, std::string_view section,
                  std::string& address, unsigned short& port) {
  const std::string listen = v.string(table, "listen", section, false);
  if (listen.empty()) {
    return;
  }
  const auto split = split_listen(listen);
  if (!split) {
    v.fail(table.get("listen"),
           fmt::format("'listen' in {} must be ADDRESS:PORT, e.g. 127.0.0.1:8443", section));
  }
  address = split->address;
  port = split->port;
}

AdminSettings parse_admin(const Validator& v, const toml::table* admin,
                          const std::filesystem::path& base_directory) {
  v.only_keys(*admin,
              {"listen", "certificate", "private_key", "client_ca", "client_crl", "max_body_bytes",
               "job_chunk", "audit_reads"},
              "[admin]");
  const auto resolve = [&](const std::filesystem::path& path) {
    return resolve_path(base_directory, path);
  };
  AdminSettings s;
  parse_listen(v, *admin, "[admin]", s.listen_address, s.port);
  // No password and no default certificate: the API is only as open as its operator CA.
  s.certificate = resolve(v.string(*admin, "certificate", "[admin]"));
  s.private_key = resolve(v.string(*admin, "private_key", "[admin]"));
  s.client_ca = resolve(v.string(*admin, "client_ca", "[admin]"));
  const std::string crl = v.string(*admin, "client_crl", "[admin]", false);
  if (!crl.empty()) {
    s.client_crl = resolve(crl);
  }
  s.max_body_bytes = static_cast<std::size_t>(v.whole_number(
      *admin, "max_body_bytes", "[admin]", static_cast<std::int64_t>(s.max_body_bytes)));
  s.job_chunk = static_cast<std::size_t>(
      v.whole_number(*admin, "job_chunk", "[admin]", static_cast<std::int64_t>(s.job_chunk)));
  if (s.max_body_bytes == 0 || s.job_chunk == 0) {
    v.fail(admin, "max_body_bytes and job_chunk in [admin] must be at least 1");
  }
  s.audit_reads = v.boolean(*admin, "audit_reads", "[admin]");
  return s;
}

}  // namespace

namespace {

std::vector<std::string> string_list(const Validator& v, const toml::node* node,
                                     std::string_view where) {
  const toml::array* list = node != nullptr ? node->as_array() : nullptr;
  if (list == nullptr) {
    v.fail(node, fmt::format("{} must be a list of strings", where));
  }
  std::vector<std::string> out;
  for (const auto& element : *list) {
    const auto* text = element.as_string();
    if (text == nullptr || text->get().empty()) {
      v.fail(&element, fmt::format("each entry of {} must be a non-empty string", where));
    }
    out.push_back(text->get());
  }
  return out;
}

std::vector<Role> parse_roles(const Validator& v, const toml::node& node,
                              const std::map<std::string, ProcessPolicy, std::less<>>& processes) {
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    v.fail(&node, "'role' must be an array of tables: [[role]] with name and permissions");
  }
  std::vector<Role> out;
  for (const auto& element : *list) {
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      v.fail(&element, "each [[role]] must be a table with name and permissions");
    }
    v.only_keys(*table, {"name", "permissions"}, "[[role]]");
    Role role;
    role.name = v.string(*table, "name", "[[role]]");
    role.origin = v.origin(table);
    const std::string where = fmt::format("'permissions' of role '{}'", role.name);
    if (!table->contains("permissions")) {
      v.fail(table, fmt::format("role '{}' needs 'permissions' (a list; docs/AUTHORIZATION.md)",
                                role.name));
    }
    role.permissions = string_list(v, table->get("permissions"), where);
    for (std::size_t i = 0; i < role.permissions.size(); ++i) {
      const std::string& permission = role.permissions[i];
      const auto colon = permission.find(':');
      const std::string process = colon == std::string::npos ? "" : permission.substr(colon + 1);
      const auto found = processes.find(process);
      const std::string problem = check_permission(
          permission, found != processes.end(), found != processes.end() && found->second.approval);
      if (!problem.empty()) {
        v.fail(table->get("permissions")->as_array()->get(i),
               fmt::format("role '{}': {}", role.name, problem));
      }
    }
    for (const auto& earlier : out) {
      if (earlier.name == role.name) {
        v.fail(table, fmt::format("role '{}' is configured twice (first at {})", role.name,
                                  earlier.origin));
      }
    }
    out.push_back(std::move(role));
  }
  return out;
}

AuthorizationSettings parse_authorization(const Validator& v, const toml::table& table,
                                          const std::vector<Role>& roles) {
  v.only_keys(table, {"local_approvals", "approver_needs_other_role", "subject_roles"},
              "[authorization]");
  AuthorizationSettings s;
  s.local_approvals = v.boolean(table, "local_approvals", "[authorization]");
  s.approver_needs_other_role = v.boolean(table, "approver_needs_other_role", "[authorization]");
  if (const toml::node* node = table.get("subject_roles")) {
    const toml::table* mapping = node->as_table();
    if (mapping == nullptr) {
      v.fail(node,
             "'subject_roles' in [authorization] must be a table: \"<subject or "
             "attribute>\" = [\"<role>\", ...]");
    }
    for (const auto& [subject, value] : *mapping) {
      SubjectRoles entry;
      entry.subject = std::string(subject.str());
      entry.roles = string_list(v, &value, fmt::format("subject_roles.\"{}\"", entry.subject));
      for (const auto& name : entry.roles) {
        if (std::none_of(roles.begin(), roles.end(),
                         [&](const Role& role) { return role.name == name; })) {
          v.fail(&value, fmt::format("subject_roles.\"{}\" gives role '{}', which no [[role]] "
                                     "defines",
                                     entry.subject, name));
        }
      }
      s.subject_roles.push_back(std::move(entry));
    }
  }
  return s;
}

SelfServiceSettings parse_self_service(const Validator& v, const toml::table& table,
                                       const Configuration& config) {
  v.only_keys(table, {"issuers", "processes"}, "[self_service]");
  SelfServiceSettings s;
  s.origin = v.origin(&table);
  if (!config.admin) {
    v.fail(&table,
           "[self_service] is served on the operator API's listener: configure [admin] too, or "
           "remove [self_service]");
  }
  if (!table.contains("issuers")) {
    v.fail(&table,
           "[self_service] needs 'issuers': the [[issuer]] names whose certificates card "
           "holders authenticate with, e.g. issuers = [\"demo-issuing-ca\"]");
  }
  s.issuers = string_list(v, table.get("issuers"), "'issuers' in [self_service]");
  if (s.issuers.empty()) {
    v.fail(table.get("issuers"), "'issuers' in [self_service] names no [[issuer]]");
  }
  for (std::size_t i = 0; i < s.issuers.size(); ++i) {
    if (config.find_issuer(s.issuers[i]) == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& issuer : config.issuers) {
        names.push_back(issuer.name);
      }
      v.fail(table.get("issuers")->as_array()->get(i),
             fmt::format("[self_service] names issuer '{}', which no [[issuer]] configures; "
                         "issuers: {}",
                         s.issuers[i],
                         names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    }
  }
  if (table.contains("processes")) {
    s.processes = string_list(v, table.get("processes"), "'processes' in [self_service]");
  }
  for (std::size_t i = 0; i < s.processes.size(); ++i) {
    if (!config.processes.contains(s.processes[i])) {
      v.fail(table.get("processes")->as_array()->get(i),
             fmt::format("[self_service] offers process '{}', which is not configured",
                         s.processes[i]));
    }
  }
  return s;
}

}  // namespace

bool CredentialRule::applies_to(LifecycleState state) const noexcept {
  return std::find(from.begin(), from.end(), state) != from.end();
}

const Reason* ProcessPolicy::find_reason(std::string_view label) const noexcept {
  for (const auto& reason : reasons) {
    if (reason.label == label) {
      return &reason;
    }
  }
  return nullptr;
}

const CredentialRule* ProcessPolicy::rule_for(CredentialType type) const noexcept {
  const auto& rule = rules[static_cast<std::size_t>(type)];
  return rule ? &*rule : nullptr;
}

std::string_view to_string(ProcessTarget target) noexcept {
  switch (target) {
    case ProcessTarget::kUser:
      return "user";
    case ProcessTarget::kCredential:
      return "credential";
    case ProcessTarget::kCertificate:
      return "certificate";
  }
  return "invalid";
}

bool ProcessPolicy::requires_state(LifecycleState state) const noexcept {
  return std::find(required_state.begin(), required_state.end(), state) != required_state.end();
}

const ProcessPolicy& Configuration::process(std::string_view name) const {
  const auto it = processes.find(name);
  if (it == processes.end()) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: process {} is not configured; add a [process.{}] table", source,
                            name, name));
  }
  return it->second;
}

const IssuerConfig* Configuration::find_issuer(std::string_view name) const noexcept {
  for (const auto& issuer : issuers) {
    if (issuer.name == name) {
      return &issuer;
    }
  }
  return nullptr;
}

std::optional<ListenAddress> split_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  const std::string_view digits = text.substr(colon + 1);
  unsigned number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      number > 65535) {
    return std::nullopt;
  }
  return ListenAddress{std::string(text.substr(0, colon)), static_cast<unsigned short>(number)};
}

namespace {

// An optional section: null when absent, refused when it is not a table.
const toml::table* optional_section(const Validator& v, const toml::table& root,
                                    std::string_view key, std::string_view name) {
  const toml::node* node = root.get(key);
  if (node == nullptr) {
    return nullptr;
  }
  const auto* table = node->as_table();
  if (table == nullptr) {
    v.fail(node, fmt::format("{} must be a table", name));
  }
  return table;
}

std::size_t parse_store(const Validator& v, const toml::table& store) {
  v.only_keys(store, {"map_size_mib"}, "[store]");
  const toml::node* map_size = store.get("map_size_mib");
  const auto* map_size_value = map_size ? map_size->as_integer() : nullptr;
  if (map_size_value == nullptr || map_size_value->get() < 1 ||
      map_size_value->get() > (std::int64_t{1} << 30)) {
    v.fail(map_size ? map_size : &store,
           "[store] needs map_size_mib, a whole number of MiB such as "
           "4096");
  }
  return static_cast<std::size_t>(map_size_value->get()) << 20;
}

std::int64_t parse_approval_expiry_seconds(const Validator& v, const toml::table& table) {
  v.only_keys(table, {"expire_hours"}, "[approvals]");
  const std::int64_t hours = v.whole_number(table, "expire_hours", "[approvals]", 168);
  if (hours < 1 || hours > 24 * 366) {
    v.fail(table.get("expire_hours"), "'expire_hours' in [approvals] must be 1 to 8784");
  }
  return hours * 3600;
}

// True for not_active = "refuse", false for "follow" (the default).
bool parse_registration_refuses(const Validator& v, const toml::table& table) {
  v.only_keys(table, {"not_active"}, "[registration]");
  const std::string not_active = v.string(table, "not_active", "[registration]", false);
  if (not_active.empty() || not_active == "follow") {
    return false;
  }
  if (not_active != "refuse") {
    v.fail(table.get("not_active"), "'not_active' in [registration] must be follow or refuse");
  }
  return true;
}

// The CRL part of an [[issuer]] with a private_key.
CrlSettings parse_issuer_crl(const Validator& v, const toml::table& table,
                             const std::string& issuer_name, const std::string& where,
                             const std::filesystem::path& base_directory,
                             const std::string& private_key) {
  CrlSettings crl;
  crl.private_key = resolve_key(base_directory, private_key);
  const std::string publish = v.string(table, "publish_directory", where, false);
  crl.publish_directory = resolve_path(base_directory, publish.empty() ? "crl" : publish);
  crl.validity_seconds = v.whole_number(table, "crl_validity_hours", where, 24) * 3600;
  crl.overlap_seconds = v.whole_number(table, "crl_overlap_hours", where, 6) * 3600;
  if (crl.overlap_seconds >= crl.validity_seconds) {
    v.fail(table.get("crl_overlap_hours"),
           fmt::format("crl_overlap_hours of {} must be shorter than its "
                       "crl_validity_hours",
                       where));
  }
  crl.distribution_point = v.string(table, "distribution_point", where, false);
  crl.delta_crls = v.boolean(table, "delta_crls", where);
  crl.delta_distribution_point = v.string(table, "delta_distribution_point", where, false);
  if (crl.delta_crls && crl.delta_distribution_point.empty()) {
    v.fail(&table, fmt::format("{} has delta_crls = true and needs delta_distribution_point, "
                               "the URL full CRLs name in freshestCRL",
                               where));
  }
  crl.delta_validity_seconds = v.whole_number(table, "delta_validity_hours", where, 1) * 3600;
  crl.pem = v.boolean(table, "crl_pem", where);
  crl.keep_expired = v.boolean(table, "keep_expired", where);
  crl.expired_grace_seconds = v.whole_number(table, "expired_grace_days", where, 0) * 86400;

  const toml::node* shards = table.get("crl_shards");
  crl.shards_origin = v.origin(shards != nullptr ? shards : &table);
  const std::int64_t shard_count = v.whole_number(table, "crl_shards", where, 1);
  if (shard_count < 1 || shard_count > kMaxCrlShards) {
    v.fail(shards, fmt::format("crl_shards of {} must be 1 to {} (1: one CRL, as without shards)",
                               where, kMaxCrlShards));
  }
  crl.shards = static_cast<std::uint16_t>(shard_count);
  constexpr std::string_view kShard = "{shard}";
  if (crl.shards > 1) {
    // Each shard's issuingDistributionPoint names its own URL (RFC 5280 5.2.5), and each
    // certificate's CRL distribution point must be its shard's: one URL per shard.
    if (crl.distribution_point.find(kShard) == std::string::npos) {
      v.fail(table.contains("distribution_point") ? table.get("distribution_point") : shards,
             fmt::format("{} has crl_shards = {} and needs distribution_point with {{shard}} in "
                         "it, such as \"http://crl.example.com/crl/{}/{{shard}}.crl\"",
                         where, crl.shards, issuer_name));
    }
    if (crl.delta_crls && crl.delta_distribution_point.find(kShard) == std::string::npos) {
      v.fail(table.get("delta_distribution_point"),
             fmt::format("{} has crl_shards = {} and delta CRLs: delta_distribution_point needs "
                         "{{shard}} in it, such as "
                         "\"http://crl.example.com/crl/{}/{{shard}}-delta.crl\"",
                         where, crl.shards, issuer_name));
    }
  }
  crl.full_crl_interval_seconds = v.whole_number(table, "full_crl_interval_hours", where, 0) * 3600;
  crl.full_crl_on_change = v.boolean(table, "full_crl_on_change", where);
  if ((crl.full_crl_interval_seconds != 0 || crl.full_crl_on_change) && !crl.delta_crls) {
    v.fail(table.contains("full_crl_on_change") ? table.get("full_crl_on_change")
                                                : table.get("full_crl_interval_hours"),
           fmt::format("{}: full_crl_interval_hours and full_crl_on_change choose when full CRLs "
                       "are made between delta CRLs; set delta_crls = true or remove them (without "
                       "deltas every change makes a full CRL)",
                       where));
  }
  return crl;
}

IssuerConfig parse_issuer(const Validator& v, const toml::node& element,
                          const std::filesystem::path& base_directory) {
  const auto* table = element.as_table();
  if (table == nullptr) {
    v.fail(&element, "issuers are written as [[issuer]] tables");
  }
  v.only_keys(*table,
              {"name",
               "certificate",
               "private_key",
               "publish_directory",
               "crl_validity_hours",
               "crl_overlap_hours",
               "distribution_point",
               "delta_crls",
               "delta_distribution_point",
               "delta_validity_hours",
               "crl_pem",
               "keep_expired",
               "expired_grace_days",
               "crl_shards",
               "full_crl_interval_hours",
               "full_crl_on_change",
               "ocsp_expired",
               "ocsp_archive_cutoff_days",
               "ocsp_certificate",
               "ocsp_private_key",
               "pkcs11_module"},
              "[[issuer]]");
  IssuerConfig issuer;
  issuer.name = v.string(*table, "name", "[[issuer]]");
  issuer.certificate = resolve_path(base_directory, v.string(*table, "certificate", "[[issuer]]"));
  const std::string where = fmt::format("issuer '{}'", issuer.name);
  const std::string key = v.string(*table, "private_key", where, /*required=*/false);
  if (!key.empty()) {
    issuer.crl = parse_issuer_crl(v, *table, issuer.name, where, base_directory, key);
  } else {
    for (const char* crl_key :
         {"publish_directory", "distribution_point", "delta_crls", "crl_shards"}) {
      if (table->contains(crl_key)) {
        v.fail(table->get(crl_key),
               fmt::format("{} sets '{}' but has no private_key, so revocore makes no CRL "
                           "for it; add private_key",
                           where, crl_key));
      }
    }
  }
  const std::string ocsp_certificate = v.string(*table, "ocsp_certificate", where, false);
  const std::string ocsp_key = v.string(*table, "ocsp_private_key", where, false);
  if (ocsp_certificate.empty() != ocsp_key.empty()) {
    v.fail(table, fmt::format("{} needs both ocsp_certificate and ocsp_private_key for a "
                              "delegated OCSP responder, or neither",
                              where));
  }
  if (!ocsp_certificate.empty()) {
    issuer.ocsp_certificate = resolve_path(base_directory, ocsp_certificate);
    issuer.ocsp_private_key = resolve_key(base_directory, ocsp_key);
  }
  if (const std::string expired = v.string(*table, "ocsp_expired", where, false);
      !expired.empty()) {
    if (expired == "unknown") {
      issuer.expired_ocsp = ExpiredOcsp::kUnknown;
    } else if (expired != "last_status") {
      v.fail(table->get("ocsp_expired"),
             fmt::format("ocsp_expired of {} must be \"last_status\" or \"unknown\"", where));
    }
  }
  issuer.ocsp_archive_retention_seconds =
      v.whole_number(*table, "ocsp_archive_cutoff_days", where, 0) * 86400;
  if (issuer.ocsp_archive_retention_seconds != 0 && issuer.expired_ocsp == ExpiredOcsp::kUnknown) {
    v.fail(table->get("ocsp_archive_cutoff_days"),
           fmt::format("{} answers unknown for expired certificates (ocsp_expired = \"unknown\"), "
                       "so it keeps no status to give an archive cutoff for; remove "
                       "ocsp_archive_cutoff_days or set ocsp_expired = \"last_status\"",
                       where));
  }
  if (const std::string module = v.string(*table, "pkcs11_module", where, false); !module.empty()) {
    // A module with no token key to use it is a typo or a key forgotten in a file.
    if (!(issuer.crl && is_pkcs11_uri(issuer.crl->private_key.native())) &&
        !is_pkcs11_uri(issuer.ocsp_private_key.native())) {
      v.fail(table->get("pkcs11_module"),
             fmt::format("{} sets pkcs11_module but neither private_key nor ocsp_private_key is "
                         "a PKCS#11 URI (pkcs11:token=...;object=...); see docs/HSM.md",
                         where));
    }
    issuer.pkcs11_module = resolve_path(base_directory, module);
  }
  return issuer;
}

std::vector<IssuerConfig> parse_issuers(const Validator& v, const toml::node& issuers,
                                        const std::filesystem::path& base_directory) {
  const auto* array = issuers.as_array();
  if (array == nullptr) {
    v.fail(&issuers, "issuers are written as [[issuer]] tables");
  }
  std::vector<IssuerConfig> out;
  for (const auto& element : *array) {
    IssuerConfig issuer = parse_issuer(v, element, base_directory);
    for (const auto& earlier : out) {
      if (earlier.name == issuer.name) {
        v.fail(&element, fmt::format("issuer '{}' is configured twice", issuer.name));
      }
    }
    out.push_back(std::move(issuer));
  }
  return out;
}

OcspSettings parse_ocsp(const Validator& v, const toml::table& ocsp) {
  v.only_keys(ocsp,
              {"listen", "threads", "response_validity_minutes", "refresh_before_minutes",
               "max_request_bytes", "max_cert_ids", "header_timeout_seconds", "max_connections",
               "drain_seconds", "crl_max_age_minutes"},
              "[ocsp]");
  OcspSettings s;
  parse_listen(v, ocsp, "[ocsp]", s.listen_address, s.port);
  s.threads = static_cast<unsigned>(v.whole_number(ocsp, "threads", "[ocsp]", s.threads));
  if (s.threads == 0) {
    v.fail(ocsp.get("threads"), "'threads' in [ocsp] must be at least 1");
  }
  s.response_validity_seconds = 60 * v.whole_number(ocsp, "response_validity_minutes", "[ocsp]",
                                                    s.response_validity_seconds / 60);
  s.refresh_before_seconds =
      60 * v.whole_number(ocsp, "refresh_before_minutes", "[ocsp]", s.refresh_before_seconds / 60);
  if (s.refresh_before_seconds >= s.response_validity_seconds) {
    v.fail(&ocsp, "refresh_before_minutes in [ocsp] must be less than response_validity_minutes");
  }
  s.max_request_bytes = static_cast<std::size_t>(v.whole_number(
      ocsp, "max_request_bytes", "[ocsp]", static_cast<std::int64_t>(s.max_request_bytes)));
  s.max_cert_ids = static_cast<std::size_t>(
      v.whole_number(ocsp, "max_cert_ids", "[ocsp]", static_cast<std::int64_t>(s.max_cert_ids)));
  s.header_timeout_seconds =
      v.whole_number(ocsp, "header_timeout_seconds", "[ocsp]", s.header_timeout_seconds);
  s.drain_seconds = v.whole_number(ocsp, "drain_seconds", "[ocsp]", s.drain_seconds);
  s.max_connections = static_cast<std::size_t>(v.whole_number(
      ocsp, "max_connections", "[ocsp]", static_cast<std::int64_t>(s.max_connections)));
  if (s.header_timeout_seconds == 0 || s.max_connections == 0) {
    v.fail(&ocsp, "header_timeout_seconds and max_connections in [ocsp] must be at least 1");
  }
  s.crl_max_age_seconds =
      60 * v.whole_number(ocsp, "crl_max_age_minutes", "[ocsp]", s.crl_max_age_seconds / 60);
  if (s.crl_max_age_seconds > 24 * 3600) {
    v.fail(ocsp.get("crl_max_age_minutes"),
           "crl_max_age_minutes in [ocsp] must be at most 1440 (a day): it is how long a CDN may "
           "go on serving a CRL after a newer one is published");
  }
  return s;
}

// A NATS token: what a subject prefix or stream name may be (no dots, wildcards or spaces).
bool is_nats_token(std::string_view text) noexcept {
  if (text.empty() || text.size() > 64) {
    return false;
  }
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// The keys [replication] and [replica] share: where the NATS servers are and how to log in.
const std::vector<std::string_view> kNatsKeys = {
    "servers", "stream",           "subject", "tls_ca",       "tls_certificate",
    "tls_key", "credentials_file", "user",    "password_file"};

NatsSettings parse_nats(const Validator& v, const toml::table& table, std::string_view section,
                        const std::filesystem::path& base_directory) {
  NatsSettings s;
  s.origin = v.origin(&table);
  const toml::node* servers = table.get("servers");
  const auto* list = servers ? servers->as_array() : nullptr;
  if (list == nullptr || list->empty()) {
    v.fail(servers ? servers : &table,
           fmt::format("{} needs 'servers', a list of NATS URLs such as "
                       "[\"tls://nats-1.example:4222\"]",
                       section));
  }
  for (const auto& element : *list) {
    const auto* url = element.as_string();
    if (url == nullptr ||
        !(url->get().starts_with("nats://") || url->get().starts_with("tls://"))) {
      v.fail(&element,
             fmt::format("each of 'servers' in {} must be a nats:// or tls:// URL", section));
    }
    s.servers.push_back(url->get());
  }
  if (table.contains("stream")) {
    s.stream = v.string(table, "stream", section);
  }
  if (table.contains("subject")) {
    s.subject = v.string(table, "subject", section);
  }
  if (!is_nats_token(s.stream) || !is_nats_token(s.subject)) {
    v.fail(&table, fmt::format("'stream' and 'subject' in {} must be 1 to 64 letters, digits, "
                               "'-' or '_' (NATS tokens)",
                               section));
  }
  const auto path = [&](std::string_view key) {
    const std::string text = v.string(table, key, section, false);
    return text.empty() ? std::filesystem::path() : resolve_path(base_directory, text);
  };
  s.tls_ca = path("tls_ca");
  s.tls_certificate = path("tls_certificate");
  s.tls_key = path("tls_key");
  if (s.tls_certificate.empty() != s.tls_key.empty()) {
    v.fail(&table, fmt::format("{} needs both tls_certificate and tls_key, or neither", section));
  }
  s.credentials_file = path("credentials_file");
  s.user = v.string(table, "user", section, false);
  s.password_file = path("password_file");
  if (s.user.empty() != s.password_file.empty()) {
    v.fail(&table, fmt::format("{} needs both user and password_file, or neither", section));
  }
  if (!s.credentials_file.empty() && !s.user.empty()) {
    v.fail(&table,
           fmt::format("{} takes credentials_file or user + password_file, not both", section));
  }
  return s;
}

ReplicationSettings parse_replication(const Validator& v, const toml::table& table,
                                      const std::filesystem::path& base_directory) {
  std::vector<std::string_view> keys(kNatsKeys);
  keys.insert(keys.end(), {"signing_key", "stream_replicas", "heartbeat_milliseconds",
                           "snapshot_after_changes"});
  v.only_keys_of(table, keys, "[replication]");
  ReplicationSettings s;
  s.nats = parse_nats(v, table, "[replication]", base_directory);
  s.signing_key = resolve_path(base_directory, v.string(table, "signing_key", "[replication]"));
  s.stream_replicas =
      static_cast<int>(v.whole_number(table, "stream_replicas", "[replication]", 3));
  if (s.stream_replicas < 1 || s.stream_replicas > 5) {
    v.fail(table.get("stream_replicas"),
           "'stream_replicas' in [replication] must be 1 to 5 (JetStream's limit; 3 survives "
           "the loss of one server)");
  }
  s.heartbeat_milliseconds =
      v.whole_number(table, "heartbeat_milliseconds", "[replication]", s.heartbeat_milliseconds);
  if (s.heartbeat_milliseconds < 100) {
    v.fail(table.get("heartbeat_milliseconds"),
           "'heartbeat_milliseconds' in [replication] must be at least 100");
  }
  if (const toml::node* node = table.get("snapshot_after_changes")) {
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < 0) {
      v.fail(node, "'snapshot_after_changes' in [replication] must be a whole number (0: never)");
    }
    s.snapshot_after_changes = static_cast<std::uint64_t>(value->get());
  }
  return s;
}

ReplicaSettings parse_replica(const Validator& v, const toml::table& table,
                              const std::filesystem::path& base_directory) {
  std::vector<std::string_view> keys(kNatsKeys);
  keys.insert(keys.end(), {"verify_key", "max_staleness_seconds", "crl_directory"});
  v.only_keys_of(table, keys, "[replica]");
  ReplicaSettings s;
  s.nats = parse_nats(v, table, "[replica]", base_directory);
  s.verify_key = resolve_path(base_directory, v.string(table, "verify_key", "[replica]"));
  s.max_staleness_seconds =
      v.whole_number(table, "max_staleness_seconds", "[replica]", s.max_staleness_seconds);
  if (s.max_staleness_seconds < 1) {
    v.fail(table.get("max_staleness_seconds"),
           "'max_staleness_seconds' in [replica] must be at least 1");
  }
  const std::string crl_directory = v.string(table, "crl_directory", "[replica]", false);
  if (!crl_directory.empty()) {
    s.crl_directory = resolve_path(base_directory, crl_directory);
  }
  return s;
}

std::map<std::string, ProcessPolicy, std::less<>> parse_processes(const Validator& v,
                                                                  const toml::table& processes) {
  std::map<std::string, ProcessPolicy, std::less<>> out;
  for (const auto& [name, node] : processes) {
    out.emplace(std::string(name.str()), parse_process(v, name.str(), node));
  }
  for (const auto required : kRequiredProcesses) {
    if (!out.contains(required)) {
      v.fail(&processes, fmt::format("process {} is not configured; add a [process.{}] table "
                                     "(`revocore config default` prints the default one)",
                                     required, required));
    }
  }
  return out;
}

}  // namespace

// One function per section, in the order the default configuration lists them.
Configuration Configuration::parse(std::string_view toml_text, std::string source,
                                   const std::filesystem::path& base_directory) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column,
                            e.description()));
  }
  const Validator v(source);
  v.only_keys(root,
              {"store", "roles", "registration", "approvals", "issuer", "process", "ocsp", "admin",
               "replication", "replica", "role", "authorization", "self_service"},
              "the configuration");

  Configuration config;
  config.source = source;
  config.map_size_bytes = parse_store(v, v.table(root, "store", "the configuration"));
  const toml::table& roles = v.table(root, "roles", "the configuration");
  v.only_keys(roles, {"default"}, "[roles]");
  config.default_role = v.string(roles, "default", "[roles]");
  if (const auto* approvals = optional_section(v, root, "approvals", "[approvals]")) {
    config.approval_expiry_seconds = parse_approval_expiry_seconds(v, *approvals);
  }
  if (const auto* registration = optional_section(v, root, "registration", "[registration]")) {
    config.refuse_registration_when_not_active = parse_registration_refuses(v, *registration);
  }
  if (const toml::node* issuers = root.get("issuer")) {
    config.issuers = parse_issuers(v, *issuers, base_directory);
  }
  if (const auto* ocsp = optional_section(v, root, "ocsp", "[ocsp]")) {
    config.ocsp = parse_ocsp(v, *ocsp);
  }
  if (const auto* admin = optional_section(v, root, "admin", "[admin]")) {
    config.admin = parse_admin(v, admin, base_directory);
  }
  if (const auto* replication = optional_section(v, root, "replication", "[replication]")) {
    config.replication = parse_replication(v, *replication, base_directory);
  }
  if (const auto* replica = optional_section(v, root, "replica", "[replica]")) {
    if (config.replication) {
      v.fail(replica,
             "[replica] and [replication] exclude each other: a replica is fed by the "
             "stream and publishes nothing");
    }
    config.replica = parse_replica(v, *replica, base_directory);
    if (config.admin) {
      v.fail(replica,
             "[replica] and [admin] exclude each other: processes, imports and batch "
             "jobs run on the writer, a replica only answers");
    }
    for (const auto& issuer : config.issuers) {
      if (issuer.crl) {
        v.fail(replica, fmt::format("issuer '{}' has a CRL key, but a replica holds no CA key: "
                                    "give it ocsp_certificate and ocsp_private_key (a delegated "
                                    "OCSP responder) and no private_key",
                                    issuer.name));
      }
    }
  }
  config.processes = parse_processes(v, v.table(root, "process", "the configuration"));
  if (const toml::node* roles_node = root.get("role")) {
    config.roles = parse_roles(v, *roles_node, config.processes);
  }
  if (const auto* authorization = optional_section(v, root, "authorization", "[authorization]")) {
    config.authorization = parse_authorization(v, *authorization, config.roles);
  }
  if (const auto* self_service = optional_section(v, root, "self_service", "[self_service]")) {
    config.self_service = parse_self_service(v, *self_service, config);
  }
  return config;
}

Configuration Configuration::load_file(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("cannot read the configuration {}; create it with `revocore init` or "
                            "pass --config",
                            file.string()));
  }
  constexpr std::size_t kMaxConfigurationBytes = 16 << 20;
  const std::string text = read_regular_file(file, kMaxConfigurationBytes,
                                             ErrorCode::kInvalidConfig, "the configuration")
                               .bytes;
  return parse(text, file.string(), file.parent_path());
}

Configuration Configuration::built_in_default() {
  return parse(kDefaultConfigToml, "<built-in default>", std::filesystem::current_path());
}

namespace {

std::string with_shard(const std::string& url, std::uint16_t shard) {
  std::string out = url;
  const std::string number = std::to_string(shard);
  for (auto at = out.find("{shard}"); at != std::string::npos; at = out.find("{shard}", at)) {
    out.replace(at, 7, number);
    at += number.size();
  }
  return out;
}
}  // namespace

std::string CrlSettings::shard_url(std::uint16_t shard) const {
  return with_shard(distribution_point, shard);
}

std::string CrlSettings::delta_shard_url(std::uint16_t shard) const {
  return with_shard(delta_distribution_point, shard);
}

}  // namespace revocore::config
