// `revocore demo`: a self-contained demonstration in a data directory. It makes a CA hierarchy
// with OpenSSL, issues real certificates for a handful of users' credentials, imports them
// through the same path as `revocore import`, and runs each lifecycle process once.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <fstream>

#include "cli/commands.hpp"
#include "cli/demo_pki.hpp"
#include "cli/output.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/error.hpp"

namespace revocore::cli {
namespace {

// Marks a directory as made by `revocore demo`, so --force never deletes anything else.
constexpr const char* kDemoMarker = ".revocore-demo";
constexpr UnixTime kDay = 24 * 60 * 60;

struct DemoCredential {
  const char* id;
  CredentialType type;
  int certificates;  // cards carry an authentication and a signature certificate
};
struct DemoUser {
  const char* id;
  const char* name;
  std::vector<DemoCredential> credentials;
};

// Whose certificates' private keys the demo keeps (pki/holder-<credential>.pem and .key).
constexpr std::string_view kSelfServiceUser = "1003";

std::vector<DemoUser> demo_users() {
  return {
      {"1001",
       "Alice Andersson",
       {{"card-1001", CredentialType::kCard, 2},
        {"mobile-1001", CredentialType::kMobileId, 1},
        {"soft-1001", CredentialType::kSoftToken, 1}}},
      {"1002",
       "Bertil Berg",
       {{"card-1002", CredentialType::kCard, 2},
        {"tempcard-1002", CredentialType::kTemporaryCard, 1},
        {"vsc-1002", CredentialType::kVirtualSmartCard, 1}}},
      {"1003",
       "Cecilia Carlsson",
       {{"card-1003", CredentialType::kCard, 2}, {"mobile-1003", CredentialType::kMobileId, 1}}},
      {"1004",
       "David Dahl",
       {{"card-1004", CredentialType::kCard, 2},
        {"soft-1004", CredentialType::kSoftToken, 1},
        {"vsc-1004", CredentialType::kVirtualSmartCard, 1}}},
      {"1005",
       "Eva Ek",
       {{"card-1005", CredentialType::kCard, 2},
        {"tempcard-1005", CredentialType::kTemporaryCard, 1},
        {"mobile-1005", CredentialType::kMobileId, 1}}},
  };
}

void prepare_directory(const std::filesystem::path& dir, bool force) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    if (!std::filesystem::exists(dir / kDemoMarker)) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} exists and was not made by `revocore demo`; choose an empty "
                              "or new --data-dir",
                              dir.string()));
    }
    if (!force) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} already holds a demo; pass --force to rebuild it", dir.string()));
    }
    std::filesystem::remove_all(dir);
  }
  std::filesystem::create_directories(dir / "pki");
  std::filesystem::create_directories(dir / "import");
  std::ofstream(dir / kDemoMarker) << "made by revocore demo\n";
}

}  // namespace

void demo_command(const GlobalOptions& options, bool force, std::ostream& out) {
  const std::filesystem::path& dir = options.data_dir;
  prepare_directory(dir, force);
  const UnixTime now = options.clock();
  const std::string operator_name = options.operator_or_default();

  // 1. A CA hierarchy: root, issuing CA, and the OCSP responder certificate the responder will use.
  const pki::IssuedCertificate root =
      pki::issue_certificate({pki::CertificateRole::kRootCa, "revocore demo root CA",
                              "revocore demo", now - kDay, now + 3650 * kDay},
                             nullptr);
  const pki::IssuedCertificate issuing =
      pki::issue_certificate({pki::CertificateRole::kIssuingCa, "revocore demo issuing CA",
                              "revocore demo", now - kDay, now + 1825 * kDay},
                             &root);
  const pki::IssuedCertificate responder =
      pki::issue_certificate({pki::CertificateRole::kOcspResponder, "revocore demo OCSP responder",
                              "revocore demo", now - kDay, now + 365 * kDay},
                             &issuing);
  // The operator API: an operator CA for operators' client certificates (an issuer of revocore's
  // own, so locking an operator in revocore also locks them out of the API), and the listener's
  // TLS certificate for 127.0.0.1.
  const pki::IssuedCertificate operator_ca =
      pki::issue_certificate({pki::CertificateRole::kIssuingCa, "revocore demo operator CA",
                              "revocore demo", now - kDay, now + 1825 * kDay},
                             &root);
  const pki::IssuedCertificate admin_server =
      pki::issue_certificate({pki::CertificateRole::kTlsServer, "localhost", "revocore demo",
                              now - kDay, now + 365 * kDay},
                             &root);
  pki::write_certificate_pem(dir / "pki/operator-ca.pem", operator_ca.certificate);
  pki::write_private_key_pem(dir / "pki/operator-ca.key", operator_ca.key.get());
  pki::write_certificate_pem(dir / "pki/admin-server.pem", admin_server.certificate);
  pki::write_private_key_pem(dir / "pki/admin-server.key", admin_server.key.get());
  pki::write_certificate_pem(dir / "pki/root-ca.pem", root.certificate);
  pki::write_private_key_pem(dir / "pki/root-ca.key", root.key.get());
  pki::write_certificate_pem(dir / "pki/issuing-ca.pem", issuing.certificate);
  pki::write_private_key_pem(dir / "pki/issuing-ca.key", issuing.key.get());
  pki::write_certificate_pem(dir / "pki/ocsp-responder.pem", responder.certificate);
  pki::write_private_key_pem(dir / "pki/ocsp-responder.key", responder.key.get());
  fmt::print(out,
             "1. CA hierarchy in {}: root CA, issuing CA, OCSP responder certificate, operator "
             "CA, operator API server certificate\n",
             (dir / "pki").string());

  // 2. The configuration: the default policy plus the demo issuer.
  {
    std::ofstream config(options.config_path());
    config << config::kDefaultConfigToml
           << "\n# Added by `revocore demo`.\n[[issuer]]\nname = \"demo-issuing-ca\"\n"
              "certificate = \"pki/issuing-ca.pem\"\n"
              "private_key = \"pki/issuing-ca.key\"\n"
              "publish_directory = \"crl\"\n"
              "distribution_point = \"http://127.0.0.1:8080/crl/demo-issuing-ca.crl\"\n"
              "delta_crls = true\n"
              "delta_distribution_point = \"http://127.0.0.1:8080/crl/demo-issuing-ca-delta.crl\"\n"
              "crl_pem = true\n"
              "ocsp_certificate = \"pki/ocsp-responder.pem\"\n"
              "ocsp_private_key = \"pki/ocsp-responder.key\"\n"
              "\n[[issuer]]\nname = \"demo-operator-ca\"\n"
              "certificate = \"pki/operator-ca.pem\"\n"
              "private_key = \"pki/operator-ca.key\"\n"
              "publish_directory = \"crl\"\n"
              "\n[admin]\nlisten = \"127.0.0.1:8443\"\n"
              "certificate = \"pki/admin-server.pem\"\n"
              "private_key = \"pki/admin-server.key\"\n"
              "client_ca = \"pki/operator-ca.pem\"\n"
              "\n[self_service]\nissuers = [\"demo-issuing-ca\"]\n"
              "processes = [\"CardsProcDeactivate\", \"CardsProcReactivate\"]\n";
  }
  GlobalOptions quiet = options;
  std::ostringstream init_report;
  init_command(quiet, init_report);
  fmt::print(out, "2. configuration {} (default policy, issuer demo-issuing-ca) and store {}\n",
             options.config_path().string(), options.store_path().string());

  // 3. Users with credentials and real certificates, imported like an operator would.
  const auto users = demo_users();
  {
    std::ofstream manifest(dir / "import/manifest.csv");
    manifest << "certificate,credential,type,user,user_name\n";
    for (const auto& user : users) {
      for (const auto& credential : user.credentials) {
        const std::string file = fmt::format("{}.pem", credential.id);
        std::ofstream pem(dir / "import" / file);
        for (int i = 0; i < credential.certificates; ++i) {
          const char* purpose = i == 0 ? "authentication" : "signature";
          const auto leaf = pki::issue_certificate(
              {pki::CertificateRole::kEndEntity,
               fmt::format("{} ({} {})", user.name, to_string(credential.type), purpose),
               "revocore demo", now - kDay, now + 730 * kDay},
              &issuing);
          pem << leaf.certificate.pem();
          if (user.id == kSelfServiceUser && i == 0) {
            // A card holder's own keys, to try self-service with (docs/AUTHORIZATION.md).
            const std::string holder = fmt::format("holder-{}", credential.id);
            pki::write_certificate_pem(dir / "pki" / (holder + ".pem"), leaf.certificate);
            pki::write_private_key_pem(dir / "pki" / (holder + ".key"), leaf.key.get());
          }
        }
        manifest << fmt::format("{},{},{},{},{}\n", file, credential.id, to_string(credential.type),
                                user.id, user.name);
      }
    }
    // Two operators of the API (two, so that one can approve what the other asked for).
    for (const auto& [user, name] :
         {std::pair{"operator-1", "Olivia Olsson"}, std::pair{"operator-2", "Oskar Ohlin"}}) {
      const auto issued = pki::issue_certificate(
          {pki::CertificateRole::kEndEntity, fmt::format("{} (operator)", name), "revocore demo",
           now - kDay, now + 365 * kDay},
          &operator_ca);
      pki::write_certificate_pem(dir / "pki" / fmt::format("{}.pem", user), issued.certificate);
      pki::write_private_key_pem(dir / "pki" / fmt::format("{}.key", user), issued.key.get());
      std::ofstream(dir / "import" / fmt::format("{}.pem", user)) << issued.certificate.pem();
      manifest << fmt::format("{}.pem,token-{},soft_token,{},{}\n", user, user, user, name);
    }
  }
  DataDirectory data = DataDirectory::open(options);
  const auto summary = importer::import_certificates(
      data.store, data.config,
      importer::ImportRequest{dir / "import/manifest.csv", {}, operator_name}, options.clock);
  {
    // The demo's operators hold the configuration's `operator` role (docs/AUTHORIZATION.md):
    // the operator API grants them what that role permits.
    WriteTransaction txn = data.store.write();
    for (const char* id : {"operator-1", "operator-2"}) {
      if (auto user = txn.user(id)) {
        user->roles = {"operator"};
        txn.put_user(*user);
      }
    }
    txn.commit();
  }
  crl::CrlPublisher publisher(data.store, data.config, options.clock);
  const auto first_crl = publisher.publish_full("demo-issuing-ca").front();
  publisher.publish_full("demo-operator-ca");
  fmt::print(out, "3. imported {} certificates for {} users and {} credentials from {}\n",
             summary.certificates, summary.users_created, summary.credentials_created,
             (dir / "import/manifest.csv").string());
  fmt::print(out, "   first CRL #{} (empty) in {}\n\n", first_crl.number, first_crl.file.string());

  // 4. Each process once.
  lifecycle::LifecycleProcesses processes(data.store, data.config, options.clock);
  struct Step {
    std::string_view process;
    const char* target;
    const char* reason;
  };
  const Step steps[] = {
      {config::kUsersProcLock, "1001", "Left the organisation"},
      {config::kUsersProcDeactivate, "1002", "Parental leave"},
      {config::kUsersProcReactivate, "1002", "Returned from leave"},
      {config::kCardsProcDeactivate, "card-1003", "Card left at home"},
      {config::kCardsProcReactivate, "card-1003", "Card found"},
      {config::kCardsProcLock, "card-1004", "Card lost"},
      {config::kUsersProcDeactivate, "1005", "Leave of absence"},
  };
  fmt::print(out, "4. lifecycle processes, operator {}:\n", operator_name);
  for (const auto& step : steps) {
    const auto outcome = processes.run(lifecycle::ProcessRequest{
        std::string(step.process), step.target, step.reason, operator_name, std::nullopt});
    print_outcome(out, data.config.process(step.process), outcome);
    publish_crls_after(data, options, outcome, out);
  }

  // Each process published a delta over the first full CRL; a new full CRL comes on schedule
  // (crl_validity_hours, full_crl_interval_hours), made here at once, with an empty delta over it.
  fmt::print(out, "\n5. a new full CRL, as the schedule would make it:\n");
  for (const auto& crl : publisher.publish_full("demo-issuing-ca")) {
    print_published(out, crl);
  }

  fmt::print(out, "\n6. where everyone ended:\n");
  const StoreTransaction txn = data.store.read();
  for (const auto& user : users) {
    print_user(out, txn, *txn.user(user.id));
  }
  const std::string prefix = fmt::format("revocore --data-dir {}", dir.string());
  fmt::print(out,
             "\nTry:\n  {0} user show 1002 --json\n  {0} audit\n  {0} user lock 1003 --reason "
             "\"Key compromise\"\n  {0} reasons UsersProcDeactivate\n  {0} crl show {1}\n"
             "  openssl crl -inform DER -in {1} -noout -text -CAfile {2} -verify\n",
             prefix, (dir / "crl/demo-issuing-ca.crl").string(),
             (dir / "pki/issuing-ca.pem").string());
  fmt::print(
      out,
      "\nThe OCSP responder and the operator API (mutual TLS, operator certificates in "
      "{0}/pki/operator-*.pem):\n  {1} serve &\n"
      "  curl --cacert {0}/pki/root-ca.pem --cert {0}/pki/operator-1.pem --key "
      "{0}/pki/operator-1.key https://127.0.0.1:8443/api/v1/users/1002\n"
      "\nSelf-service: Cecilia Carlsson (user 1003) suspends her own card with her mobile ID:\n"
      "  curl --cacert {0}/pki/root-ca.pem --cert {0}/pki/holder-mobile-1003.pem --key "
      "{0}/pki/holder-mobile-1003.key -H 'Content-Type: application/json' -d "
      "'{{\"target\": \"card-1003\", \"reason\": \"Card temporarily misplaced\"}}' "
      "https://127.0.0.1:8443/api/v1/self/processes/CardsProcDeactivate\n",
      dir.string(), prefix);
}

}  // namespace revocore::cli
