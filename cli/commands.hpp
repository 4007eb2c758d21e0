#pragma once
// The bodies of `revocore` commands, separate from argument parsing (main.cpp) so that tests can
// run them in-process. Each writes its report to `out` and throws revocore::Error on failure.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::cli {

struct GlobalOptions {
  std::filesystem::path data_dir = "revocore-data";
  std::filesystem::path config_file;  // empty: <data_dir>/revocore.toml
  std::string operator_name;          // empty: $REVOCORE_OPERATOR, then the login name
  bool json = false;
  Clock clock = system_clock();

  std::filesystem::path config_path() const;
  std::filesystem::path store_path() const { return data_dir / "store"; }
  std::string operator_or_default() const;
};

// A data directory opened for a command: its configuration and store.
struct DataDirectory {
  config::Configuration config;
  Store store;

  static DataDirectory open(const GlobalOptions& options);
  // The same for a command that changes the store: refused on a replica, whose store only the
  // stream writes (docs/REPLICATION.md). `what` names the command for the message.
  static DataDirectory open_writer(const GlobalOptions& options, std::string_view what);
};

// After a process or approval committed: regenerates the CRLs of the issuers it changed.
// Throws kCrlNotPublished (the change itself stays committed) when publishing fails.
void publish_crls_after(DataDirectory& dir, const GlobalOptions& options,
                        const lifecycle::ProcessOutcome& outcome, std::ostream& out);

void init_command(const GlobalOptions& options, std::ostream& out);
void config_check_command(const GlobalOptions& options, std::ostream& out);
void import_command(const GlobalOptions& options, const std::filesystem::path& manifest,
                    const std::vector<std::filesystem::path>& sources, std::ostream& out);

void user_show_command(const GlobalOptions& options, const std::string& user_id, std::ostream& out);
// Prints the user's roles; with `set`, replaces them first (comma-separated; empty: none).
void user_roles_command(const GlobalOptions& options, const std::string& user_id,
                        const std::optional<std::string>& set, std::ostream& out);
// `revocore search QUERY`: users, credentials and certificates, as GET /api/v1/search.
void search_command(const GlobalOptions& options, const std::string& query, std::size_t limit,
                    std::size_t offset, std::ostream& out);
void user_list_command(const GlobalOptions& options, const std::string& prefix, std::size_t limit,
                       std::ostream& out);
void card_show_command(const GlobalOptions& options, const std::string& credential_id,
                       std::ostream& out);
// Runs a lifecycle process by symbolic name on a user or credential.
// `invalidity_date` is empty or a date as parse_time reads it. `dry_run`: print what it would
// change (the API's ?dry_run=true preview) and change nothing.
void process_command(const GlobalOptions& options, std::string_view process,
                     const std::string& target_id, const std::string& reason,
                     const std::string& invalidity_date, bool dry_run, std::ostream& out);
void reasons_command(const GlobalOptions& options, const std::string& process, std::ostream& out);

void approvals_list_command(const GlobalOptions& options, bool all, std::ostream& out);
void approvals_approve_command(const GlobalOptions& options, std::uint64_t id, std::ostream& out);
void approvals_reject_command(const GlobalOptions& options, std::uint64_t id,
                              const std::string& note, std::ostream& out);

void cert_status_command(const GlobalOptions& options, const std::string& issuer,
                         const std::string& serial, std::ostream& out);
void audit_command(const GlobalOptions& options, std::size_t limit, std::ostream& out);

// `crl shard ISSUER SERIAL`: the CRL shard (and its URL) a certificate is listed in, or, not
// registered yet, the one registration will bind it to: what issuance embeds as its CRL
// distribution point (docs/CRL.md).
void crl_shard_command(const GlobalOptions& options, const std::string& issuer,
                       const std::string& serial_hex, std::ostream& out);

// `crl generate`: full CRLs (or deltas) for one issuer or every issuer with CRLs; with `if_due`
// only those whose nextUpdate minus the overlap has come.
void crl_generate_command(const GlobalOptions& options, const std::string& issuer, bool delta,
                          bool if_due, int shard, std::ostream& out);
// `crl watch`: regenerates due CRLs every `interval_seconds` until SIGTERM or SIGINT.
void crl_watch_command(const GlobalOptions& options, unsigned interval_seconds, std::ostream& out);
void crl_show_command(const GlobalOptions& options, const std::filesystem::path& file,
                      std::ostream& out);

// `serve`: the OCSP responder, and the operator API when [admin] is configured, until SIGTERM.
// `listen` and `admin_listen` ("ADDRESS:PORT", port 0 picks one) and `threads` override the
// configuration when set.
void serve_command(const GlobalOptions& options, const std::string& listen, unsigned threads,
                   const std::string& admin_listen, std::ostream& out);
// `ocsp presign`: signs and stores responses for every certificate of the issuer(s).
void ocsp_presign_command(const GlobalOptions& options, const std::string& issuer,
                          std::ostream& out);

// `batch lock`: a crash-safe job locking every user (or credential) listed in `file`.
void batch_lock_command(const GlobalOptions& options, const std::filesystem::path& file,
                        const std::string& reason, bool credentials, std::size_t chunk,
                        std::ostream& out);
void batch_resume_command(const GlobalOptions& options, std::uint64_t id, std::size_t chunk,
                          std::ostream& out);
void batch_status_command(const GlobalOptions& options, std::uint64_t id, std::ostream& out);

// Builds a complete demo in options.data_dir: a CA hierarchy, users with credentials and real
// certificates, then one run of each process. `force` replaces an earlier demo directory.
void demo_command(const GlobalOptions& options, bool force, std::ostream& out);

}  // namespace revocore::cli
