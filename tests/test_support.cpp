#include "tests/test_support.hpp"

#include <algorithm>

#include "revocation/crl_shard.hpp"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <stdexcept>

namespace revocore::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "revocore-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ResponderProcess start_responder(const std::string& binary, const std::filesystem::path& data_dir,
                                 const std::filesystem::path& log_dir) {
  const std::filesystem::path out = log_dir / "serve.out";
  ResponderProcess responder;
  responder.pid = ::fork();
  if (responder.pid == 0) {
    const std::string data = data_dir.string();
    std::freopen(out.c_str(), "w", stdout);
    std::freopen((log_dir / "serve.err").c_str(), "w", stderr);
    // Both listeners on free ports: tests run in parallel, and the operator API is configured
    // in demo data directories.
    ::execl(binary.c_str(), binary.c_str(), "--data-dir", data.c_str(), "serve", "--listen",
            "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 100 && responder.port == 0; ++i) {
    ::usleep(50'000);
    std::ifstream in(out);
    std::string line;
    int port = 0;
    while (std::getline(in, line)) {
      std::sscanf(line.c_str(), "revocore operator API on https://127.0.0.1:%d/",
                  &responder.admin_port);
      if (std::sscanf(line.c_str(), "revocore OCSP responder on http://127.0.0.1:%d/", &port) ==
          1) {
        responder.port = port;
      }
    }
  }
  return responder;
}

void stop_responder(ResponderProcess& responder) {
  if (responder.pid > 0) {
    ::kill(responder.pid, SIGKILL);
    ::waitpid(responder.pid, nullptr, 0);
    responder.pid = 0;
  }
}

long peak_rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

int run_demo(const std::string& binary, const std::filesystem::path& data_dir) {
  return run_command(
      fmt::format("{} --data-dir {} --operator demo demo", binary, data_dir.string()));
}

std::string read_text(const std::filesystem::path& file) {
  std::stringstream buffer;
  buffer << std::ifstream(file).rdbuf();
  return buffer.str();
}

bool give_approval_step(const std::filesystem::path& config_file, std::string_view title) {
  std::string config = read_text(config_file);
  const auto process = config.find(fmt::format("title = \"{}\"", title));
  const auto approval =
      process == std::string::npos ? process : config.find("approval = false", process);
  if (approval == std::string::npos) {
    return false;
  }
  config.replace(approval, 16, "approval = true");
  std::ofstream(config_file) << config;
  return true;
}

int run_command(const std::string& command, std::string* output) {
  std::string text;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return -1;
  }
  char buffer[1024];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    text += buffer;
  }
  const int status = ::pclose(pipe);
  if (output != nullptr) {
    *output = std::move(text);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CertificateKey key_for(IssuerId issuer, std::uint64_t serial) {
  return CertificateKey{issuer, Serial::from_hex(fmt::format("{:X}", serial))};
}

IssuerId StoreBuilder::issuer(const std::string& name) {
  WriteTransaction txn = store_.write();
  IssuerRecord record;
  record.name = name;
  record.subject_der = "subject of " + name;
  record.certificate_der = "certificate of " + name;
  const IssuerId id = txn.add_issuer(record);
  txn.commit();
  return id;
}

void StoreBuilder::user(const std::string& id, LifecycleState state,
                        std::vector<std::string> roles) {
  WriteTransaction txn = store_.write();
  txn.put_user(User{id, "User " + id, state, std::move(roles)});
  txn.commit();
}

void StoreBuilder::credential(const std::string& id, CredentialType type,
                              const std::string& user_id, LifecycleState state) {
  WriteTransaction txn = store_.write();
  Credential credential;
  credential.id = id;
  credential.type = type;
  credential.state = state;
  credential.user_id = user_id;
  txn.put_credential(credential);
  txn.commit();
}

CertificateKey StoreBuilder::certificate(IssuerId issuer, std::uint64_t serial,
                                         const std::string& credential_id, CertificateStatus status,
                                         ReasonCode reason, bool bind_shard) {
  const CertificateKey key = key_for(issuer, serial);
  WriteTransaction txn = store_.write();
  CertificateRecord record;
  record.not_after = kTestTime + 365 * 86400;
  record.status = status;
  record.reason = status == CertificateStatus::kOnHold ? ReasonCode::kCertificateHold : reason;
  record.revocation_time = status == CertificateStatus::kValid ? 0 : kTestTime - 86400;
  record.credential_id = credential_id;
  record.subject = fmt::format("CN=certificate {}", serial);
  // Bound to a CRL shard of the issuer's count, as registration does (importer/).
  const auto registered = txn.issuer(issuer);
  record.crl_shard = crl_shard_for(
      key.serial, registered ? std::max<std::uint16_t>(registered->crl_shards, 1) : 1);
  if (!bind_shard) {
    record.crl_shard.reset();
  }
  txn.add_certificate(key, record);
  txn.commit();
  return key;
}

}  // namespace revocore::testing
