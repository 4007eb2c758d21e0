// The configuration: the built-in default is the mission table, and a bad file is refused with
// the file, the line and what to change.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <fstream>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "revocation/error.hpp"
#include "tests/test_support.hpp"

namespace revocore::config {
namespace {

using L = LifecycleState;
using T = CertificateTarget;

std::string error_message(std::string_view toml) {
  try {
    Configuration::parse(toml, "revocore.toml", "/tmp");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    return e.what();
  }
  ADD_FAILURE() << "configuration was accepted";
  return {};
}

// The default configuration with one piece of text replaced.
std::string default_with(std::string_view from, std::string_view to) {
  std::string text(kDefaultConfigToml);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

// Line number of the first occurrence of `needle` in the default configuration.
int line_of(std::string_view text, std::string_view needle) {
  const auto at = text.find(needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

struct Row {
  std::string_view process;
  CredentialType type;
  std::vector<L> from;
  L to;
  T certificates;
};

// The mission table of DEVELOPERS.md, row by row, for every credential type.
std::vector<Row> mission_table() {
  std::vector<Row> rows;
  for (const auto type : kAllCredentialTypes) {
    rows.push_back({kUsersProcLock, type, {L::kActive, L::kInactive}, L::kLocked, T::kRevoked});
    if (type == CredentialType::kTemporaryCard) {
      rows.push_back(
          {kUsersProcDeactivate, type, {L::kActive, L::kInactive}, L::kLocked, T::kRevoked});
    } else {
      rows.push_back({kUsersProcDeactivate, type, {L::kActive}, L::kInactive, T::kOnHold});
    }
    rows.push_back({kUsersProcReactivate, type, {L::kInactive}, L::kActive, T::kValid});
  }
  rows.push_back(
      {kCardsProcDeactivate, CredentialType::kCard, {L::kActive}, L::kInactive, T::kOnHold});
  rows.push_back(
      {kCardsProcLock, CredentialType::kCard, {L::kActive, L::kInactive}, L::kLocked, T::kRevoked});
  rows.push_back(
      {kCardsProcReactivate, CredentialType::kCard, {L::kInactive}, L::kActive, T::kValid});
  return rows;
}

TEST(DefaultConfiguration, IsTheMissionTable) {
  const Configuration config = Configuration::built_in_default();
  for (const Row& row : mission_table()) {
    SCOPED_TRACE(fmt::format("{} {}", row.process, to_string(row.type)));
    const CredentialRule* rule = config.process(row.process).rule_for(row.type);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->from, row.from);
    EXPECT_EQ(rule->to, row.to);
    EXPECT_EQ(rule->certificates, row.certificates);
  }
  EXPECT_EQ(config.process(kUsersProcLock).user_end_state, L::kLocked);
  EXPECT_EQ(config.process(kUsersProcLock).required_state,
            (std::vector<L>{L::kActive, L::kInactive}));
  EXPECT_EQ(config.process(kUsersProcLock).roles, RolesEffect::kWithdrawAll);
  EXPECT_EQ(config.process(kUsersProcDeactivate).required_state, std::vector<L>{L::kActive});
  EXPECT_EQ(config.process(kUsersProcDeactivate).user_end_state, L::kInactive);
  EXPECT_EQ(config.process(kUsersProcDeactivate).roles, RolesEffect::kWithdrawAll);
  EXPECT_EQ(config.process(kUsersProcReactivate).required_state, std::vector<L>{L::kInactive});
  EXPECT_EQ(config.process(kUsersProcReactivate).roles, RolesEffect::kDefaultOnly);
  EXPECT_EQ(config.process(kCardsProcDeactivate).target, ProcessTarget::kCredential);
  EXPECT_EQ(config.process(kCardsProcDeactivate).relations, RelationsEffect::kDeactivate);
  EXPECT_EQ(config.process(kCardsProcDeactivate).rule_for(CredentialType::kMobileId), nullptr);
  EXPECT_EQ(config.default_role, "employee");
  for (const auto& [name, policy] : config.processes) {
    EXPECT_FALSE(policy.approval) << name;
    EXPECT_FALSE(policy.reasons.empty()) << name;
  }
  const auto* left = config.process(kUsersProcLock).find_reason("Left the organisation");
  ASSERT_NE(left, nullptr);
  EXPECT_EQ(left->code, ReasonCode::kAffiliationChanged);
  EXPECT_EQ(config.process(kUsersProcLock).find_reason("Key compromise")->code,
            ReasonCode::kKeyCompromise);
  EXPECT_EQ(config.process(kUsersProcDeactivate).find_reason("Parental leave")->code,
            ReasonCode::kCertificateHold);
}

TEST(Configuration, ApprovalAndIssuersAreRead) {
  std::string text = default_with("[process.UsersProcLock]\ntitle = \"Lock user\"",
                                  "[process.UsersProcLock]\ntitle = \"Lock user\"\n");
  text = default_with("approval = false\nreasons = [\n  { label = \"Left the organisation\"",
                      "approval = true\nreasons = [\n  { label = \"Left the organisation\"");
  text += "\n[[issuer]]\nname = \"ca-1\"\ncertificate = \"pki/ca.pem\"\n";
  const Configuration config = Configuration::parse(text, "revocore.toml", "/etc/revocore");
  EXPECT_TRUE(config.process(kUsersProcLock).approval);
  EXPECT_FALSE(config.process(kUsersProcDeactivate).approval);
  ASSERT_EQ(config.issuers.size(), 1u);
  EXPECT_EQ(config.issuers[0].certificate, "/etc/revocore/pki/ca.pem");
}

TEST(Configuration, OperatorApiIsOffUnlessConfigured) {
  EXPECT_FALSE(Configuration::built_in_default().admin);
  const std::string text = std::string(kDefaultConfigToml) +
                           "\n[admin]\nlisten = \"127.0.0.1:9443\"\ncertificate = \"pki/s.pem\"\n"
                           "private_key = \"pki/s.key\"\nclient_ca = \"/etc/ops-ca.pem\"\n";
  const Configuration config = Configuration::parse(text, "revocore.toml", "/etc/revocore");
  ASSERT_TRUE(config.admin);
  EXPECT_EQ(config.admin->port, 9443);
  EXPECT_EQ(config.admin->certificate, "/etc/revocore/pki/s.pem");
  EXPECT_EQ(config.admin->client_ca, "/etc/ops-ca.pem");
  EXPECT_TRUE(config.admin->client_crl.empty());
}

TEST(Configuration, OperatorApiNeedsItsCertificatesAndAGoodAddress) {
  const std::string base = std::string(kDefaultConfigToml) + "\n[admin]\n";
  EXPECT_NE(error_message(base + "certificate = \"s.pem\"\nprivate_key = \"s.key\"\n")
                .find("[admin] needs 'client_ca'"),
            std::string::npos);
  EXPECT_NE(error_message(base + "listen = \"8443\"\n").find("must be ADDRESS:PORT"),
            std::string::npos);
  EXPECT_NE(error_message(base + "password = \"hunter2\"\n").find("unknown key 'password'"),
            std::string::npos);
}

TEST(Configuration, KeysInATokenAreKeptAsWrittenAndFilesAreResolved) {
  const std::string uri = "pkcs11:token=revocore;object=ca;pin-source=file:/etc/revocore/pin";
  const std::string text = std::string(kDefaultConfigToml) +
                           "\n[[issuer]]\nname = \"hsm\"\ncertificate = \"ca.pem\"\n"
                           "private_key = \"" +
                           uri +
                           "\"\nocsp_certificate = \"ocsp.pem\"\n"
                           "ocsp_private_key = \"ocsp.key\"\npkcs11_module = \"lib/module.so\"\n";
  const Configuration config = Configuration::parse(text, "revocore.toml", "/etc/revocore");
  ASSERT_EQ(config.issuers.size(), 1u);
  EXPECT_EQ(config.issuers[0].crl->private_key, uri);
  EXPECT_EQ(config.issuers[0].ocsp_private_key, "/etc/revocore/ocsp.key");
  EXPECT_EQ(config.issuers[0].pkcs11_module, "/etc/revocore/lib/module.so");
  // A module for no token key is refused, naming the line.
  const std::string files_only = std::string(kDefaultConfigToml) +
                                 "\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\n"
                                 "private_key = \"ca.key\"\npkcs11_module = \"m.so\"\n";
  const std::string message = error_message(files_only);
  EXPECT_NE(message.find("sets pkcs11_module but neither private_key nor ocsp_private_key"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(
                fmt::format("revocore.toml:{}", line_of(files_only, "pkcs11_module = \"m.so\""))),
            std::string::npos)
      << message;
}

TEST(ListenAddress, SplitsAddressAndPortAndRefusesTheRest) {
  const auto v4 = split_listen("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  const auto v6 = split_listen("::1:0");  // the last colon separates the port
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                          "127.0.0.1:-1", "127.0.0.1: 80"}) {
    EXPECT_FALSE(split_listen(bad)) << bad;
  }
}

TEST(Configuration, SyntaxErrorNamesFileAndLine) {
  const std::string message = error_message("[store]\nmap_size_mib = 1\n[roles\ndefault = \"x\"\n");
  EXPECT_EQ(message.rfind("revocore.toml:3:", 0), 0u) << message;
}

TEST(Configuration, UnknownKeyNamesTheLineAndTheAllowedKeys) {
  const std::string text = default_with("approval = false\nreasons = [\n  { label = \"Parental",
                                        "aproval = false\nreasons = [\n  { label = \"Parental");
  const std::string message = error_message(text);
  EXPECT_NE(message.find(fmt::format("revocore.toml:{}:", line_of(text, "aproval"))),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("unknown key 'aproval' in [process.UsersProcDeactivate]"),
            std::string::npos)
      << message;
}

// [[role]] and [authorization] (config/authorization.hpp): the default grants the demo's
// operators everything; each kind of mistake is refused with the line it is on.
TEST(Authorization, RolesGrantWhatTheyListAndMistakesAreRefusedWithTheLine) {
  const Configuration defaults = Configuration::built_in_default();
  EXPECT_TRUE(defaults.permits({"operator"}, "process:UsersProcLock"));
  EXPECT_TRUE(defaults.permits({"operator"}, "approve:CardsProcLock"));
  EXPECT_TRUE(defaults.permits({"employee", "operator"}, "read:audit"));
  EXPECT_FALSE(defaults.permits({"employee"}, "read:users"));  // not a [[role]]: nothing
  EXPECT_FALSE(defaults.permits({}, "register"));
  EXPECT_FALSE(defaults.authorization.local_approvals);

  const std::string help_desk =
      "\n[[role]]\nname = \"help-desk\"\npermissions = [\"process:CardsProcDeactivate\", "
      "\"read:users\"]\n";
  const Configuration with = Configuration::parse(std::string(kDefaultConfigToml) + help_desk +
                                                      "[authorization]\nlocal_approvals = true\n"
                                                      "[authorization.subject_roles]\n"
                                                      "\"OU=Help desk\" = [\"help-desk\"]\n"
                                                      "\"CN=Ann,O=Example\" = [\"operator\"]\n",
                                                  "revocore.toml", "/tmp");
  EXPECT_TRUE(with.permits({"help-desk"}, "process:CardsProcDeactivate"));
  EXPECT_TRUE(with.permits({"help-desk"}, "read:users"));
  EXPECT_FALSE(with.permits({"help-desk"}, "process:UsersProcLock"));
  EXPECT_FALSE(with.permits({"help-desk"}, "read:audit"));
  EXPECT_TRUE(with.authorization.local_approvals);
  EXPECT_EQ(roles_for_subject(with.authorization, "CN=Bo,OU=Help desk,O=Example"),
            std::vector<std::string>{"help-desk"});
  EXPECT_EQ(roles_for_subject(with.authorization, "CN=Ann,O=Example"),
            std::vector<std::string>{"operator"});
  EXPECT_TRUE(roles_for_subject(with.authorization, "CN=Eve,OU=Help desk\\, not,O=X").empty());

  const struct {
    std::string role;
    std::string says;
  } bad[] = {
      {"name = \"x\"\npermissions = [\"delete:everything\"]",
       "unknown permission 'delete:everything'"},
      {"name = \"x\"\npermissions = [\"process:UsersProcNuke\"]",
       "names process 'UsersProcNuke', which is not configured"},
      {"name = \"x\"\npermissions = [\"approve:UsersProcLock\"]",
       "UsersProcLock, but that process has no approval step"},
      {"name = \"operator\"\npermissions = [\"read\"]", "role 'operator' is configured twice"},
      {"name = \"x\"", "role 'x' needs 'permissions'"},
  };
  for (const auto& c : bad) {
    const std::string text = std::string(kDefaultConfigToml) + "\n[[role]]\n" + c.role + "\n";
    const std::string message = error_message(text);
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    EXPECT_EQ(message.rfind("revocore.toml:", 0), 0u) << message;
    // The line of the [[role]] (a missing key, a second role of the same name) or of its
    // permissions (a bad permission).
    const int header = line_of(text, "[[role]]\n" + c.role);
    const int line = std::atoi(message.c_str() + std::string_view("revocore.toml:").size());
    EXPECT_TRUE(line == header || line == header + 2)
        << message << " (role at line " << header << ")";
  }
  const std::string unknown_role =
      error_message(std::string(kDefaultConfigToml) +
                    "\n[authorization.subject_roles]\n\"OU=X\" = [\"auditor\"]\n");
  EXPECT_NE(unknown_role.find("gives role 'auditor', which no [[role]] defines"), std::string::npos)
      << unknown_role;
}

TEST(Authorization, SelfServiceNamesIssuersAndProcessesThatExist) {
  EXPECT_FALSE(Configuration::built_in_default().self_service);
  const std::string base = std::string(kDefaultConfigToml) +
                           "\n[[issuer]]\nname = \"ca-1\"\ncertificate = \"pki/ca.pem\"\n"
                           "[admin]\ncertificate = \"pki/s.pem\"\nprivate_key = \"pki/s.key\"\n"
                           "client_ca = \"/etc/ops-ca.pem\"\n";
  const Configuration config = Configuration::parse(
      base + "[self_service]\nissuers = [\"ca-1\"]\nprocesses = [\"CardsProcDeactivate\"]\n",
      "revocore.toml", "/tmp");
  ASSERT_TRUE(config.self_service);
  EXPECT_EQ(config.self_service->issuers, std::vector<std::string>{"ca-1"});
  EXPECT_TRUE(config.self_service->allows("CardsProcDeactivate"));
  EXPECT_FALSE(config.self_service->allows("CardsProcLock"));
  // No processes: card holders may only see their own.
  EXPECT_TRUE(
      Configuration::parse(base + "[self_service]\nissuers = [\"ca-1\"]\n", "revocore.toml", "/tmp")
          .self_service->processes.empty());

  const struct {
    std::string section;
    std::string says;
    int line;  // of the section's text (1: its first line)
  } bad[] = {
      {"issuers = [\"ca-9\"]", "names issuer 'ca-9', which no [[issuer]] configures; issuers: ca-1",
       2},
      {"issuers = [\"ca-1\"]\nprocesses = [\"CardsProcNuke\"]",
       "offers process 'CardsProcNuke', which is not configured", 3},
      {"processes = [\"CardsProcDeactivate\"]", "[self_service] needs 'issuers'", 1},
      {"issuers = []", "names no [[issuer]]", 2},
      {"issuers = \"ca-1\"", "must be a list of strings", 2},
      {"issuers = [\"ca-1\"]\nlisten = \"0.0.0.0:443\"", "listen", 3},
  };
  for (const auto& c : bad) {
    const std::string text = base + "[self_service]\n" + c.section + "\n";
    const std::string message = error_message(text);
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    // The section appended last (the default configuration mentions [self_service] in comments).
    const int line = static_cast<int>(std::count(
                         text.begin(), text.begin() + text.rfind("[self_service]\n"), '\n')) +
                     c.line;
    EXPECT_EQ(message.rfind(fmt::format("revocore.toml:{}:", line), 0), 0u)
        << message << " (expected line " << line << ")";
  }
  // Served on the operator API's listener: not without one.
  const std::string without_admin =
      error_message(std::string(kDefaultConfigToml) +
                    "\n[[issuer]]\nname = \"ca-1\"\ncertificate = \"pki/ca.pem\"\n[self_service]\n"
                    "issuers = [\"ca-1\"]\n");
  EXPECT_NE(without_admin.find("configure [admin] too"), std::string::npos) << without_admin;
}

TEST(Configuration, MissingProcessIsNamed) {
  std::string text(kDefaultConfigToml);
  text = text.substr(0, text.find("# ------------------------------------------------------------"
                                  "---------------------------------\n# Reactivate card"));
  const std::string message = error_message(text);
  EXPECT_NE(message.find("process CardsProcReactivate is not configured"), std::string::npos)
      << message;
}

TEST(Configuration, RevokingWithAHoldReasonNeedsARevocationReason) {
  const std::string text = default_with(", revocation_reason = \"cessationOfOperation\" }", " }");
  const std::string message = error_message(text);
  EXPECT_NE(message.find("UsersProcDeactivate].credentials.temporary_card revokes certificates"),
            std::string::npos)
      << message;
  // The rule's own line, in the Deactivate user table (Lock user has an identical line earlier).
  const auto table = text.find("[process.UsersProcDeactivate.credentials]");
  const int line = line_of(text.substr(table), "temporary_card") +
                   line_of(text, "[process.UsersProcDeactivate.credentials]") - 1;
  EXPECT_NE(message.find(fmt::format("revocore.toml:{}:", line)), std::string::npos) << message;
}

TEST(Configuration, RefusesWhatTheStateMachineForbids) {
  const std::string message = error_message(default_with(
      "card = { from = [\"inactive\"], to = \"active\", certificates = \"valid\" }\ntemporary",
      "card = { from = [\"locked\"], to = \"active\", certificates = \"valid\" }\ntemporary"));
  EXPECT_NE(message.find("moves locked credentials to active"), std::string::npos) << message;
}

TEST(Configuration, RefusesUnknownNames) {
  EXPECT_NE(error_message(default_with("soft_token = { from = [\"active\", \"inactive\"]",
                                       "usb_stick = { from = [\"active\", \"inactive\"]"))
                .find("unknown credential type 'usb_stick'"),
            std::string::npos);
  EXPECT_NE(error_message(default_with("code = \"keyCompromise\"", "code = \"keyLost\""))
                .find("must be an RFC 5280 reason code"),
            std::string::npos);
  EXPECT_NE(error_message(default_with("certificates = \"on_hold\"", "certificates = \"held\""))
                .find("must be valid, on_hold, revoked or unchanged"),
            std::string::npos);
  EXPECT_NE(error_message(default_with("required_state = [\"active\"]", "required_state = []"))
                .find("must be a non-empty list"),
            std::string::npos);
  EXPECT_NE(
      error_message(default_with("map_size_mib = 4096", "map_size_mib = -1")).find("map_size_mib"),
      std::string::npos);
}

TEST(Configuration, RefusesADuplicateReasonAndAnEmptyReasonList) {
  EXPECT_NE(error_message(default_with("{ label = \"Card stolen\", code = \"keyCompromise\" },",
                                       "{ label = \"Card lost\", code = \"keyCompromise\" },"))
                .find("reason 'Card lost' is listed twice"),
            std::string::npos);
}

TEST(Configuration, CredentialProcessCannotChangeTheUser) {
  const std::string message = error_message(
      default_with("target = \"credential\"\nrequired_state = [\"active\"]\nrelations",
                   "target = \"credential\"\nuser_end_state = \"locked\"\nrequired_state = "
                   "[\"active\"]\nrelations"));
  EXPECT_NE(message.find("remove 'user_end_state'"), std::string::npos) << message;
}

TEST(Configuration, MissingFileSaysHowToCreateOne) {
  try {
    Configuration::load_file("/nonexistent/revocore.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(std::string(e.what()).find("revocore init"), std::string::npos);
  }
}

TEST(Configuration, LoadsFromAFile) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "revocore.toml") << kDefaultConfigToml;
  const Configuration config = Configuration::load_file(dir.path() / "revocore.toml");
  EXPECT_EQ(config.processes.size(), 9u);
  EXPECT_EQ(config.map_size_bytes, std::size_t{4096} << 20);
}

}  // namespace
}  // namespace revocore::config
