#include "cli/output.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ctime>

#include "revocation/error.hpp"

namespace revocore::cli {
namespace {

std::string issuer_name(const StoreTransaction& txn, IssuerId id) {
  const auto issuer = txn.issuer(id);
  return issuer ? issuer->name : fmt::format("#{}", id);
}

boost::json::array string_array(const std::vector<std::string>& strings) {
  boost::json::array out;
  for (const auto& s : strings) {
    out.emplace_back(s);
  }
  return out;
}

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

std::string format_time(UnixTime time) {
  const std::time_t t = static_cast<std::time_t>(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

UnixTime parse_time(std::string_view text, std::string_view what) {
  const std::string copy(text);
  for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"}) {
    std::tm tm{};
    const char* end = ::strptime(copy.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      return static_cast<UnixTime>(::timegm(&tm));
    }
  }
  throw Error(ErrorCode::kInvalidArgument,
              fmt::format("{} '{}' is not a date; write 2026-11-22 or 2026-11-22T08:30:00Z (UTC)",
                          what, text));
}

void print_published(std::ostream& out, const crl::PublishedCrl& crl) {
  if (crl.kind == crl::CrlKind::kDelta) {
    fmt::print(out, "  delta CRL #{} of {} over base #{}: {} entries, next update {}, {}\n",
               crl.number, crl.issuer, crl.delta_base, crl.entries, format_time(crl.next_update),
               crl.file.string());
  } else {
    fmt::print(out, "  CRL #{} of {}: {} entries, next update {}, {}\n", crl.number, crl.issuer,
               crl.entries, format_time(crl.next_update), crl.file.string());
  }
}

boost::json::object published_json(const crl::PublishedCrl& crl) {
  boost::json::object out{{"issuer", crl.issuer},
                          {"kind", crl.kind == crl::CrlKind::kDelta ? "delta" : "full"},
                          {"number", crl.number},
                          {"entries", crl.entries},
                          {"this_update", format_time(crl.this_update)},
                          {"next_update", format_time(crl.next_update)},
                          {"file", crl.file.string()},
                          {"numbered_file", crl.numbered_file.string()}};
  if (crl.kind == crl::CrlKind::kDelta) {
    out["delta_base"] = crl.delta_base;
  }
  return out;
}

void print_json(std::ostream& out, const boost::json::value& value) {
  pretty(out, value, 0);
  out << "\n";
}

boost::json::object certificate_json(const StoreTransaction& txn, const CertificateKey& key,
                                     const CertificateRecord& record) {
  boost::json::object out;
  out["issuer"] = issuer_name(txn, key.issuer);
  out["serial"] = key.serial.hex();
  out["subject"] = record.subject;
  out["status"] = to_string(record.status);
  if (record.status != CertificateStatus::kValid) {
    out["reason"] = to_string(record.reason);
    out["revocation_time"] = format_time(record.revocation_time);
  }
  if (record.invalidity_date) {
    out["invalidity_date"] = format_time(*record.invalidity_date);
  }
  out["not_after"] = format_time(record.not_after);
  out["credential"] = record.credential_id;
  out["status_sequence"] = record.status_sequence;
  return out;
}

boost::json::object credential_json(const StoreTransaction& txn, const Credential& credential) {
  boost::json::object out;
  out["id"] = credential.id;
  out["type"] = to_string(credential.type);
  out["state"] = to_string(credential.state);
  out["user"] = credential.user_id;
  out["relation_state"] = to_string(credential.relation_state);
  boost::json::array certificates;
  for (const auto& key : txn.certificates_of_credential(credential.id)) {
    if (const auto record = txn.certificate(key)) {
      certificates.emplace_back(certificate_json(txn, key, *record));
    }
  }
  out["certificates"] = std::move(certificates);
  return out;
}

boost::json::object user_json(const StoreTransaction& txn, const User& user) {
  boost::json::object out;
  out["id"] = user.id;
  out["name"] = user.name;
  out["state"] = to_string(user.state);
  out["roles"] = string_array(user.roles);
  boost::json::array credentials;
  for (const auto& credential : txn.credentials_of_user(user.id)) {
    credentials.emplace_back(credential_json(txn, credential));
  }
  out["credentials"] = std::move(credentials);
  return out;
}

boost::json::object audit_json(const AuditRecord& record) {
  boost::json::object out;
  out["id"] = record.id;
  out["kind"] = to_string(record.kind);
  out["time"] = format_time(record.time);
  out["process"] = record.process;
  out["target_kind"] = record.target_kind;
  out["target"] = record.target_id;
  out["operator"] = record.operator_name;
  if (!record.reason_label.empty()) {
    out["reason"] = record.reason_label;
    out["reason_code"] = to_string(record.reason_code);
  }
  if (record.approval_id != 0) {
    out["approval"] = record.approval_id;
  }
  if (!record.requested_by.empty()) {
    out["requested_by"] = record.requested_by;
  }
  if (record.user_old_state && record.user_new_state) {
    out["user_state"] = boost::json::object{{"from", to_string(*record.user_old_state)},
                                            {"to", to_string(*record.user_new_state)}};
    out["roles"] = boost::json::object{{"from", string_array(record.roles_before)},
                                       {"to", string_array(record.roles_after)}};
  }
  boost::json::array credentials;
  for (const auto& change : record.credential_changes) {
    credentials.emplace_back(
        boost::json::object{{"id", change.credential_id},
                            {"type", to_string(change.type)},
                            {"from", to_string(change.old_state)},
                            {"to", to_string(change.new_state)},
                            {"certificates_changed", change.certificates_changed}});
  }
  out["credentials"] = std::move(credentials);
  out["certificates_changed"] = record.certificates_changed;
  if (record.first_journal_sequence != 0) {
    out["journal"] = boost::json::object{{"first", record.first_journal_sequence},
                                         {"last", record.last_journal_sequence}};
  }
  if (!record.note.empty()) {
    out["note"] = record.note;
  }
  return out;
}

boost::json::object approval_json(const ApprovalRequest& request) {
  boost::json::object out;
  out["id"] = request.id;
  out["status"] = to_string(request.status);
  out["process"] = request.process;
  out["target"] = request.target_id;
  out["reason"] = request.reason_label;
  out["requested_by"] = request.requested_by;
  out["requested_at"] = format_time(request.requested_at);
  if (request.invalidity_date) {
    out["invalidity_date"] = format_time(*request.invalidity_date);
  }
  if (request.status != ApprovalStatus::kPending) {
    out["decided_by"] = request.decided_by;
    out["decided_at"] = format_time(request.decided_at);
    out["decision_audit"] = request.decision_audit_id;
  }
  return out;
}

boost::json::object outcome_json(const lifecycle::ProcessOutcome& outcome) {
  boost::json::object out;
  const bool pending = outcome.kind == lifecycle::ProcessOutcome::Kind::kPendingApproval;
  out["outcome"] = pending ? "pending_approval" : "applied";
  if (outcome.approval_id != 0) {
    out["approval"] = outcome.approval_id;
  }
  out["audit"] = audit_json(outcome.audit);
  if (!pending) {
    out["certificates"] = boost::json::object{{"revoked", outcome.batch.revoked},
                                              {"held", outcome.batch.held},
                                              {"released", outcome.batch.released},
                                              {"unchanged", outcome.batch.certificates_unchanged}};
  }
  return out;
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
