#pragma once
// Shared by revocore's benchmarks: a populated store in a temporary directory, peak memory, and
// running a peer program with its own peak memory.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "revocation/store.hpp"

namespace revocore::bench {

inline constexpr int kCredentialsPerUser = 4;
inline constexpr CredentialType kTypes[kCredentialsPerUser] = {
    CredentialType::kCard, CredentialType::kVirtualSmartCard, CredentialType::kMobileId,
    CredentialType::kSoftToken};

// REVOCORE_BENCH_USERS overrides the default of 250,000 users (1,000,000 certificates).
inline std::size_t user_count() {
  const char* value = std::getenv("REVOCORE_BENCH_USERS");
  return value != nullptr ? std::strtoul(value, nullptr, 10) : 250'000;
}

inline std::string credential_id(std::size_t user, int slot) {
  return fmt::format("c{}-{}", user, slot);
}

// A fresh directory under $TMPDIR, removed with everything in it.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(std::string_view name)
      : path_(std::filesystem::temp_directory_path() /
              fmt::format("revocore-bench-{}-{}", name, ::getpid())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `users` users with 4 credentials of one certificate each, serials 1..4*users, all in `status`.
// `issuer` names the issuer record; its certificate DER is `issuer_der` (may be a placeholder).
inline IssuerId populate(Store& store, std::size_t users, CertificateStatus status,
                         const std::string& issuer_name = "bench-ca",
                         const std::string& issuer_der = "placeholder") {
  WriteTransaction txn = store.write();
  IssuerRecord issuer;
  issuer.name = issuer_name;
  issuer.certificate_der = issuer_der;
  const IssuerId issuer_id = txn.add_issuer(issuer);
  std::uint64_t serial = 1;
  for (std::size_t user = 0; user < users; ++user) {
    const std::string user_id = fmt::format("u{}", user);
    txn.put_user(User{user_id, "", LifecycleState::kActive, {"employee"}});
    for (int slot = 0; slot < kCredentialsPerUser; ++slot) {
      Credential credential;
      credential.id = credential_id(user, slot);
      credential.type = kTypes[slot];
      credential.user_id = user_id;
      txn.put_credential(credential);
      CertificateRecord record;
      record.not_after = 1'900'000'000;
      record.status = status;
      if (status != CertificateStatus::kValid) {
        record.reason = status == CertificateStatus::kOnHold ? ReasonCode::kCertificateHold
                                                             : ReasonCode::kKeyCompromise;
        record.revocation_time = 1'790'000'000;
      }
      record.credential_id = credential.id;
      record.subject = fmt::format("CN=user {} credential {}", user, slot);
      txn.add_certificate(
          CertificateKey{issuer_id, Serial::from_hex(fmt::format("{:X}", serial++))}, record);
    }
  }
  txn.commit();
  return issuer_id;
}

// Resets the kernel's peak-RSS mark (Linux clear_refs "5"), so VmHWM afterwards is the peak of
// the measured part only.
inline void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}
inline double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
  }
  return 0;
}

// RssAnon and RssFile of a process (/proc/PID/status), in MiB: anonymous memory (heap, stacks)
// apart from mapped file pages (LMDB's map, a CRL mapped for signing), which the kernel can drop.
struct RssSplit {
  double anon_mib = 0;
  double file_mib = 0;
};
inline RssSplit rss_split(const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  RssSplit out;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      out.anon_mib = std::strtod(line.c_str() + 8, nullptr) / 1024.0;
    } else if (line.rfind("RssFile:", 0) == 0) {
      out.file_mib = std::strtod(line.c_str() + 8, nullptr) / 1024.0;
    }
  }
  return out;
}

// Samples a process's RssAnon and RssFile every millisecond on a thread of its own and keeps the
// peaks: the kernel keeps a peak of the total RSS only (VmHWM).
class RssSampler {
 public:
  explicit RssSampler(std::string pid = "self")
      : pid_(std::move(pid)), baseline_(rss_split(pid_)), thread_([this] {
          while (!stop_.load()) {
            const RssSplit now = rss_split(pid_);
            peak_.anon_mib = std::max(peak_.anon_mib, now.anon_mib);
            peak_.file_mib = std::max(peak_.file_mib, now.file_mib);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}
  ~RssSampler() { stop(); }
  RssSplit stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    return peak_;
  }
  const RssSplit& baseline() const noexcept { return baseline_; }

 private:
  std::string pid_;
  RssSplit baseline_;
  RssSplit peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct PeerRun {
  int exit_code = -1;
  double seconds = 0;
  double peak_rss_mib = 0;
  RssSplit peak_split;  // sampled every millisecond while it ran
};

// Runs a peer program (argv[0] looked up in PATH), output discarded, and measures it.
inline PeerRun run_peer(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  PeerRun run;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    ::posix_spawn_file_actions_destroy(&actions);
    return run;
  }
  int status = 0;
  rusage usage{};
  {
    RssSampler sampler(std::to_string(pid));
    ::wait4(pid, &status, 0, &usage);
    run.peak_split = sampler.stop();
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  ::posix_spawn_file_actions_destroy(&actions);
  return run;
}

}  // namespace revocore::bench
