#include "importer/certificate_import.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "revocation/batch_order.hpp"
#include "revocation/crl_shard.hpp"
#include "revocation/crl_shard_binding.hpp"
#include "revocation/error.hpp"

namespace revocore::importer {
namespace {

bool looks_like_certificate_file(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".pem" || extension == ".crt" || extension == ".cer" || extension == ".der";
}

// File name -> path for every certificate file named or found in a named directory.
std::map<std::string, std::filesystem::path> collect_files(
    const std::vector<std::filesystem::path>& sources) {
  std::map<std::string, std::filesystem::path> files;
  auto add = [&](const std::filesystem::path& file) {
    const auto [it, inserted] = files.emplace(file.filename().string(), file);
    if (!inserted) {
      throw Error(ErrorCode::kInvalidManifest,
                  fmt::format("two certificate files are named {} ({} and {}); the manifest "
                              "matches files by name, so names must be unique",
                              file.filename().string(), it->second.string(), file.string()));
    }
  };
  for (const auto& source : sources) {
    std::error_code ec;
    if (std::filesystem::is_directory(source, ec)) {
      for (const auto& item : std::filesystem::directory_iterator(source)) {
        if (item.is_regular_file() && looks_like_certificate_file(item.path())) {
          add(item.path());
        }
      }
    } else if (std::filesystem::is_regular_file(source, ec)) {
      add(source);
    } else {
      throw Error(ErrorCode::kInvalidCertificate,
                  fmt::format("{} is neither a certificate file nor a directory", source.string()));
    }
  }
  return files;
}

[[noreturn]] void fail_line(ErrorCode code, const ImportRequest& request,
                            const ManifestEntry& entry, std::string_view message) {
  throw Error(code, fmt::format("{}:{}: {}", request.manifest.string(), entry.line, message));
}

// A certificate follows its credential (the mission table): valid on an active one, on hold on an
// inactive one, revoked on a locked one. Registering it valid on a locked card would leave a
// certificate that no process can revoke any more.
CertificateStatus status_on(LifecycleState credential) noexcept {
  switch (credential) {
    case LifecycleState::kActive:
      return CertificateStatus::kValid;
    case LifecycleState::kInactive:
      return CertificateStatus::kOnHold;
    case LifecycleState::kLocked:
      return CertificateStatus::kRevoked;
  }
  return CertificateStatus::kRevoked;
}

// A new credential of an existing user takes the state that user's last process gave its
// siblings: locked for a locked user (Lock user locks every credential); for an inactive user,
// what Deactivate user does to an active credential of that type (a card inactive, a temporary
// card locked). Refused when the policy has no rule for the type, rather than guessed.
LifecycleState new_credential_state(const config::Configuration& config, const User& user,
                                    CredentialType type, std::string_view credential_id) {
  if (user.state == LifecycleState::kActive) {
    return LifecycleState::kActive;
  }
  const std::string_view process =
      user.state == LifecycleState::kLocked ? config::kUsersProcLock : config::kUsersProcDeactivate;
  const config::ProcessPolicy& policy = config.process(process);
  const config::CredentialRule* rule = policy.rule_for(type);
  if (rule == nullptr || !rule->applies_to(LifecycleState::kActive)) {
    throw Error(ErrorCode::kWrongState,
                fmt::format("user {} is {}, and {} has no rule for a new {} such as {}; "
                            "reactivate the user first, or add a rule for {} to "
                            "[process.{}.credentials]",
                            user.id, to_string(user.state), policy.title, to_string(type),
                            credential_id, to_string(type), process));
  }
  return rule->to;
}

// Adds the user and credential of `entry` where they are new, and its certificates; throws
// revocore::Error without changing anything when the store disagrees or a certificate's issuer
// is not configured. `what` names the certificates' source in messages.
void add_entry(WriteTransaction& txn, const config::Configuration& config,
               const std::vector<RegisteredIssuer>& issuers, const ManifestEntry& entry,
               const std::vector<pki::X509Certificate>& certificates, std::string_view what,
               std::string_view operator_name, UnixTime now, ImportSummary& summary) {
  if (auto credential = txn.credential(entry.credential_id)) {
    if (credential->user_id != entry.user_id || credential->type != entry.type) {
      throw Error(ErrorCode::kInvalidManifest,
                  fmt::format("credential {} is a {} of user {} in the store, but this line "
                              "says a {} of user {}",
                              entry.credential_id, to_string(credential->type), credential->user_id,
                              to_string(entry.type), entry.user_id));
    }
  }
  // Every certificate's issuer is found before anything is written.
  std::vector<CertificateKey> keys;
  std::vector<std::uint16_t> shards;  // the CRL shard each is bound to
  for (const auto& certificate : certificates) {
    const RegisteredIssuer* issuer = nullptr;
    for (const auto& candidate : issuers) {
      if (certificate.is_issued_by(candidate.certificate)) {
        issuer = &candidate;
        break;
      }
    }
    if (issuer == nullptr) {
      throw Error(ErrorCode::kUnknownIssuer,
                  fmt::format("{} was issued by '{}', which is not a configured issuer (or its "
                              "signature does not verify); add an [[issuer]] with that CA's "
                              "certificate to {}",
                              what, certificate.issuer_text(), config.source));
    }
    keys.push_back(CertificateKey{issuer->id, certificate.serial()});
    shards.push_back(crl_shard_for(certificate.serial(), issuer->crl_shards));
  }
  const std::optional<User> user = txn.user(entry.user_id);
  if (!user) {
    User created;
    created.id = entry.user_id;
    created.name = entry.user_name;
    created.roles = {config.default_role};
    txn.put_user(created);
    ++summary.users_created;
  }
  std::optional<Credential> credential = txn.credential(entry.credential_id);
  if (!credential) {
    Credential created;
    created.id = entry.credential_id;
    created.type = entry.type;
    created.user_id = entry.user_id;
    if (user) {
      created.state = new_credential_state(config, *user, entry.type, entry.credential_id);
    }
    txn.put_credential(created);
    credential = created;
    ++summary.credentials_created;
  }
  const CertificateStatus status = status_on(credential->state);
  if (status != CertificateStatus::kValid && config.refuse_registration_when_not_active) {
    throw Error(ErrorCode::kWrongState,
                fmt::format("credential {} is {}{}, and [registration] not_active = \"refuse\" "
                            "in {}; reactivate it first",
                            entry.credential_id, to_string(credential->state),
                            user && user->state != LifecycleState::kActive
                                ? fmt::format(" (user {} is {})", user->id, to_string(user->state))
                                : "",
                            config.source));
  }
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    CertificateRecord record;
    record.not_after = certificates[i].not_after();
    record.credential_id = entry.credential_id;
    record.subject = certificates[i].subject_text();
    record.crl_shard = shards[i];
    try {
      txn.add_certificate(keys[i], record);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{} ({})", e.what(), what));
    }
    ++summary.certificates;
    if (status != CertificateStatus::kValid) {
      // Journalled like any status change, so that OCSP, deltas and the next CRL see it.
      CertificateOrder order;
      order.process = "Register";
      order.operator_name = std::string(operator_name);
      order.time = now;
      order.audit_id = txn.next_audit_id();
      order.key = keys[i];
      order.status = status;
      order.reason = ReasonCode::kCessationOfOperation;  // the credential is out of use
      apply_certificate_order(txn, order);
      ++(status == CertificateStatus::kRevoked ? summary.revoked : summary.held);
      if (std::find(summary.issuers_changed.begin(), summary.issuers_changed.end(),
                    keys[i].issuer) == summary.issuers_changed.end()) {
        summary.issuers_changed.push_back(keys[i].issuer);
      }
    }
  }
}

}  // namespace

std::vector<RegisteredIssuer> register_issuers(WriteTransaction& txn,
                                               const config::Configuration& config) {
  std::vector<RegisteredIssuer> out;
  for (const auto& issuer : config.issuers) {
    std::vector<pki::X509Certificate> loaded;
    try {
      loaded = pki::X509Certificate::load_file(issuer.certificate);
    } catch (const Error& e) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("{}: issuer '{}': {}", config.source, issuer.name, e.what()));
    }
    pki::X509Certificate& certificate = loaded.front();
    const std::string der = certificate.der();
    IssuerId id = 0;
    // CRL shards: new certificates are bound to one of the configured count (an issuer whose
    // CRLs are made elsewhere has one).
    const std::uint16_t shards = issuer.crl ? issuer.crl->shards : 1;
    const std::string origin = issuer.crl ? issuer.crl->shards_origin : config.source;
    std::uint16_t bound_under = shards;
    if (auto stored = txn.issuer_by_name(issuer.name)) {
      if (stored->certificate_der != der) {
        throw Error(ErrorCode::kInvalidConfig,
                    fmt::format("{}: issuer '{}' is registered in the store with another "
                                "certificate than {}; an issuer's certificate cannot change "
                                "under its name, configure the new one under a new name",
                                config.source, issuer.name, issuer.certificate.string()));
      }
      id = stored->id;
      bound_under = bind_crl_shards(txn, std::move(*stored), shards, origin).configured;
    } else {
      IssuerRecord record;
      record.name = issuer.name;
      record.subject_der = certificate.subject_der();
      record.certificate_der = der;
      record.crl_shards = shards;
      record.unsharded_certificates = 0;
      id = txn.add_issuer(std::move(record));
    }
    out.push_back(RegisteredIssuer{id, issuer.name, std::move(certificate), bound_under});
  }
  return out;
}

ImportSummary import_certificates(Store& store, const config::Configuration& config,
                                  const ImportRequest& request, const Clock& clock) {
  const std::vector<ManifestEntry> entries = load_manifest(request.manifest);
  if (entries.empty()) {
    throw Error(ErrorCode::kInvalidManifest,
                fmt::format("{} lists no certificates", request.manifest.string()));
  }

  // Resolve every line to a file before touching the store.
  std::vector<std::filesystem::path> paths;
  if (request.sources.empty()) {
    for (const auto& entry : entries) {
      const std::filesystem::path named = entry.certificate;
      paths.push_back(named.is_absolute() ? named : request.manifest.parent_path() / named);
    }
  } else {
    auto files = collect_files(request.sources);
    for (const auto& entry : entries) {
      const std::string name = std::filesystem::path(entry.certificate).filename().string();
      const auto it = files.find(name);
      if (it == files.end()) {
        fail_line(ErrorCode::kInvalidManifest, request, entry,
                  fmt::format("certificate file {} is not among the files given to import", name));
      }
      paths.push_back(it->second);
      files.erase(it);
    }
    if (!files.empty()) {
      throw Error(ErrorCode::kInvalidManifest,
                  fmt::format("{} has no line in the manifest {}; add one, or leave the file out",
                              files.begin()->second.string(), request.manifest.string()));
    }
  }

  const UnixTime now = clock();
  WriteTransaction txn = store.write();
  const std::vector<RegisteredIssuer> issuers = register_issuers(txn, config);
  ImportSummary summary;

  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ManifestEntry& entry = entries[i];
    try {
      const auto certificates = pki::X509Certificate::load_file(paths[i]);
      add_entry(txn, config, issuers, entry, certificates, paths[i].string(), request.operator_name,
                now, summary);
    } catch (const Error& e) {
      fail_line(e.code(), request, entry, e.what());
    }
  }

  AuditRecord audit;
  audit.kind = AuditKind::kImport;
  audit.time = now;
  audit.process = "Import";
  audit.target_kind = "import";
  audit.target_id = request.manifest.filename().string();
  audit.operator_name = request.operator_name;
  audit.note =
      fmt::format("{} certificates, {} new users, {} new credentials from {}", summary.certificates,
                  summary.users_created, summary.credentials_created, request.manifest.string());
  summary.audit_id = txn.append_audit(audit);
  txn.commit();
  return summary;
}

ImportSummary register_certificates(Store& store, const config::Configuration& config,
                                    const CertificateRegistration& registration,
                                    const Clock& clock) {
  check_identifier(registration.credential_id, "credential id");
  check_identifier(registration.user_id, "user id");
  ManifestEntry entry;
  entry.credential_id = registration.credential_id;
  entry.type = registration.type;
  entry.user_id = registration.user_id;
  entry.user_name = registration.user_name;
  const auto certificates =
      pki::X509Certificate::parse(registration.certificates, "the certificate");

  const UnixTime now = clock();
  WriteTransaction txn = store.write();
  const std::vector<RegisteredIssuer> issuers = register_issuers(txn, config);
  ImportSummary summary;
  add_entry(txn, config, issuers, entry, certificates, "the certificate",
            registration.operator_name, now, summary);

  AuditRecord audit;
  audit.kind = AuditKind::kImport;
  audit.time = now;
  audit.process = "Register";
  audit.target_kind = "credential";
  audit.target_id = registration.credential_id;
  audit.operator_name = registration.operator_name;
  // The first serials only: an audit record's text fields are bounded (64 KiB).
  std::vector<std::string> serials;
  for (const auto& certificate : certificates) {
    if (serials.size() == 20) {
      serials.push_back(fmt::format("and {} more", certificates.size() - 20));
      break;
    }
    serials.push_back(certificate.serial().hex());
  }
  audit.note = fmt::format("{} certificate(s) of {} {} of user {}: serial {}", certificates.size(),
                           to_string(registration.type), registration.credential_id,
                           registration.user_id, fmt::join(serials, ", "));
  summary.audit_id = txn.append_audit(audit);
  txn.commit();
  return summary;
}

}  // namespace revocore::importer
