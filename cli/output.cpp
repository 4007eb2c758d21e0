#include "cli/output.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "revocation/error.hpp"

namespace revocore::cli {
namespace {

std::string roles_text(const std::vector<std::string>& roles) {
  return fmt::format("[{}]", fmt::join(roles, ", "));
}

// Boost.JSON's serializer writes one line; operators read this, so indent it.
void pretty(std::ostream& out, const boost::json::value& value, int depth) {
  const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string closing(static_cast<std::size_t>(depth) * 2, ' ');
  if (value.is_object()) {
    const auto& object = value.as_object();
    if (object.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    bool first = true;
    for (const auto& [key, member] : object) {
      out << (first ? "" : ",\n") << indent << boost::json::serialize(boost::json::string(key))
          << ": ";
      pretty(out, member, depth + 1);
      first = false;
    }
    out << "\n" << closing << "}";
  } else if (value.is_array()) {
    const auto& array = value.as_array();
    if (array.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    bool first = true;
    for (const auto& element : array) {
      out << (first ? "" : ",\n") << indent;
      pretty(out, element, depth + 1);
      first = false;
    }
    out << "\n" << closing << "]";
  } else {
    out << boost::json::serialize(value);
  }
}

}  // namespace

void print_published(std::ostream& out, const crl::PublishedCrl& crl) {
  const std::string of =
      crl.shard_count > 1 ? fmt::format("{} shard {}", crl.issuer, crl.shard) : crl.issuer;
  if (crl.kind == crl::CrlKind::kDelta) {
    fmt::print(out, "  delta CRL #{} of {} over base #{}: {} entries, next update {}, {}\n",
               crl.number, of, crl.delta_base, crl.entries, format_time(crl.next_update),
               crl.file.string());
  } else {
    fmt::print(out, "  CRL #{} of {}: {} entries, next update {}, {}\n", crl.number, of,
               crl.entries, format_time(crl.next_update), crl.file.string());
  }
}

void print_json(std::ostream& out, const boost::json::value& value) {
  pretty(out, value, 0);
  out << "\n";
}

void print_certificate(std::ostream& out, const StoreTransaction& txn, const CertificateKey& key,
                       const CertificateRecord& record, std::string_view indent) {
  fmt::print(out, "{}certificate {} serial {}: {}", indent, issuer_name(txn, key.issuer),
             key.serial.hex(), to_string(record.status));
  if (record.status != CertificateStatus::kValid) {
    fmt::print(out, " ({}, since {})", to_string(record.reason),
               format_time(record.revocation_time));
  }
  fmt::print(out, "; expires {}; {}\n", format_time(record.not_after), record.subject);
}

void print_credential(std::ostream& out, const StoreTransaction& txn, const Credential& credential,
                      std::string_view indent) {
  fmt::print(out, "{}{} {}: {} (relation {}), user {}\n", indent, to_string(credential.type),
             credential.id, to_string(credential.state), to_string(credential.relation_state),
             credential.user_id);
  const std::string inner = std::string(indent) + "  ";
  for (const auto& key : txn.certificates_of_credential(credential.id)) {
    if (const auto record = txn.certificate(key)) {
      print_certificate(out, txn, key, *record, inner);
    }
  }
}

void print_user(std::ostream& out, const StoreTransaction& txn, const User& user) {
  fmt::print(out, "user {} ({}): {}, roles {}\n", user.id,
             user.name.empty() ? "no name" : user.name, to_string(user.state),
             roles_text(user.roles));
  for (const auto& credential : txn.credentials_of_user(user.id)) {
    print_credential(out, txn, credential, "  ");
  }
}

void print_audit(std::ostream& out, const AuditRecord& record) {
  fmt::print(out, "#{} {} {} {} {} {} by {}", record.id, format_time(record.time),
             to_string(record.kind), record.process, record.target_kind, record.target_id,
             record.operator_name);
  if (!record.reason_label.empty()) {
    fmt::print(out, ", reason \"{}\" ({})", record.reason_label, to_string(record.reason_code));
  }
  if (record.approval_id != 0) {
    fmt::print(out, ", approval #{}", record.approval_id);
  }
  if (!record.requested_by.empty()) {
    fmt::print(out, " requested by {}", record.requested_by);
  }
  if (!record.self_service_certificate.empty()) {
    fmt::print(out, " (self-service, certificate {})", record.self_service_certificate);
  }
  out << "\n";
  if (record.user_old_state && record.user_new_state) {
    fmt::print(out, "    user: {} -> {}; roles {} -> {}\n", to_string(*record.user_old_state),
               to_string(*record.user_new_state), roles_text(record.roles_before),
               roles_text(record.roles_after));
  }
  for (const auto& change : record.credential_changes) {
    fmt::print(out, "    {} {}: {} -> {}, {} certificate(s) changed\n", to_string(change.type),
               change.credential_id, to_string(change.old_state), to_string(change.new_state),
               change.certificates_changed);
  }
  if (record.first_journal_sequence != 0) {
    fmt::print(out, "    journal entries {}..{}\n", record.first_journal_sequence,
               record.last_journal_sequence);
  }
  if (!record.note.empty()) {
    fmt::print(out, "    {}\n", record.note);
  }
}

void print_approval(std::ostream& out, const ApprovalRequest& request) {
  fmt::print(out, "#{} {} {} {}, reason \"{}\", requested by {} at {}", request.id,
             to_string(request.status), request.process, request.target_id, request.reason_label,
             request.requested_by, format_time(request.requested_at));
  if (request.status != ApprovalStatus::kPending) {
    fmt::print(out, "; {} by {} at {}", to_string(request.status), request.decided_by,
               format_time(request.decided_at));
  }
  out << "\n";
}

void print_preview(std::ostream& out, const StoreTransaction& txn,
                   const config::ProcessPolicy& policy, const lifecycle::ProcessPreview& preview) {
  const AuditRecord& audit = preview.audit;
  fmt::print(out, "Dry run, nothing changed: {} {} with reason \"{}\" ({}) would{} change\n",
             policy.title, audit.target_id, audit.reason_label, to_string(audit.reason_code),
             preview.needs_approval ? ", once a second operator approves it," : "");
  if (audit.user_old_state && audit.user_new_state) {
    fmt::print(out, "  user {}: {} -> {}; roles {} -> {}\n", audit.target_id,
               to_string(*audit.user_old_state), to_string(*audit.user_new_state),
               roles_text(audit.roles_before), roles_text(audit.roles_after));
  }
  for (const auto& change : audit.credential_changes) {
    fmt::print(out, "  {} {}: {} -> {}\n", to_string(change.type), change.credential_id,
               to_string(change.old_state), to_string(change.new_state));
  }
  for (const auto& entry : preview.certificate_changes) {
    fmt::print(out, "    certificate {}/{}: {} -> {}{}\n",
               issuer_name(txn, entry.certificate.issuer), entry.certificate.serial.hex(),
               to_string(entry.old_status), to_string(entry.new_status),
               entry.new_status == CertificateStatus::kValid
                   ? std::string()
                   : fmt::format(" ({})", to_string(entry.reason)));
  }
  fmt::print(out, "  certificates: {} revoked, {} put on hold, {} released, {} unchanged\n",
             preview.batch.revoked, preview.batch.held, preview.batch.released,
             preview.batch.certificates_unchanged);
}

void print_outcome(std::ostream& out, const config::ProcessPolicy& policy,
                   const lifecycle::ProcessOutcome& outcome) {
  const AuditRecord& audit = outcome.audit;
  if (outcome.kind == lifecycle::ProcessOutcome::Kind::kPendingApproval) {
    fmt::print(out,
               "{} {} needs approval: request #{} filed by {}. Another operator runs "
               "`revocore approvals approve {}` or `revocore approvals reject {}`.\n",
               policy.title, audit.target_id, outcome.approval_id, audit.operator_name,
               outcome.approval_id, outcome.approval_id);
    return;
  }
  fmt::print(out, "{} {}: reason \"{}\" ({}), operator {}, audit #{}\n", policy.title,
             audit.target_id, audit.reason_label, to_string(audit.reason_code), audit.operator_name,
             audit.id);
  if (audit.user_old_state && audit.user_new_state) {
    fmt::print(out, "  user {}: {} -> {}; roles {} -> {}\n", audit.target_id,
               to_string(*audit.user_old_state), to_string(*audit.user_new_state),
               roles_text(audit.roles_before), roles_text(audit.roles_after));
  }
  for (const auto& change : audit.credential_changes) {
    fmt::print(out, "  {} {}: {} -> {}, {} certificate(s) changed\n", to_string(change.type),
               change.credential_id, to_string(change.old_state), to_string(change.new_state),
               change.certificates_changed);
  }
  fmt::print(out, "  certificates: {} revoked, {} put on hold, {} released, {} unchanged\n",
             outcome.batch.revoked, outcome.batch.held, outcome.batch.released,
             outcome.batch.certificates_unchanged);
}

}  // namespace revocore::cli
