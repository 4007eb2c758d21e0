#pragma once
// Batch jobs: one lifecycle process (Lock user, Lock card) over a long list of targets, applied
// in chunks of one write transaction each. The targets are stored with the job when it is
// created; each chunk applies its targets and moves the job's position in the same transaction,
// so a job killed at any moment resumes where the last committed chunk ended and applies nothing
// twice. Unknown ids and targets in the wrong state are recorded as the job's failures, not
// fatal to the rest.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "crl/crl_publisher.hpp"
#include "revocation/clock.hpp"
#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::lifecycle {

class BatchJobs {
 public:
  // Does not take ownership; store and config must outlive this object.
  BatchJobs(Store& store, const config::Configuration& config, Clock clock)
      : store_(store), config_(config), clock_(std::move(clock)) {}

  // Stores a new job and its targets in one transaction; returns its id. Checks the process and
  // reason first (kInvalidConfig, kReasonNotOffered) and refuses an empty list.
  std::uint64_t create(std::string_view process, const std::vector<std::string>& targets,
                       std::string_view reason_label, std::string_view operator_name,
                       std::string_view source);

  // Runs or resumes the job until it is done; `progress` is called after each chunk. Returns
  // early, the job still running, when `stop` is set and becomes true between two chunks.
  // An error that is not one target's (a damaged record, a store failure) marks the job
  // kFailed with the reason and is rethrown; running a failed job again retries it.
  JobRecord run(std::uint64_t id, std::size_t chunk_size,
                const std::function<void(const JobRecord&)>& progress = {},
                const std::atomic<bool>* stop = nullptr);

  struct Completion {
    JobRecord job;
    std::vector<crl::PublishedCrl> crls;  // empty when they had been published before
  };
  // run(), then one CRL regeneration per issuer the job touched, once: a finished job whose CRLs
  // were published skips it. Throws kNotFound for an unknown job, and kCrlNotPublished when
  // publishing fails (the job stays applied; completing it again retries the CRLs).
  Completion complete(std::uint64_t id, std::size_t chunk_size,
                      const std::function<void(const JobRecord&)>& progress = {},
                      const std::atomic<bool>* stop = nullptr);

  std::optional<JobRecord> job(std::uint64_t id) const;
  std::vector<JobRecord> jobs() const;
  std::vector<JobFailure> failures(std::uint64_t id, std::size_t limit) const;

 private:
  JobRecord run_chunks(std::uint64_t id, std::size_t chunk_size,
                       const std::function<void(const JobRecord&)>& progress,
                       const std::atomic<bool>* stop);
  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
};

// Reads a job's targets: one id per line; blank lines and lines starting with # are skipped.
std::vector<std::string> read_target_list(const std::filesystem::path& file);

}  // namespace revocore::lifecycle
