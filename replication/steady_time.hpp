#pragma once
// Milliseconds of the monotonic clock: the publisher's and the follower's timers (heartbeats,
// staleness, retries), never a wall-clock time.
#include <chrono>
#include <cstdint>

namespace revocore::replication {

inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace revocore::replication
