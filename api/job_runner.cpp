#include "api/job_runner.hpp"

#include <spdlog/spdlog.h>

#include "lifecycle/batch_job.hpp"
#include "revocation/error.hpp"

namespace revocore::api {

JobRunner::JobRunner(Store& store, const config::Configuration& config, Clock clock,
                     std::size_t chunk)
    : store_(store), config_(config), clock_(std::move(clock)), chunk_(chunk) {}

JobRunner::~JobRunner() {
  stop();
}

void JobRunner::start() {
  for (const auto& job : lifecycle::BatchJobs(store_, config_, clock_).jobs()) {
    if (job.status == JobStatus::kFailed) {
      // Not retried on its own: it failed for a reason an operator should look at first.
      spdlog::warn("event=job_failed job={} error=\"{}\" fix=\"revocore batch resume {}\"", job.id,
                   job.failure, job.id);
    } else if (job.status != JobStatus::kDone || !job.crls_published) {
      spdlog::info("event=job_resume job={} done={} total={}", job.id, job.position, job.total);
      enqueue(job.id);
    }
  }
  thread_ = std::thread([this] { loop(); });
}

void JobRunner::enqueue(std::uint64_t id) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(id);
  }
  wake_.notify_one();
}

void JobRunner::stop() {
  stopping_ = true;
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void JobRunner::loop() {
  lifecycle::BatchJobs jobs(store_, config_, clock_);
  while (true) {
    std::uint64_t id = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      id = queue_.front();
      queue_.pop_front();
    }
    // Exceptions end here: this thread is the job's only owner and must keep serving the queue.
    try {
      const auto completion = jobs.complete(id, chunk_, {}, &stopping_);
      if (completion.job.status == JobStatus::kDone) {
        spdlog::info("event=job_done job={} applied={} failed={} certificates_changed={} crls={}",
                     id, completion.job.applied, completion.job.failed,
                     completion.job.certificates_changed, completion.crls.size());
      }
    } catch (const std::exception& e) {
      spdlog::error("event=job_failure job={} error=\"{}\"", id, e.what());
    }
  }
}

}  // namespace revocore::api
