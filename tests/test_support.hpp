#pragma once
// Shared by revocore's tests: temporary directories, a fixed clock and a builder that fills a
// store with users, credentials and certificates without real X.509 files.
#include <sys/types.h>
#include <filesystem>

#include <string>

#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::testing {

// A fresh directory under $TMPDIR, removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

inline constexpr UnixTime kTestTime = 1'795'000'000;  // 2026-11-18, fixed for every test
inline Clock fixed_clock(UnixTime time = kTestTime) {
  return [time] { return time; };
}

// Adds records straight into a store, inside one write transaction per call.
class StoreBuilder {
 public:
  explicit StoreBuilder(Store& store) : store_(store) {}

  IssuerId issuer(const std::string& name = "test-ca");
  void user(const std::string& id, LifecycleState state = LifecycleState::kActive,
            std::vector<std::string> roles = {"employee", "approver"});
  void credential(const std::string& id, CredentialType type, const std::string& user_id,
                  LifecycleState state = LifecycleState::kActive);
  // A certificate with the given serial for the credential; status other than valid is set as if
  // it had been revoked or held earlier (without a journal entry). It is bound to a CRL shard as
  // registration binds it, or (`bind_shard` false) carries none, as one registered before CRL
  // shards existed.
  CertificateKey certificate(IssuerId issuer, std::uint64_t serial,
                             const std::string& credential_id,
                             CertificateStatus status = CertificateStatus::kValid,
                             ReasonCode reason = ReasonCode::kUnspecified, bool bind_shard = true);

 private:
  Store& store_;
};

CertificateKey key_for(IssuerId issuer, std::uint64_t serial);

// A `revocore serve` process on a free loopback port.
struct ResponderProcess {
  pid_t pid = 0;
  int port = 0;        // 0: it did not start within 5 s
  int admin_port = 0;  // the operator API's, when [admin] is configured
};
// Starts `binary --data-dir DATA serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0`, its
// stdout and stderr in
// LOGS/serve.out and LOGS/serve.err, and waits for the port it printed.
ResponderProcess start_responder(const std::string& binary, const std::filesystem::path& data_dir,
                                 const std::filesystem::path& log_dir);
// SIGKILL and reap it, if it is still running.
void stop_responder(ResponderProcess& responder);

// A process's peak resident memory (VmHWM in /proc/PID/status), in KiB; -1 when unreadable.
long peak_rss_kb(pid_t pid);

// Runs a shell command (stderr merged into stdout); returns its exit code, and its output when
// `output` is given.
int run_command(const std::string& command, std::string* output = nullptr);

// `binary --data-dir DATA --operator demo demo`: a demo data directory (README); its exit code.
int run_demo(const std::string& binary, const std::filesystem::path& data_dir);
// Gives the process titled `title` (e.g. "Lock card") an approval step in the configuration
// file; false when the file has no such process.
bool give_approval_step(const std::filesystem::path& config_file, std::string_view title);
// The whole file, or empty when it cannot be read.
std::string read_text(const std::filesystem::path& file);

}  // namespace revocore::testing
