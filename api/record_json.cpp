#include "api/record_json.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <ctime>

#include "revocation/error.hpp"

namespace revocore::api {

std::string issuer_name(const StoreTransaction& txn, IssuerId id) {
  const auto issuer = txn.issuer(id);
  return issuer ? issuer->name : fmt::format("#{}", id);
}

namespace {

boost::json::array string_array(const std::vector<std::string>& strings) {
  boost::json::array out;
  for (const auto& s : strings) {
    out.emplace_back(s);
  }
  return out;
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

namespace {

// `count` digits at `at`, or -1.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') {
      return -1;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

// Strictly "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 5.6 in UTC, without fractions or
// offsets): strptime accepted leading spaces, single-digit fields, 2026-02-30 (normalised to
// March 2) and second 61, and timegm turned year 0 into a date that then went into a signed CRL.
UnixTime parse_time(std::string_view text, std::string_view what) {
  const auto refuse = [&](std::string_view why) -> UnixTime {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' is not a date{}; write 2026-11-22 or 2026-11-22T08:30:00Z "
                            "(UTC)",
                            what, text, why));
  };
  if (text.size() != 10 && text.size() != 20) {
    return refuse("");
  }
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || text[4] != '-' || text[7] != '-') {
    return refuse("");
  }
  int hour = 0, minute = 0, second = 0;
  if (text.size() == 20) {
    hour = digits(text, 11, 2);
    minute = digits(text, 14, 2);
    second = digits(text, 17, 2);
    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z' || hour < 0 ||
        minute < 0 || second < 0) {
      return refuse("");
    }
    if (hour > 23 || minute > 59 || second > 59) {
      return refuse(" (the time of day is out of range)");
    }
  }
  if (year < 1970) {
    return refuse(" (years before 1970 are not accepted)");
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) {
    return refuse(" (no such day)");
  }
  const sys_seconds instant = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  return static_cast<UnixTime>(instant.time_since_epoch().count());
}

boost::json::object published_json(const crl::PublishedCrl& crl) {
  boost::json::object out{{"issuer", crl.issuer},
                          {"kind", crl.kind == crl::CrlKind::kDelta ? "delta" : "full"},
                          {"number", crl.number},
                          {"entries", crl.entries},
                          {"this_update", format_time(crl.this_update)},
                          {"next_update", format_time(crl.next_update)},
                          {"file", crl.file.string()},
                          {"numbered_file", crl.numbered_file.string()},
                          {"shard", crl.shard},
                          {"shards", crl.shard_count},
                          {"bytes", crl.bytes}};
  if (!crl.url.empty()) {
    out["url"] = crl.url;
  }
  if (crl.kind == crl::CrlKind::kDelta) {
    out["delta_base"] = crl.delta_base;
  }
  return out;
}

boost::json::object certificate_json(const StoreTransaction& txn, const CertificateKey& key,
                                     const CertificateRecord& record,
                                     const config::Configuration* config) {
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
  // A certificate with no shard (registered before shards existed) is in the single CRL.
  out["crl_shard"] = record.crl_shard.value_or(0);
  const config::IssuerConfig* issuer =
      config != nullptr ? config->find_issuer(issuer_name(txn, key.issuer)) : nullptr;
  if (issuer != nullptr && issuer->crl && !issuer->crl->distribution_point.empty()) {
    out["crl_distribution_point"] = issuer->crl->shard_url(record.crl_shard.value_or(0));
  }
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

namespace {

// What a process changed (or, in a preview, would change): the user's state and roles, and each
// credential's state.
void add_state_changes(const AuditRecord& record, boost::json::object& out) {
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
}

}  // namespace

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
  add_state_changes(record, out);
  out["certificates_changed"] = record.certificates_changed;
  if (record.first_journal_sequence != 0) {
    out["journal"] = boost::json::object{{"first", record.first_journal_sequence},
                                         {"last", record.last_journal_sequence}};
  }
  if (!record.note.empty()) {
    out["note"] = record.note;
  }
  if (!record.self_service_certificate.empty()) {
    out["self_service_certificate"] = record.self_service_certificate;
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

boost::json::object preview_json(const StoreTransaction& txn,
                                 const lifecycle::ProcessPreview& preview) {
  boost::json::object out;
  out["outcome"] = "preview";
  out["approval_step"] = preview.needs_approval;
  out["preview"] = preview.fingerprint;
  const AuditRecord& audit = preview.audit;
  out["process"] = audit.process;
  out["target_kind"] = audit.target_kind;
  out["target"] = audit.target_id;
  if (!audit.reason_label.empty()) {
    out["reason"] = audit.reason_label;
    out["reason_code"] = to_string(audit.reason_code);
  }
  add_state_changes(audit, out);
  out["certificates"] = boost::json::object{{"revoked", preview.batch.revoked},
                                            {"held", preview.batch.held},
                                            {"released", preview.batch.released},
                                            {"unchanged", preview.batch.certificates_unchanged}};
  boost::json::array changes;
  for (const auto& entry : preview.certificate_changes) {
    boost::json::object change{{"issuer", issuer_name(txn, entry.certificate.issuer)},
                               {"serial", entry.certificate.serial.hex()},
                               {"from", to_string(entry.old_status)},
                               {"to", to_string(entry.new_status)}};
    if (entry.new_status != CertificateStatus::kValid) {
      change["reason"] = to_string(entry.reason);
    }
    changes.emplace_back(std::move(change));
  }
  out["changes"] = std::move(changes);
  return out;
}

boost::json::object job_json(const JobRecord& job) {
  return boost::json::object{{"id", job.id},
                             {"status", to_string(job.status)},
                             {"process", job.process},
                             {"reason", job.reason_label},
                             {"operator", job.operator_name},
                             {"source", job.source},
                             {"created_at", format_time(job.created_at)},
                             {"total", job.total},
                             {"done", job.position},
                             {"applied", job.applied},
                             {"failed", job.failed},
                             {"certificates_changed", job.certificates_changed},
                             {"crls_published", job.crls_published},
                             {"failure", job.failure}};
}

boost::json::object search_json(const StoreTransaction& txn, const SearchPage& page,
                                std::size_t limit, std::size_t offset) {
  boost::json::array hits;
  for (const auto& hit : page.hits) {
    switch (hit.kind) {
      case SearchHit::Kind::kUser:
        hits.emplace_back(boost::json::object{{"kind", "user"},
                                              {"id", hit.user.id},
                                              {"name", hit.user.name},
                                              {"state", to_string(hit.user.state)}});
        break;
      case SearchHit::Kind::kCredential:
        hits.emplace_back(boost::json::object{{"kind", "credential"},
                                              {"id", hit.credential.id},
                                              {"type", to_string(hit.credential.type)},
                                              {"state", to_string(hit.credential.state)},
                                              {"user", hit.credential.user_id}});
        break;
      case SearchHit::Kind::kCertificate: {
        boost::json::object out =
            certificate_json(txn, hit.certificate_key, hit.certificate, nullptr);
        out["kind"] = "certificate";
        if (const auto credential = txn.credential(hit.certificate.credential_id)) {
          out["user"] = credential->user_id;
        }
        hits.emplace_back(std::move(out));
        break;
      }
    }
  }
  return boost::json::object{
      {"hits", std::move(hits)}, {"more", page.more}, {"limit", limit}, {"offset", offset}};
}

boost::json::object processes_json(const config::Configuration& config) {
  boost::json::object all;
  for (const auto& [name, policy] : config.processes) {
    boost::json::array reasons;
    for (const auto& reason : policy.reasons) {
      reasons.emplace_back(
          boost::json::object{{"label", reason.label}, {"code", to_string(reason.code)}});
    }
    boost::json::object process{{"title", policy.title},
                                {"target", to_string(policy.target)},
                                {"approval", policy.approval},
                                {"reasons", std::move(reasons)}};
    // What a target must be for the process to apply, so a client offers the process exactly
    // where it would run (the operator console's buttons).
    if (policy.target == config::ProcessTarget::kCertificate) {
      boost::json::array statuses;
      for (const auto status : policy.required_status) {
        statuses.emplace_back(to_string(status));
      }
      process["required_status"] = std::move(statuses);
    } else {
      boost::json::array states;
      for (const auto state : policy.required_state) {
        states.emplace_back(to_string(state));
      }
      process["required_state"] = std::move(states);
    }
    if (policy.target == config::ProcessTarget::kCredential) {
      boost::json::array types;
      for (const auto type : kAllCredentialTypes) {
        if (policy.rule_for(type) != nullptr) {
          types.emplace_back(to_string(type));
        }
      }
      process["credential_types"] = std::move(types);
    }
    all[name] = std::move(process);
  }
  return all;
}

}  // namespace revocore::api
