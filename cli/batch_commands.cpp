// `revocore batch lock | resume | status`: mass locks as crash-safe batch jobs.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "lifecycle/batch_job.hpp"
#include "revocation/error.hpp"

namespace revocore::cli {
namespace {

// A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(std::uint64_t already_done)
      : start_(std::chrono::steady_clock::now()), first_(already_done), tty_(::isatty(2) == 1) {}

  void update(const JobRecord& job) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(job.position - first_) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(job.total - job.position) / rate : 0;
    const int percent = job.total ? static_cast<int>(100 * job.position / job.total) : 100;
    if (!tty_ && percent < last_percent_ + 10 && job.position != job.total) {
      return;
    }
    last_percent_ = percent;
    const int filled = percent / 5;
    fmt::print(stderr, "{}[{}{}] {:3}% {}/{} targets, {:.0f}/s, ETA {:.0f}s{}", tty_ ? "\r" : "",
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(20 - filled), '-'), percent, job.position,
               job.total, rate, eta, tty_ && job.position != job.total ? "" : "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::uint64_t first_;
  bool tty_;
  int last_percent_ = -10;
};

void run_job(const GlobalOptions& options, lifecycle::BatchJobs& jobs, std::uint64_t id,
             std::size_t chunk, std::ostream& out) {
  const auto before = jobs.job(id);
  ProgressBar bar(before ? before->position : 0);
  const auto start = std::chrono::steady_clock::now();
  const auto completion = jobs.complete(id, chunk, [&](const JobRecord& j) { bar.update(j); });
  const JobRecord& job = completion.job;
  const std::size_t crls = completion.crls.size();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.json) {
    boost::json::object result = job_json(*jobs.job(id));
    boost::json::array failures;
    for (const auto& failure : jobs.failures(id, 100)) {
      failures.emplace_back(
          boost::json::object{{"target", failure.target}, {"reason", failure.reason}});
    }
    result["failures"] = std::move(failures);
    result["seconds"] = seconds;
    print_json(out, result);
    return;
  }
  fmt::print(out,
             "batch job #{} done: {} applied, {} failed, {} certificates changed, {} CRL(s) "
             "published, {:.1f} s\n",
             id, job.applied, job.failed, job.certificates_changed, crls, seconds);
  for (const auto& failure : jobs.failures(id, 10)) {
    fmt::print(out, "  {}: {}\n", failure.target, failure.reason);
  }
  if (job.failed > 10) {
    fmt::print(out, "  ... `revocore batch status {}` lists them all\n", id);
  }
}

}  // namespace

void batch_lock_command(const GlobalOptions& options, const std::filesystem::path& file,
                        const std::string& reason, bool credentials, std::size_t chunk,
                        std::ostream& out) {
  DataDirectory dir = DataDirectory::open_writer(options, "batch lock");
  lifecycle::BatchJobs jobs(dir.store, dir.config, options.clock);
  const auto targets = lifecycle::read_target_list(file);
  const std::uint64_t id =
      jobs.create(credentials ? config::kCardsProcLock : config::kUsersProcLock, targets, reason,
                  options.operator_or_default(), file.string());
  if (!options.json) {
    fmt::print(out, "batch job #{}: {} {} to lock; if it stops, `revocore batch resume {}`\n", id,
               targets.size(), credentials ? "credentials" : "users", id);
    out.flush();
  }
  run_job(options, jobs, id, chunk, out);
}

void batch_resume_command(const GlobalOptions& options, std::uint64_t id, std::size_t chunk,
                          std::ostream& out) {
  DataDirectory dir = DataDirectory::open_writer(options, "batch resume");
  lifecycle::BatchJobs jobs(dir.store, dir.config, options.clock);
  run_job(options, jobs, id, chunk, out);
}

void batch_status_command(const GlobalOptions& options, std::uint64_t id, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  lifecycle::BatchJobs jobs(dir.store, dir.config, options.clock);
  std::vector<JobRecord> listed;
  if (id != 0) {
    const auto job = jobs.job(id);
    if (!job) {
      throw Error(ErrorCode::kNotFound, fmt::format("batch job #{} does not exist", id));
    }
    listed.push_back(*job);
  } else {
    listed = jobs.jobs();
  }
  boost::json::array json;
  for (const auto& job : listed) {
    if (options.json) {
      boost::json::object entry = job_json(job);
      if (id != 0) {
        boost::json::array failures;
        for (const auto& failure : jobs.failures(id, 1000)) {
          failures.emplace_back(
              boost::json::object{{"target", failure.target}, {"reason", failure.reason}});
        }
        entry["failures"] = std::move(failures);
      }
      json.emplace_back(std::move(entry));
      continue;
    }
    fmt::print(out,
               "#{} {} {} \"{}\" by {} from {}: {}/{} done, {} applied, {} failed, {} "
               "certificates\n",
               job.id,
               job.status == JobStatus::kDone      ? "done"
               : job.status == JobStatus::kRunning ? "RUNNING"
                                                   : "FAILED",
               job.process, job.reason_label, job.operator_name, job.source, job.position,
               job.total, job.applied, job.failed, job.certificates_changed);
    if (job.status == JobStatus::kFailed) {
      fmt::print(out, "  stopped: {}; `revocore batch resume {}` tries again\n", job.failure,
                 job.id);
    }
    if (id != 0) {
      for (const auto& failure : jobs.failures(id, 1000)) {
        fmt::print(out, "  {}: {}\n", failure.target, failure.reason);
      }
    }
  }
  if (options.json) {
    print_json(out, json);
  } else if (listed.empty()) {
    fmt::print(out, "no batch jobs\n");
  }
}

}  // namespace revocore::cli
