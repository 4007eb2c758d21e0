// revocore: the command line. This file only parses arguments and maps errors to exit codes;
// the commands themselves are in commands.cpp.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/error.hpp"

namespace {

using revocore::cli::GlobalOptions;

// `user lock|deactivate|reactivate` and `card ...`: one subcommand per process.
void add_process_command(CLI::App& parent, const GlobalOptions& options, const std::string& verb,
                         std::string_view process, const std::string& target_name) {
  struct Args {
    std::string target;
    std::string reason;
    std::string invalidity_date;
    bool dry_run = false;
  };
  auto args = std::make_shared<Args>();
  auto* command = parent.add_subcommand(
      verb, fmt::format("run {} (`revocore reasons {}` lists the reasons)", process, process));
  command->add_option(target_name, args->target, fmt::format("the {}", target_name))->required();
  command->add_option("--reason,-r", args->reason, "one of the reasons configured for the process")
      ->required();
  command->add_option("--invalidity-date", args->invalidity_date,
                      "since when the key is known or suspected to be compromised, e.g. "
                      "2026-11-20 (RFC 5280 5.3.2)");
  command->add_flag("--dry-run", args->dry_run,
                    "print what it would change (each credential and certificate) and change "
                    "nothing");
  command->callback([&options, args, process] {
    revocore::cli::process_command(options, process, args->target, args->reason,
                                   args->invalidity_date, args->dry_run, std::cout);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"revocore: certificate revocation core (lifecycle processes, CRL and OCSP)"};
  app.require_subcommand(1);
  // Global options (--json, --data-dir, ...) are accepted after a subcommand too, as in
  // `revocore user show 1002 --json`: subcommands created below inherit this.
  app.fallthrough();
  GlobalOptions options;
  if (const char* from_env = std::getenv("REVOCORE_DATA_DIR"); from_env && *from_env) {
    options.data_dir = from_env;
  }
  app.add_option("--data-dir,-d", options.data_dir,
                 "data directory (default $REVOCORE_DATA_DIR or ./revocore-data)");
  app.add_option("--config,-c", options.config_file,
                 "configuration file (default <data-dir>/revocore.toml)");
  app.add_option("--operator,-o", options.operator_name,
                 "operator recorded in the audit (default $REVOCORE_OPERATOR or the login name)");
  app.add_flag("--json", options.json, "print read results as JSON");

  app.add_subcommand("init", "create a data directory with the default configuration")
      ->callback([&] { revocore::cli::init_command(options, std::cout); });

  auto* config = app.add_subcommand("config", "show or check the configuration");
  config->require_subcommand(1);
  config->add_subcommand("default", "print the built-in default configuration")->callback([] {
    std::cout << revocore::config::kDefaultConfigToml;
  });
  config->add_subcommand("check", "validate the configuration")->callback([&] {
    revocore::cli::config_check_command(options, std::cout);
  });

  std::filesystem::path manifest;
  std::vector<std::filesystem::path> sources;
  auto* import_cmd =
      app.add_subcommand("import", "register certificates with credentials and users");
  import_cmd->add_option("--manifest,-m", manifest, "CSV or JSON-lines manifest")->required();
  import_cmd->add_option("paths", sources,
                         "certificate files or directories (default: paths named in the manifest)");
  import_cmd->callback(
      [&] { revocore::cli::import_command(options, manifest, sources, std::cout); });

  std::string search_query;
  std::size_t search_limit = 20;
  std::size_t search_offset = 0;
  auto* search =
      app.add_subcommand("search",
                         "find users (id or name), credentials (id) and certificates (serial, or "
                         "ISSUER/SERIAL), by what they start with");
  search->add_option("query", search_query, "e.g. 1003, carl, card-10, 1A:2B, demo-issuing-ca/1A")
      ->required();
  search->add_option("--limit,-n", search_limit, "at most this many (default 20, at most 100)");
  search->add_option("--offset", search_offset, "skip this many (paging, at most 1000)");
  search->callback([&] {
    revocore::cli::search_command(options, search_query, search_limit, search_offset, std::cout);
  });

  std::string id;
  auto* user = app.add_subcommand("user", "show a user or run a user process");
  user->require_subcommand(1);
  auto* user_show = user->add_subcommand("show", "show a user, credentials and certificates");
  user_show->add_option("user", id, "user id")->required();
  user_show->callback([&] { revocore::cli::user_show_command(options, id, std::cout); });
  std::string prefix;
  std::size_t user_limit = 50;
  auto* user_list = user->add_subcommand("list", "list users, by id prefix");
  user_list->add_option("--prefix,-p", prefix, "only ids starting with this");
  user_list->add_option("--limit,-n", user_limit, "at most this many (default 50)");
  user_list->callback(
      [&] { revocore::cli::user_list_command(options, prefix, user_limit, std::cout); });
  std::optional<std::string> roles_to_set;
  auto* user_roles = user->add_subcommand(
      "roles", "show a user's roles, or --set them (what its operator certificates may do)");
  user_roles->add_option("user", id, "user id")->required();
  user_roles->add_option("--set", roles_to_set,
                         "the roles it holds from now on, comma-separated (\"\" for none); "
                         "each a [[role]] of the configuration or the default role");
  user_roles->callback(
      [&] { revocore::cli::user_roles_command(options, id, roles_to_set, std::cout); });
  add_process_command(*user, options, "lock", revocore::config::kUsersProcLock, "user");
  add_process_command(*user, options, "deactivate", revocore::config::kUsersProcDeactivate, "user");
  add_process_command(*user, options, "reactivate", revocore::config::kUsersProcReactivate, "user");

  auto* card = app.add_subcommand("card", "show a card or run a card process");
  card->require_subcommand(1);
  auto* card_show = card->add_subcommand("show", "show a credential and its certificates");
  card_show->add_option("card", id, "credential id")->required();
  card_show->callback([&] { revocore::cli::card_show_command(options, id, std::cout); });
  add_process_command(*card, options, "lock", revocore::config::kCardsProcLock, "card");
  add_process_command(*card, options, "deactivate", revocore::config::kCardsProcDeactivate, "card");
  add_process_command(*card, options, "reactivate", revocore::config::kCardsProcReactivate, "card");

  std::string process;
  auto* reasons = app.add_subcommand("reasons", "list the reasons each process offers");
  reasons->add_option("process", process, "symbolic process name, e.g. UsersProcLock");
  reasons->callback([&] { revocore::cli::reasons_command(options, process, std::cout); });

  std::uint64_t approval_id = 0;
  bool all = false;
  std::string note;
  auto* approvals = app.add_subcommand("approvals", "requests waiting for a second operator");
  approvals->require_subcommand(1);
  auto* list = approvals->add_subcommand("list", "list pending requests");
  list->add_flag("--all", all, "include approved and rejected requests");
  list->callback([&] { revocore::cli::approvals_list_command(options, all, std::cout); });
  auto* approve = approvals->add_subcommand("approve", "approve and apply a request");
  approve->add_option("id", approval_id, "request number")->required();
  approve->callback(
      [&] { revocore::cli::approvals_approve_command(options, approval_id, std::cout); });
  auto* reject = approvals->add_subcommand("reject", "reject a request; nothing is applied");
  reject->add_option("id", approval_id, "request number")->required();
  reject->add_option("--note", note, "why it was rejected, kept in the audit");
  reject->callback(
      [&] { revocore::cli::approvals_reject_command(options, approval_id, note, std::cout); });

  std::string issuer;
  std::string serial;
  auto* cert = app.add_subcommand("cert", "one certificate: status, revoke, hold, release");
  cert->require_subcommand(1);
  auto* status = cert->add_subcommand("status", "status of one certificate");
  status->add_option("issuer", issuer, "configured issuer name")->required();
  status->add_option("serial", serial, "serial number in hexadecimal")->required();
  status->callback([&] { revocore::cli::cert_status_command(options, issuer, serial, std::cout); });
  // One certificate by issuer and serial: CertsProcRevoke, CertsProcHold, CertsProcRelease.
  for (const auto& [verb, process] : {std::pair{"revoke", revocore::config::kCertsProcRevoke},
                                      std::pair{"hold", revocore::config::kCertsProcHold},
                                      std::pair{"release", revocore::config::kCertsProcRelease}}) {
    struct Args {
      std::string issuer;
      std::string serial;
      std::string reason;
      std::string invalidity_date;
      bool dry_run = false;
    };
    auto args = std::make_shared<Args>();
    auto* command = cert->add_subcommand(
        verb, fmt::format("run {} on one certificate (`revocore reasons {}` lists the reasons)",
                          process, process));
    command->add_option("issuer", args->issuer, "configured issuer name")->required();
    command->add_option("serial", args->serial, "serial number in hexadecimal")->required();
    command->add_option("--reason,-r", args->reason, "one of the reasons configured")->required();
    command->add_option("--invalidity-date", args->invalidity_date,
                        "since when the key is known or suspected to be compromised (RFC 5280 "
                        "5.3.2)");
    command->add_flag("--dry-run", args->dry_run, "print what it would change; change nothing");
    command->callback([&options, args, process = process] {
      revocore::cli::process_command(
          options, process, revocore::lifecycle::certificate_target(args->issuer, args->serial),
          args->reason, args->invalidity_date, args->dry_run, std::cout);
    });
  }

  std::size_t limit = 50;
  auto* audit = app.add_subcommand("audit", "list the audit trail, newest first");
  audit->add_option("--limit,-n", limit, "how many records (default 50)");
  audit->callback([&] { revocore::cli::audit_command(options, limit, std::cout); });

  std::string crl_issuer;
  bool delta = false;
  bool if_due = false;
  std::filesystem::path crl_file;
  auto* crl = app.add_subcommand("crl", "certificate revocation lists (RFC 5280)");
  crl->require_subcommand(1);
  auto* generate = crl->add_subcommand("generate", "make and publish CRLs now");
  generate->add_option("--issuer", crl_issuer, "one issuer (default: every issuer with a key)");
  generate->add_flag("--delta", delta, "a delta CRL over the last full CRL (RFC 5280 5.2.4)");
  int crl_shard = -1;
  generate
      ->add_option("--shard", crl_shard,
                   "one CRL shard of the issuer (default: every shard; docs/CRL.md)")
      ->check(CLI::Range(0, 1023));
  generate->add_flag("--if-due", if_due,
                     "only full CRLs whose nextUpdate minus the overlap has come (for a timer)");
  generate->callback([&] {
    revocore::cli::crl_generate_command(options, crl_issuer, delta, if_due, crl_shard, std::cout);
  });
  unsigned interval = 60;
  auto* watch = crl->add_subcommand("watch", "regenerate CRLs as they come due, until SIGTERM");
  watch->add_option("--interval", interval, "seconds between checks (default 60)");
  watch->callback([&] { revocore::cli::crl_watch_command(options, interval, std::cout); });
  std::string shard_issuer;
  std::string shard_serial;
  auto* shard = crl->add_subcommand(
      "shard", "the CRL shard and URL of a certificate, for issuance to embed as its CDP");
  shard->add_option("issuer", shard_issuer, "configured issuer name")->required();
  shard->add_option("serial", shard_serial, "serial number in hexadecimal")->required();
  shard->callback(
      [&] { revocore::cli::crl_shard_command(options, shard_issuer, shard_serial, std::cout); });
  auto* show = crl->add_subcommand("show", "print a CRL file (DER or PEM)");
  show->add_option("file", crl_file, "CRL file")->required();
  show->callback([&] { revocore::cli::crl_show_command(options, crl_file, std::cout); });

  std::string listen;
  unsigned threads = 0;
  auto* serve =
      app.add_subcommand("serve",
                         "run the OCSP responder (and serve CRLs), and the operator API when "
                         "[admin] is configured, until SIGTERM");
  serve->add_option("--listen", listen, "ADDRESS:PORT (default from [ocsp] listen)");
  serve->add_option("--threads", threads, "worker threads (default from [ocsp] threads)");
  std::string admin_listen;
  serve->add_option("--admin-listen", admin_listen,
                    "ADDRESS:PORT of the operator API (default from [admin] listen)");
  serve->callback(
      [&] { revocore::cli::serve_command(options, listen, threads, admin_listen, std::cout); });

  auto* ocsp = app.add_subcommand("ocsp", "OCSP responses");
  ocsp->require_subcommand(1);
  std::string presign_issuer;
  auto* presign = ocsp->add_subcommand(
      "presign", "sign and store responses for every certificate, so serving needs no signing");
  presign->add_option("--issuer", presign_issuer, "one issuer (default: all)");
  presign->callback(
      [&] { revocore::cli::ocsp_presign_command(options, presign_issuer, std::cout); });

  std::filesystem::path batch_file;
  std::string batch_reason;
  bool batch_credentials = false;
  std::size_t chunk = 10000;
  std::uint64_t job_id = 0;
  auto* batch = app.add_subcommand("batch", "mass locks as batch jobs that survive a crash");
  batch->require_subcommand(1);
  auto* batch_lock = batch->add_subcommand("lock", "lock every user (or credential) in a file");
  batch_lock->add_option("--file,-f", batch_file, "one user id (or credential id) per line")
      ->required();
  batch_lock->add_option("--reason,-r", batch_reason, "a reason configured for the process")
      ->required();
  batch_lock->add_flag("--credentials", batch_credentials,
                       "the file lists credentials (Lock card) rather than users (Lock user)");
  batch_lock->add_option("--chunk", chunk, "targets per transaction (default 10000)");
  batch_lock->callback([&] {
    revocore::cli::batch_lock_command(options, batch_file, batch_reason, batch_credentials, chunk,
                                      std::cout);
  });
  auto* batch_resume = batch->add_subcommand("resume", "continue a job that was stopped");
  batch_resume->add_option("id", job_id, "job number")->required();
  batch_resume->add_option("--chunk", chunk, "targets per transaction (default 10000)");
  batch_resume->callback(
      [&] { revocore::cli::batch_resume_command(options, job_id, chunk, std::cout); });
  auto* batch_status = batch->add_subcommand("status", "list jobs, or one job with its failures");
  batch_status->add_option("id", job_id, "job number");
  batch_status->callback([&] { revocore::cli::batch_status_command(options, job_id, std::cout); });

  bool force = false;
  auto* demo = app.add_subcommand("demo", "build a demo data directory and run each process");
  demo->add_flag("--force", force, "replace an earlier demo in the same directory");
  demo->callback([&] { revocore::cli::demo_command(options, force, std::cout); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every usage error exits 2, as documented (CLI11's own codes,
    // 105-109, say which parser check failed, which a script cannot act on).
    const int parser_code = app.exit(e);
    return parser_code == 0 ? 0 : 2;
  } catch (const revocore::Error& e) {
    std::cout.flush();
    std::cerr << "revocore: error: " << e.what() << "\n";
    return revocore::exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "revocore: unexpected error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
