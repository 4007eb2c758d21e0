#pragma once
// Applies batch jobs created through the operator API on a thread of their own, one at a time,
// so an HTTP request never waits for a mass revocation. Jobs left unfinished by a crash or a
// restart are picked up again when the runner starts; the job's own durable position makes
// sure nothing is applied twice.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "config/configuration.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::api {

class JobRunner {
 public:
  // Does not take ownership; store and config must outlive the runner.
  JobRunner(Store& store, const config::Configuration& config, Clock clock, std::size_t chunk);
  ~JobRunner();  // stop()
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Starts the thread and queues every unfinished job (running, or CRLs not yet published).
  void start();
  void enqueue(std::uint64_t id);
  // Lets the chunk in progress commit, then stops; unfinished jobs resume on the next start().
  void stop();

 private:
  void loop();

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
  std::size_t chunk_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::uint64_t> queue_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace revocore::api
