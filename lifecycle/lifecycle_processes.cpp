#include "lifecycle/lifecycle_processes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "revocation/error.hpp"
#include "revocation/identifier.hpp"

namespace revocore::lifecycle {
namespace {

using config::ProcessPolicy;
using config::ProcessTarget;

// "an active user", "an active or inactive card".
std::string required_state_text(const ProcessPolicy& policy, std::string_view noun) {
  std::vector<std::string_view> names;
  for (const auto state : policy.required_state) {
    names.push_back(to_string(state));
  }
  const std::string states = fmt::format("{}", fmt::join(names, " or "));
  const bool vowel =
      !states.empty() && std::string_view("aeiou").find(states[0]) != std::string_view::npos;
  return fmt::format("{} {} {}", vowel ? "an" : "a", states, noun);
}

std::string credential_noun(const ProcessPolicy& policy) {
  std::vector<std::string_view> types;
  for (const auto type : kAllCredentialTypes) {
    if (policy.rule_for(type) != nullptr) {
      types.push_back(to_string(type));
    }
  }
  return fmt::format("{}", fmt::join(types, " or "));
}

std::optional<LifecycleState> relation_target(config::RelationsEffect effect) {
  switch (effect) {
    case config::RelationsEffect::kKeep:
      return std::nullopt;
    case config::RelationsEffect::kDeactivate:
      return LifecycleState::kInactive;
    case config::RelationsEffect::kActivate:
      return LifecycleState::kActive;
  }
  return std::nullopt;
}

// What a process will do, worked out from the store and the policy before anything is written.
struct Plan {
  std::optional<User> user;  // the target user (user processes only)
  std::vector<Credential> credentials;
  BatchOrder order;
  std::optional<CertificateKey> certificate;  // certificate processes only
};

// A certificate process's target, "ISSUER/SERIAL": the certificate, checked against the
// process's required status.
void plan_certificate(const StoreTransaction& txn, const ProcessPolicy& policy,
                      std::string_view target_id, Plan& plan) {
  const std::size_t slash = target_id.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == target_id.size()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} takes a certificate as ISSUER/SERIAL, e.g. demo-issuing-ca/1A2B; "
                            "'{}' is not one",
                            policy.title, target_id));
  }
  const auto [key, record] =
      find_certificate(txn, target_id.substr(0, slash), target_id.substr(slash + 1));
  if (std::find(policy.required_status.begin(), policy.required_status.end(), record.status) ==
      policy.required_status.end()) {
    std::vector<std::string_view> wanted;
    for (const CertificateStatus status : policy.required_status) {
      wanted.push_back(to_string(status));
    }
    throw Error(ErrorCode::kWrongState,
                fmt::format("{} needs a certificate that is {}; serial {} of {} is {}",
                            policy.title, fmt::join(wanted, " or "), key.serial.hex(),
                            target_id.substr(0, slash), to_string(record.status)));
  }
  plan.certificate = key;
}

// Checks the target and its required state and loads the related credentials. Shared by a run,
// a request for approval (checked early) and an approval (checked again).
Plan plan_process(const StoreTransaction& txn, const ProcessPolicy& policy,
                  std::string_view target_id) {
  check_identifier("the target", target_id);
  Plan plan;
  if (policy.target == ProcessTarget::kCertificate) {
    plan_certificate(txn, policy, target_id, plan);
  } else if (policy.target == ProcessTarget::kUser) {
    plan.user = txn.user(target_id);
    if (!plan.user) {
      throw Error(
          ErrorCode::kNotFound,
          fmt::format("user {} does not exist; `revocore user list --prefix {}` lists the users "
                      "whose id starts the same way",
                      target_id,
                      target_id.substr(0, std::max<std::size_t>(1, target_id.size() / 2))));
    }
    if (!policy.requires_state(plan.user->state)) {
      throw Error(ErrorCode::kWrongState, fmt::format("{} needs {}; user {} is {}", policy.title,
                                                      required_state_text(policy, "user"),
                                                      target_id, to_string(plan.user->state)));
    }
    plan.credentials = txn.credentials_of_user(target_id);
  } else {
    const std::string noun = credential_noun(policy);
    auto credential = txn.credential(target_id);
    if (!credential) {
      throw Error(ErrorCode::kNotFound, fmt::format("{} {} does not exist", noun, target_id));
    }
    if (policy.rule_for(credential->type) == nullptr) {
      throw Error(ErrorCode::kWrongState,
                  fmt::format("{} applies to a {}; credential {} is a {}", policy.title, noun,
                              target_id, to_string(credential->type)));
    }
    if (!policy.requires_state(credential->state)) {
      throw Error(
          ErrorCode::kWrongState,
          fmt::format("{} needs {}; {} {} is {}", policy.title, required_state_text(policy, noun),
                      to_string(credential->type), target_id, to_string(credential->state)));
    }
    plan.credentials.push_back(std::move(*credential));
  }
  return plan;
}

// Self-service: whether the target is the card holder's own user, one of their credentials or
// one of their certificates. A target that does not exist is not theirs either, so that the
// answer is the same for both and reveals nothing about other users.
bool owned_by(const StoreTransaction& txn, const ProcessPolicy& policy, std::string_view target_id,
              std::string_view user_id) {
  switch (policy.target) {
    case ProcessTarget::kUser:
      return target_id == user_id;
    case ProcessTarget::kCredential: {
      const auto credential = txn.credential(target_id);
      return credential && credential->user_id == user_id;
    }
    case ProcessTarget::kCertificate: {
      const std::size_t slash = target_id.rfind('/');
      if (slash == std::string_view::npos) {
        return false;
      }
      const auto issuer = txn.issuer_by_name(target_id.substr(0, slash));
      if (!issuer) {
        return false;
      }
      const auto record = txn.certificate(
          CertificateKey{issuer->id, Serial::from_hex(target_id.substr(slash + 1))});
      const auto credential = record ? txn.credential(record->credential_id) : std::nullopt;
      return credential && credential->user_id == user_id;
    }
  }
  return false;
}

void build_order(Plan& plan, const ProcessPolicy& policy, const config::Reason& reason,
                 std::string_view operator_name, UnixTime now,
                 std::optional<UnixTime> invalidity_date) {
  plan.order.process = policy.name;
  plan.order.invalidity_date = invalidity_date;
  plan.order.operator_name = std::string(operator_name);
  plan.order.time = now;
  const auto relation = relation_target(policy.relations);
  for (const auto& credential : plan.credentials) {
    const config::CredentialRule* rule = policy.rule_for(credential.type);
    if (rule == nullptr || !rule->applies_to(credential.state)) {
      continue;  // e.g. Reactivate user leaves locked credentials locked
    }
    CredentialChange change;
    change.credential_id = credential.id;
    change.new_state = rule->to;
    change.certificates = rule->certificates;
    change.revocation_reason = rule->revocation_reason.value_or(reason.code);
    change.relation_state = relation;
    plan.order.changes.push_back(std::move(change));
  }
}

std::vector<std::string> roles_after(const config::Configuration& config,
                                     const ProcessPolicy& policy,
                                     const std::vector<std::string>& before) {
  switch (policy.roles) {
    case config::RolesEffect::kKeep:
      return before;
    case config::RolesEffect::kWithdrawAll:
      return {};
    case config::RolesEffect::kDefaultOnly:
      return {config.default_role};
  }
  return before;
}

// Applies a planned process inside `txn`: the batch order, the user's end state and roles, and
// the audit record naming every change. The caller commits.
ProcessOutcome apply_plan(WriteTransaction& txn, const config::Configuration& config,
                          const ProcessPolicy& policy, const config::Reason& reason, Plan& plan,
                          std::string_view target_id, std::string_view operator_name, UnixTime now,
                          std::optional<UnixTime> invalidity_date, const ApprovalRequest* approved,
                          std::string_view self_service_certificate = {}) {
  ProcessOutcome outcome;
  if (plan.certificate) {
    CertificateOrder order;
    order.process = policy.name;
    order.operator_name = std::string(operator_name);
    order.time = now;
    order.invalidity_date = invalidity_date;
    order.audit_id = txn.next_audit_id();
    order.key = *plan.certificate;
    order.status = policy.certificate_end_status;
    order.reason = reason.code;
    outcome.batch = apply_certificate_order(txn, order);
  } else {
    build_order(plan, policy, reason, operator_name, now, invalidity_date);
    plan.order.audit_id = txn.next_audit_id();
    outcome.batch = apply_batch_order(txn, plan.order);
  }

  AuditRecord& audit = outcome.audit;
  audit.kind = AuditKind::kProcessApplied;
  audit.time = now;
  audit.process = policy.name;
  audit.target_kind = std::string(to_string(policy.target));
  audit.target_id = std::string(target_id);
  audit.operator_name = std::string(operator_name);
  audit.reason_label = reason.label;
  audit.reason_code = reason.code;
  audit.self_service_certificate = std::string(self_service_certificate);
  if (approved != nullptr) {
    outcome.approval_id = approved->id;
    audit.approval_id = approved->id;
    audit.requested_by = approved->requested_by;
  }
  if (plan.user) {
    User& user = *plan.user;
    audit.user_old_state = user.state;
    audit.roles_before = user.roles;
    user.state = *policy.user_end_state;
    user.roles = roles_after(config, policy, user.roles);
    audit.user_new_state = user.state;
    audit.roles_after = user.roles;
    txn.put_user(user);
  }
  for (const auto& credential_outcome : outcome.batch.credentials) {
    const CredentialChange& change = plan.order.changes[credential_outcome.change_index];
    audit.credential_changes.push_back(CredentialChangeRecord{
        change.credential_id, credential_outcome.type, credential_outcome.old_state,
        change.new_state, credential_outcome.certificates_changed});
  }
  audit.first_journal_sequence = outcome.batch.first_journal_sequence;
  audit.last_journal_sequence = outcome.batch.last_journal_sequence;
  audit.certificates_changed = outcome.batch.certificates_changed;
  audit.id = txn.append_audit(audit);
  return outcome;
}

}  // namespace

std::pair<CertificateKey, CertificateRecord> find_certificate(const StoreTransaction& txn,
                                                              std::string_view issuer,
                                                              std::string_view serial_hex) {
  const auto issuer_record = txn.issuer_by_name(issuer);
  if (!issuer_record) {
    std::vector<std::string> names;
    for (const auto& known : txn.issuers()) {
      names.push_back(known.name);
    }
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is not registered; registered issuers: {}", issuer,
                            names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  }
  const CertificateKey key{issuer_record->id, Serial::from_hex(serial_hex)};
  auto record = txn.certificate(key);
  if (!record) {
    throw Error(ErrorCode::kNotFound, fmt::format("issuer '{}' has no certificate with serial {}",
                                                  issuer, key.serial.hex()));
  }
  return {key, std::move(*record)};
}

std::string certificate_target(std::string_view issuer, std::string_view serial_hex) {
  // The serial as revocore prints it (upper case, no colons), so audit records and approval
  // requests name one certificate one way; a serial that is not hex is refused here.
  return fmt::format("{}/{}", issuer, Serial::from_hex(serial_hex).hex());
}

const config::Reason& offered_reason(const ProcessPolicy& policy, std::string_view label) {
  if (const auto* reason = policy.find_reason(label)) {
    return *reason;
  }
  std::vector<std::string> offered;
  for (const auto& reason : policy.reasons) {
    offered.push_back(fmt::format("'{}'", reason.label));
  }
  throw Error(ErrorCode::kReasonNotOffered,
              fmt::format("reason '{}' is not offered for {}; choose one of {}", label,
                          policy.title, fmt::join(offered, ", ")));
}

const config::Reason& LifecycleProcesses::check_request(WriteTransaction& txn,
                                                        const ProcessRequest& request,
                                                        UnixTime now) {
  const ProcessPolicy& policy = config_.process(request.process);
  const config::Reason& reason = offered_reason(policy, request.reason_label);
  if (request.operator_name.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "an operator name is required for the audit trail");
  }
  if (request.invalidity_date && *request.invalidity_date > now) {
    throw Error(ErrorCode::kInvalidArgument,
                "the invalidity date is in the future; it says since when the key is known or "
                "suspected to be compromised (RFC 5280 5.3.2)");
  }
  if (request.self_service) {
    check_identifier("the target", request.target_id);
    if (!owned_by(txn, policy, request.target_id, request.self_service->user_id)) {
      const std::string noun(to_string(policy.target));
      AuditRecord refused;
      refused.kind = AuditKind::kRefused;
      refused.time = now;
      refused.process = policy.name;
      refused.target_kind = noun;
      refused.target_id = request.target_id;
      refused.operator_name = request.operator_name;
      refused.note = "missing ownership: the target is not the card holder's own";
      refused.self_service_certificate = request.self_service->certificate;
      txn.append_audit(std::move(refused));
      txn.commit();
      throw Error(ErrorCode::kPermissionDenied,
                  fmt::format("{} {} is not one of yours; self-service acts only on your own "
                              "user ({}), its credentials and their certificates",
                              noun, request.target_id, request.self_service->user_id));
    }
  }
  return reason;
}

ProcessPreview LifecycleProcesses::preview_in(WriteTransaction& txn, const ProcessRequest& request,
                                              UnixTime now) {
  const ProcessPolicy& policy = config_.process(request.process);
  const config::Reason& reason = offered_reason(policy, request.reason_label);
  WriteTransaction scratch = store_.nested(txn);  // aborted when it goes out of scope
  Plan plan = plan_process(scratch, policy, request.target_id);
  ProcessOutcome outcome =
      apply_plan(scratch, config_, policy, reason, plan, request.target_id, request.operator_name,
                 now, request.invalidity_date, /*approved=*/nullptr,
                 request.self_service ? request.self_service->certificate : std::string());
  ProcessPreview preview;
  preview.needs_approval = policy.approval;
  if (outcome.batch.first_journal_sequence != 0) {
    preview.certificate_changes =
        scratch.journal(outcome.batch.first_journal_sequence, outcome.batch.last_journal_sequence);
  }
  // FNV-1a over what the preview shows: a change to any of it between the preview and the run
  // (another operator's process, a certificate revoked meanwhile) gives another fingerprint.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::string_view bytes) {
    for (const char c : bytes) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    hash = (hash ^ 0xFF) * 0x100000001b3ULL;  // a separator, so "ab"+"c" differs from "a"+"bc"
  };
  const auto state = [](std::optional<LifecycleState> s) {
    return s ? std::string(to_string(*s)) : std::string("-");
  };
  mix(request.process);
  mix(request.target_id);
  mix(state(outcome.audit.user_old_state));
  mix(state(outcome.audit.user_new_state));
  for (const auto& role : outcome.audit.roles_before) {
    mix(role);
  }
  for (const auto& change : outcome.audit.credential_changes) {
    mix(change.credential_id);
    mix(to_string(change.old_state));
    mix(to_string(change.new_state));
  }
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  for (const auto& entry : preview.certificate_changes) {
    mix(entry.certificate.encode(buffer));
    mix(to_string(entry.old_status));
    mix(to_string(entry.new_status));
    mix(to_string(entry.reason));
  }
  preview.fingerprint = fmt::format("{:016x}", hash);
  preview.audit = std::move(outcome.audit);
  preview.batch = std::move(outcome.batch);
  return preview;
}

ProcessPreview LifecycleProcesses::preview(const ProcessRequest& request) {
  const UnixTime now = clock_();
  WriteTransaction txn = store_.write();
  check_request(txn, request, now);
  return preview_in(txn, request, now);  // `txn` is aborted: nothing was written
}

ProcessOutcome LifecycleProcesses::run(const ProcessRequest& request) {
  const ProcessPolicy& policy = config_.process(request.process);
  const UnixTime now = clock_();
  WriteTransaction txn = store_.write();
  const config::Reason& reason = check_request(txn, request, now);
  const std::string self_service_certificate =
      request.self_service ? request.self_service->certificate : std::string();
  if (!request.expected_preview.empty()) {
    const ProcessPreview current = preview_in(txn, request, now);
    if (current.fingerprint != request.expected_preview) {
      throw Error(ErrorCode::kWrongState,
                  fmt::format("what {} would change on {} is no longer what the preview showed "
                              "(another change came first); nothing was changed: preview it "
                              "again",
                              policy.title, request.target_id));
    }
  }
  Plan plan = plan_process(txn, policy, request.target_id);
  ProcessOutcome outcome;

  if (policy.approval) {
    ApprovalRequest pending;
    pending.process = policy.name;
    pending.target_id = request.target_id;
    pending.reason_label = reason.label;
    pending.requested_by = request.operator_name;
    pending.requested_roles = request.operator_roles;
    pending.requested_at = now;
    pending.invalidity_date = request.invalidity_date;
    outcome.kind = ProcessOutcome::Kind::kPendingApproval;
    outcome.approval_id = txn.add_approval(pending);

    AuditRecord& audit = outcome.audit;
    audit.kind = AuditKind::kApprovalRequested;
    audit.time = now;
    audit.process = policy.name;
    audit.target_kind = std::string(to_string(policy.target));
    audit.target_id = request.target_id;
    audit.operator_name = request.operator_name;
    audit.reason_label = reason.label;
    audit.reason_code = reason.code;
    audit.approval_id = outcome.approval_id;
    audit.self_service_certificate = self_service_certificate;
    audit.id = txn.append_audit(audit);
    txn.commit();
    return outcome;
  }

  ProcessOutcome applied = apply_plan(txn, config_, policy, reason, plan, request.target_id,
                                      request.operator_name, now, request.invalidity_date,
                                      /*approved=*/nullptr, self_service_certificate);
  txn.commit();
  return applied;
}

ProcessOutcome LifecycleProcesses::run_in(WriteTransaction& txn, const ProcessRequest& request,
                                          UnixTime now) {
  const ProcessPolicy& policy = config_.process(request.process);
  const config::Reason& reason = offered_reason(policy, request.reason_label);
  if (policy.approval) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("{} needs an approval step, which batch jobs do not offer; approve "
                            "each request, or turn the step off for the job",
                            policy.title));
  }
  Plan plan = plan_process(txn, policy, request.target_id);
  return apply_plan(txn, config_, policy, reason, plan, request.target_id, request.operator_name,
                    now, request.invalidity_date, /*approved=*/nullptr);
}

std::size_t LifecycleProcesses::retire_pending() {
  const UnixTime now = clock_();
  WriteTransaction txn = store_.write();
  std::size_t retired = 0;
  for (ApprovalRequest request : txn.approvals()) {
    if (request.status != ApprovalStatus::kPending) {
      continue;
    }
    if (now - request.requested_at > config_.approval_expiry_seconds) {
      request.status = ApprovalStatus::kExpired;
    } else {
      const auto policy = config_.processes.find(request.process);
      if (policy == config_.processes.end()) {
        request.status = ApprovalStatus::kStale;  // the process was removed from the policy
      } else {
        try {
          plan_process(txn, policy->second, request.target_id);
          continue;
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kWrongState && e.code() != ErrorCode::kNotFound) {
            throw;
          }
          request.status = ApprovalStatus::kStale;
        }
      }
    }
    request.decided_by = "revocore";
    request.decided_at = now;
    txn.put_approval(request);
    ++retired;
  }
  if (retired > 0) {
    txn.commit();
  }
  return retired;
}

ApprovalRequest LifecycleProcesses::pending_request(const StoreTransaction& txn,
                                                    std::uint64_t approval_id,
                                                    std::string_view operator_name) const {
  if (operator_name.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "an operator name is required for the audit trail");
  }
  auto request = txn.approval(approval_id);
  if (!request) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("approval request #{} does not exist; see `revocore approvals list`",
                            approval_id));
  }
  if (request->status == ApprovalStatus::kExpired) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("approval request #{} expired: nobody decided it within {} hours "
                            "([approvals] expire_hours); file it again if it is still needed",
                            approval_id, config_.approval_expiry_seconds / 3600));
  }
  if (request->status == ApprovalStatus::kStale) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("approval request #{} is stale: {} {} is no longer in the state "
                            "{} requires; file it again if it is still needed",
                            approval_id, "target", request->target_id, request->process));
  }
  if (request->status != ApprovalStatus::kPending) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("approval request #{} was already {} by {}", approval_id,
                            to_string(request->status), request->decided_by));
  }
  if (request->requested_by == operator_name) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("operator {} filed approval request #{} and cannot decide it; "
                            "another operator must",
                            operator_name, approval_id));
  }
  return *request;
}

ProcessOutcome LifecycleProcesses::approve(std::uint64_t approval_id,
                                           std::string_view operator_name) {
  retire_pending();
  const UnixTime now = clock_();
  // Read inside the write transaction, so no other writer can decide it meanwhile.
  WriteTransaction txn = store_.write();
  ApprovalRequest request = pending_request(txn, approval_id, operator_name);
  const ProcessPolicy& policy = config_.process(request.process);
  const config::Reason& reason = offered_reason(policy, request.reason_label);
  Plan plan = plan_process(txn, policy, request.target_id);
  ProcessOutcome outcome = apply_plan(txn, config_, policy, reason, plan, request.target_id,
                                      operator_name, now, request.invalidity_date, &request);

  request.status = ApprovalStatus::kApproved;
  request.decided_by = std::string(operator_name);
  request.decided_at = now;
  request.decision_audit_id = outcome.audit.id;
  txn.put_approval(request);
  txn.commit();
  return outcome;
}

AuditRecord LifecycleProcesses::reject(std::uint64_t approval_id, std::string_view operator_name,
                                       std::string_view note) {
  retire_pending();
  const UnixTime now = clock_();
  WriteTransaction txn = store_.write();
  ApprovalRequest request = pending_request(txn, approval_id, operator_name);
  const ProcessPolicy& policy = config_.process(request.process);

  AuditRecord audit;
  audit.kind = AuditKind::kApprovalRejected;
  audit.time = now;
  audit.process = request.process;
  audit.target_kind = std::string(to_string(policy.target));
  audit.target_id = request.target_id;
  audit.operator_name = std::string(operator_name);
  audit.reason_label = request.reason_label;
  if (const auto* reason = policy.find_reason(request.reason_label)) {
    audit.reason_code = reason->code;
  }
  audit.approval_id = approval_id;
  audit.requested_by = request.requested_by;
  audit.note = std::string(note);
  audit.id = txn.append_audit(audit);

  request.status = ApprovalStatus::kRejected;
  request.decided_by = std::string(operator_name);
  request.decided_at = now;
  request.decision_audit_id = audit.id;
  txn.put_approval(request);
  txn.commit();
  return audit;
}

}  // namespace revocore::lifecycle
