#include "cli/commands.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "cli/output.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "lifecycle/crl_regeneration.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "lifecycle/user_roles.hpp"
#include "revocation/error.hpp"
#include "revocation/search.hpp"

namespace revocore::cli {

std::filesystem::path GlobalOptions::config_path() const {
  return config_file.empty() ? data_dir / "revocore.toml" : config_file;
}

std::string GlobalOptions::operator_or_default() const {
  if (!operator_name.empty()) {
    return operator_name;
  }
  if (const char* from_env = std::getenv("REVOCORE_OPERATOR"); from_env && *from_env) {
    return from_env;
  }
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) {
    return entry->pw_name;
  }
  throw Error(ErrorCode::kInvalidArgument,
              "cannot tell who the operator is; pass --operator NAME or set REVOCORE_OPERATOR");
}

DataDirectory DataDirectory::open(const GlobalOptions& options) {
  config::Configuration config = config::Configuration::load_file(options.config_path());
  Store store = Store::open(options.store_path(), StoreOptions{config.map_size_bytes});
  return DataDirectory{std::move(config), std::move(store)};
}

DataDirectory DataDirectory::open_writer(const GlobalOptions& options, std::string_view what) {
  DataDirectory dir = open(options);
  if (dir.config.replica) {
    throw Error(ErrorCode::kWrongState,
                fmt::format("{} is a replica of stream {} ([replica] in {}): only the stream "
                            "changes its store; run `{}` on the writer",
                            options.data_dir.string(), dir.config.replica->nats.stream,
                            dir.config.source, what));
  }
  return dir;
}

void publish_crls_after(DataDirectory& dir, const GlobalOptions& options,
                        const lifecycle::ProcessOutcome& outcome, std::ostream& out) {
  const auto published = lifecycle::regenerate_crls(
      dir.store, dir.config, options.clock, outcome.batch.issuers_changed,
      fmt::format("the process was applied and committed (audit #{})", outcome.audit.id),
      "`revocore crl generate`");
  if (!options.json) {
    for (const auto& crl : published) {
      print_published(out, crl);
    }
  }
}

void init_command(const GlobalOptions& options, std::ostream& out) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIo, fmt::format("cannot create the data directory {}: {}",
                                            options.data_dir.string(), ec.message()));
  }
  const auto config_file = options.config_path();
  if (!std::filesystem::exists(config_file)) {
    std::ofstream file(config_file);
    file << config::kDefaultConfigToml;
    if (!file) {
      throw Error(ErrorCode::kIo, fmt::format("cannot write {}", config_file.string()));
    }
    fmt::print(out, "wrote the default configuration to {}\n", config_file.string());
  }
  const config::Configuration config = config::Configuration::load_file(config_file);
  Store store = Store::create(options.store_path(), StoreOptions{config.map_size_bytes});
  if (config.replica) {
    // A replica's issuers come from the stream, under the writer's ids (docs/REPLICATION.md).
    fmt::print(out,
               "replica store ready in {} (schema {}); `revocore serve` fills it from stream "
               "{}\n",
               options.store_path().string(), Store::kSchemaVersion, config.replica->nats.stream);
    return;
  }
  WriteTransaction txn = store.write();
  const auto issuers = importer::register_issuers(txn, config);
  txn.commit();
  fmt::print(out, "store ready in {} (schema {}), {} issuer(s) registered\n",
             options.store_path().string(), Store::kSchemaVersion, issuers.size());
  if (issuers.empty()) {
    fmt::print(out, "next: add an [[issuer]] to {} and run `revocore import`\n",
               config_file.string());
  }
}

void config_check_command(const GlobalOptions& options, std::ostream& out) {
  const auto config = config::Configuration::load_file(options.config_path());
  fmt::print(out, "{} is valid: {} processes, {} issuer(s), default role '{}'\n", config.source,
             config.processes.size(), config.issuers.size(), config.default_role);
}

void import_command(const GlobalOptions& options, const std::filesystem::path& manifest,
                    const std::vector<std::filesystem::path>& sources, std::ostream& out) {
  DataDirectory dir = DataDirectory::open_writer(options, "revocore import");
  importer::ImportRequest request{manifest, sources, options.operator_or_default()};
  const auto summary = importer::import_certificates(dir.store, dir.config, request, options.clock);
  // Certificates registered on credentials that are not active were held or revoked: their
  // issuers' CRLs are regenerated, as after a process.
  const auto published = lifecycle::regenerate_crls(
      dir.store, dir.config, options.clock, summary.issuers_changed,
      fmt::format("the import was committed (audit #{})", summary.audit_id),
      "`revocore crl generate`");
  if (options.json) {
    print_json(out, boost::json::object{{"certificates", summary.certificates},
                                        {"users_created", summary.users_created},
                                        {"credentials_created", summary.credentials_created},
                                        {"held", summary.held},
                                        {"revoked", summary.revoked},
                                        {"audit", summary.audit_id}});
    return;
  }
  fmt::print(out, "imported {} certificates ({} new users, {} new credentials), audit #{}\n",
             summary.certificates, summary.users_created, summary.credentials_created,
             summary.audit_id);
  if (summary.held + summary.revoked != 0) {
    fmt::print(out, "  {} put on hold and {} revoked at once: their credentials are not active\n",
               summary.held, summary.revoked);
  }
  for (const auto& crl : published) {
    print_published(out, crl);
  }
}

void user_roles_command(const GlobalOptions& options, const std::string& user_id,
                        const std::optional<std::string>& set, std::ostream& out) {
  std::vector<std::string> roles;
  if (set) {
    DataDirectory dir = DataDirectory::open_writer(options, "user roles --set");
    std::string_view rest = *set;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view role = rest.substr(0, comma);
      while (!role.empty() && role.front() == ' ')
        role.remove_prefix(1);
      while (!role.empty() && role.back() == ' ')
        role.remove_suffix(1);
      if (!role.empty()) {
        roles.emplace_back(role);
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    const AuditRecord audit = lifecycle::set_user_roles(
        dir.store, dir.config, user_id, roles, options.operator_or_default(), options.clock());
    roles = audit.roles_after;
  } else {
    DataDirectory dir = DataDirectory::open(options);
    const auto user = dir.store.read().user(user_id);
    if (!user) {
      throw Error(ErrorCode::kNotFound, fmt::format("user {} does not exist", user_id));
    }
    roles = user->roles;
  }
  if (options.json) {
    boost::json::array list;
    for (const auto& role : roles) {
      list.emplace_back(role);
    }
    print_json(out, boost::json::object{{"user", user_id}, {"roles", std::move(list)}});
  } else {
    fmt::print(out, "user {} roles: {}\n", user_id,
               roles.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(roles, ", ")));
  }
}

void user_show_command(const GlobalOptions& options, const std::string& user_id,
                       std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const auto user = txn.user(user_id);
  if (!user) {
    throw Error(
        ErrorCode::kNotFound,
        fmt::format("user {} does not exist; `revocore user list --prefix {}` lists the "
                    "users whose id starts the same way",
                    user_id, user_id.substr(0, std::max<std::size_t>(1, user_id.size() / 2))));
  }
  if (options.json) {
    print_json(out, user_json(txn, *user));
  } else {
    print_user(out, txn, *user);
  }
}

void user_list_command(const GlobalOptions& options, const std::string& prefix, std::size_t limit,
                       std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const auto users = txn.users_with_prefix(prefix, limit);
  if (options.json) {
    boost::json::array listed;
    for (const auto& user : users) {
      listed.emplace_back(boost::json::object{
          {"id", user.id}, {"name", user.name}, {"state", to_string(user.state)}});
    }
    print_json(out, listed);
    return;
  }
  for (const auto& user : users) {
    fmt::print(out, "{} {} ({})\n", user.id, user.name.empty() ? "-" : user.name,
               to_string(user.state));
  }
  if (users.empty()) {
    fmt::print(out, "no user id starts with '{}'\n", prefix);
  } else if (users.size() == limit) {
    fmt::print(out, "... the first {}; narrow --prefix or raise --limit\n", limit);
  }
}

void search_command(const GlobalOptions& options, const std::string& query, std::size_t limit,
                    std::size_t offset, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const SearchPage page = search(txn, query, limit, offset);
  if (options.json) {
    print_json(out, search_json(txn, page, limit, offset));
    return;
  }
  for (const auto& hit : page.hits) {
    switch (hit.kind) {
      case SearchHit::Kind::kUser:
        fmt::print(out, "user {} {} ({})\n", hit.user.id,
                   hit.user.name.empty() ? "-" : hit.user.name, to_string(hit.user.state));
        break;
      case SearchHit::Kind::kCredential:
        fmt::print(out, "{} {} of user {} ({})\n", to_string(hit.credential.type),
                   hit.credential.id, hit.credential.user_id, to_string(hit.credential.state));
        break;
      case SearchHit::Kind::kCertificate:
        fmt::print(out, "certificate {}/{} of {} ({}) {}\n",
                   issuer_name(txn, hit.certificate_key.issuer), hit.certificate_key.serial.hex(),
                   hit.certificate.credential_id, to_string(hit.certificate.status),
                   hit.certificate.subject);
        break;
    }
  }
  if (page.hits.empty()) {
    fmt::print(out, "nothing matches '{}'\n", query);
  } else if (page.more) {
    fmt::print(out, "... more: --offset {} for the next {}\n", offset + limit, limit);
  }
}

void card_show_command(const GlobalOptions& options, const std::string& credential_id,
                       std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const auto credential = txn.credential(credential_id);
  if (!credential) {
    throw Error(ErrorCode::kNotFound, fmt::format("credential {} does not exist", credential_id));
  }
  if (options.json) {
    print_json(out, credential_json(txn, *credential));
  } else {
    print_credential(out, txn, *credential, "");
  }
}

void process_command(const GlobalOptions& options, std::string_view process,
                     const std::string& target_id, const std::string& reason,
                     const std::string& invalidity_date, bool dry_run, std::ostream& out) {
  lifecycle::ProcessRequest request{std::string(process), target_id, reason,
                                    options.operator_or_default(), std::nullopt};
  if (!invalidity_date.empty()) {
    request.invalidity_date = parse_time(invalidity_date, "--invalidity-date");
  }
  DataDirectory dir = DataDirectory::open_writer(options, "the process");
  lifecycle::LifecycleProcesses processes(dir.store, dir.config, options.clock);
  if (dry_run) {
    const auto preview = processes.preview(request);
    const StoreTransaction txn = dir.store.read();
    if (options.json) {
      print_json(out, api::preview_json(txn, preview));
    } else {
      print_preview(out, txn, dir.config.process(process), preview);
    }
    return;
  }
  const auto outcome = processes.run(request);
  if (options.json) {
    print_json(out, outcome_json(outcome));
  } else {
    print_outcome(out, dir.config.process(process), outcome);
  }
  publish_crls_after(dir, options, outcome, out);
}

void reasons_command(const GlobalOptions& options, const std::string& process, std::ostream& out) {
  const auto config = config::Configuration::load_file(options.config_path());
  if (!process.empty()) {
    config.process(process);  // throws the "not configured" error
  }
  boost::json::object all = api::processes_json(config);
  if (!process.empty()) {
    all = boost::json::object{{process, all.at(process)}};
  }
  if (options.json) {
    print_json(out, all);
    return;
  }
  for (const auto& [name, policy] : config.processes) {
    if (!process.empty() && name != process) {
      continue;
    }
    fmt::print(out, "{} ({}){}\n", policy.title, name, policy.approval ? ", needs approval" : "");
    for (const auto& reason : policy.reasons) {
      fmt::print(out, "  \"{}\" -> {}\n", reason.label, to_string(reason.code));
    }
  }
}

void approvals_list_command(const GlobalOptions& options, bool all, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  lifecycle::LifecycleProcesses(dir.store, dir.config, options.clock).retire_pending();
  const StoreTransaction txn = dir.store.read();
  boost::json::array listed;
  for (const auto& request : txn.approvals()) {
    if (!all && request.status != ApprovalStatus::kPending) {
      continue;
    }
    if (options.json) {
      listed.emplace_back(approval_json(request));
    } else {
      print_approval(out, request);
    }
  }
  if (options.json) {
    print_json(out, listed);
  } else if (listed.empty() && txn.approvals().empty()) {
    fmt::print(out, "no approval requests\n");
  }
}

namespace {

// The command line has no authenticated identity (-o is only a label): a second operator's
// approval there means nothing unless the administrator says local approvals are trusted.
void require_local_approvals(const DataDirectory& dir, std::string_view command) {
  if (!dir.config.authorization.local_approvals) {
    throw Error(ErrorCode::kPermissionDenied,
                fmt::format("`revocore {}` is refused: the command line cannot tell who the second "
                            "operator is (-o is only a label); approve through the operator API "
                            "with a client certificate, or set local_approvals = true in "
                            "[authorization] of {} (docs/AUTHORIZATION.md)",
                            command, dir.config.source));
  }
}

}  // namespace

void approvals_approve_command(const GlobalOptions& options, std::uint64_t id, std::ostream& out) {
  DataDirectory dir = DataDirectory::open_writer(options, "approvals approve");
  require_local_approvals(dir, "approvals approve");
  lifecycle::LifecycleProcesses processes(dir.store, dir.config, options.clock);
  const auto outcome = processes.approve(id, options.operator_or_default());
  if (options.json) {
    print_json(out, outcome_json(outcome));
  } else {
    fmt::print(out, "approval request #{} approved and applied\n", id);
    print_outcome(out, dir.config.process(outcome.audit.process), outcome);
  }
  publish_crls_after(dir, options, outcome, out);
}

void approvals_reject_command(const GlobalOptions& options, std::uint64_t id,
                              const std::string& note, std::ostream& out) {
  DataDirectory dir = DataDirectory::open_writer(options, "approvals reject");
  require_local_approvals(dir, "approvals reject");
  lifecycle::LifecycleProcesses processes(dir.store, dir.config, options.clock);
  const auto audit = processes.reject(id, options.operator_or_default(), note);
  if (options.json) {
    print_json(out, audit_json(audit));
  } else {
    fmt::print(out, "approval request #{} rejected; nothing changed (audit #{})\n", id, audit.id);
  }
}

void cert_status_command(const GlobalOptions& options, const std::string& issuer,
                         const std::string& serial, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const auto [key, record] = api::find_certificate(txn, issuer, serial);
  if (options.json) {
    print_json(out, certificate_json(txn, key, record, &dir.config));
  } else {
    print_certificate(out, txn, key, record, "");
    const boost::json::object located = certificate_json(txn, key, record, &dir.config);
    if (const auto* url = located.if_contains("crl_distribution_point")) {
      fmt::print(out, "  listed in CRL shard {}: {}\n", located.at("crl_shard").to_number<int>(),
                 url->as_string().c_str());
    }
  }
}

void audit_command(const GlobalOptions& options, std::size_t limit, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const StoreTransaction txn = dir.store.read();
  const auto records = txn.audit(limit);
  if (options.json) {
    boost::json::array listed;
    for (const auto& record : records) {
      listed.emplace_back(audit_json(record));
    }
    print_json(out, listed);
    return;
  }
  if (records.empty()) {
    fmt::print(out, "the audit trail is empty\n");
  }
  for (const auto& record : records) {
    print_audit(out, record);
  }
}

}  // namespace revocore::cli
