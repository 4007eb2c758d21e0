#include "lifecycle/batch_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "lifecycle/crl_regeneration.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/error.hpp"
#include "revocation/identifier.hpp"

namespace revocore::lifecycle {
namespace {

JobRecord load_job(const StoreTransaction& txn, std::uint64_t id) {
  auto job = txn.job(id);
  if (!job) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("batch job #{} does not exist; see `revocore batch status`", id));
  }
  return std::move(*job);
}

// Outcomes that belong to one target and are reported in the job; anything else (a full store,
// a damaged record) stops the job, and the chunk it was in is not committed.
bool is_target_failure(ErrorCode code) {
  return code == ErrorCode::kNotFound || code == ErrorCode::kWrongState ||
         code == ErrorCode::kIllegalTransition || code == ErrorCode::kInvalidArgument;
}

}  // namespace

std::vector<std::string> read_target_list(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("cannot read the target list {}", file.string()));
  }
  std::vector<std::string> targets;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') {
      continue;
    }
    const auto last = line.find_last_not_of(" \t\r");
    targets.push_back(line.substr(first, last - first + 1));
  }
  return targets;
}

std::uint64_t BatchJobs::create(std::string_view process, const std::vector<std::string>& targets,
                                std::string_view reason_label, std::string_view operator_name,
                                std::string_view source) {
  const config::ProcessPolicy& policy = config_.process(process);
  offered_reason(policy, reason_label);
  if (policy.approval) {
    throw Error(ErrorCode::kApprovalDenied,
                fmt::format("{} needs a second operator's approval, which a batch job cannot "
                            "have; run it per target, or set approval = false for it in {}",
                            process, config_.source));
  }
  if (targets.empty()) {
    throw Error(ErrorCode::kInvalidArgument, fmt::format("{} lists no targets", source));
  }
  // Every target is checked before the job exists: one that LMDB cannot store as a key would
  // otherwise fail its chunk on every try.
  for (std::size_t i = 0; i < targets.size(); ++i) {
    check_identifier(fmt::format("target {} of {}", i + 1, source), targets[i]);
  }
  if (operator_name.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "an operator name is required for the audit trail");
  }
  JobRecord job;
  job.process = std::string(process);
  job.reason_label = std::string(reason_label);
  job.operator_name = std::string(operator_name);
  job.source = std::string(source);
  job.created_at = clock_();
  job.total = targets.size();
  WriteTransaction txn = store_.write();
  const std::uint64_t id = txn.add_job(std::move(job), targets);
  txn.commit();
  return id;
}

JobRecord BatchJobs::run(std::uint64_t id, std::size_t chunk_size,
                         const std::function<void(const JobRecord&)>& progress,
                         const std::atomic<bool>* stop) {
  try {
    return run_chunks(id, chunk_size, progress, stop);
  } catch (const Error& e) {
    // Not one target's failure: the chunk was not committed. Say so in the job, so that it
    // ends failed with the reason instead of staying "running" for ever; if even that write
    // fails (a full store), the error goes to the caller as before.
    if (e.code() == ErrorCode::kNotFound) {
      throw;  // no such job
    }
    WriteTransaction txn = store_.write();
    JobRecord job = load_job(txn, id);
    job.status = JobStatus::kFailed;
    job.failure = e.what();
    job.finished_at = clock_();
    txn.put_job(job);
    txn.commit();
    throw;
  }
}

JobRecord BatchJobs::run_chunks(std::uint64_t id, std::size_t chunk_size,
                                const std::function<void(const JobRecord&)>& progress,
                                const std::atomic<bool>* stop) {
  chunk_size = std::max<std::size_t>(chunk_size, 1);
  LifecycleProcesses processes(store_, config_, clock_);
  // A chunk first runs its targets straight in its transaction. A target that fails might do so
  // after some of its writes, so on the first failure the chunk is dropped and run again with
  // each target in a nested transaction, which undoes exactly a failed target's writes. Nested
  // transactions cost: 5.6 s instead of 3.9 s for the 1,000,000-certificate batch_bench.sh job
  // when every chunk used them, so only chunks with a failing target pay for them.
  bool nested = false;
  while (true) {
    WriteTransaction txn = store_.write();
    JobRecord job = load_job(txn, id);
    if (job.status == JobStatus::kDone) {
      return job;
    }
    job.status = JobStatus::kRunning;  // a failed job resumed: tried again from its position
    job.failure.clear();
    const std::uint64_t end = std::min<std::uint64_t>(job.position + chunk_size, job.total);
    const UnixTime now = clock_();
    const std::vector<std::string> targets = txn.job_targets(id, job.position, end - job.position);
    bool run_again_nested = false;
    for (std::uint64_t i = 0; i < targets.size() && !run_again_nested; ++i) {
      try {
        const ProcessRequest request{job.process, targets[i], job.reason_label, job.operator_name,
                                     std::nullopt};
        ProcessOutcome outcome;
        if (nested) {
          WriteTransaction target_txn = store_.nested(txn);
          outcome = processes.run_in(target_txn, request, now);
          target_txn.commit();
        } else {
          outcome = processes.run_in(txn, request, now);
        }
        ++job.applied;
        job.certificates_changed += outcome.batch.certificates_changed;
        for (const IssuerId issuer : outcome.batch.issuers_changed) {
          if (std::find(job.issuers_changed.begin(), job.issuers_changed.end(), issuer) ==
              job.issuers_changed.end()) {
            job.issuers_changed.push_back(issuer);
          }
        }
      } catch (const Error& e) {
        if (!is_target_failure(e.code())) {
          throw;
        }
        if (!nested) {
          run_again_nested = true;  // the chunk's transaction may hold half of this target
          break;
        }
        ++job.failed;
        txn.add_job_failure(id, job.position + i, e.what());
      }
    }
    if (run_again_nested) {
      nested = true;
      continue;  // `txn` is dropped: nothing of this chunk was applied
    }
    nested = false;
    job.position = end;
    if (job.position == job.total) {
      job.status = JobStatus::kDone;
      job.finished_at = clock_();
    }
    txn.put_job(job);
    txn.commit();
    if (progress) {
      progress(job);
    }
    if (job.status == JobStatus::kDone || (stop != nullptr && stop->load())) {
      return job;
    }
  }
}

BatchJobs::Completion BatchJobs::complete(std::uint64_t id, std::size_t chunk_size,
                                          const std::function<void(const JobRecord&)>& progress,
                                          const std::atomic<bool>* stop) {
  if (!job(id)) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("batch job #{} does not exist; see `revocore batch status`", id));
  }
  Completion out{run(id, chunk_size, progress, stop), {}};
  if (out.job.status != JobStatus::kDone || out.job.crls_published) {
    return out;
  }
  out.crls = regenerate_crls(store_, config_, clock_, out.job.issuers_changed,
                             fmt::format("batch job #{} was applied and committed", id),
                             fmt::format("`revocore batch resume {}`", id));
  WriteTransaction txn = store_.write();
  out.job = load_job(txn, id);
  out.job.crls_published = true;
  txn.put_job(out.job);
  txn.commit();
  return out;
}

std::optional<JobRecord> BatchJobs::job(std::uint64_t id) const {
  return store_.read().job(id);
}

std::vector<JobRecord> BatchJobs::jobs() const {
  return store_.read().jobs();
}

std::vector<JobFailure> BatchJobs::failures(std::uint64_t id, std::size_t limit) const {
  return store_.read().job_failures(id, limit);
}

}  // namespace revocore::lifecycle
