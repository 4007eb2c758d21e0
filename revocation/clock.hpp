#pragma once
// Time is injected: processes, CRLs and OCSP take a Clock instead of reading the system time, so
// tests can move time forward.
#include <chrono>
#include <functional>

#include "revocation/types.hpp"

namespace revocore {

using Clock = std::function<UnixTime()>;

inline Clock system_clock() {
  return [] {
    return static_cast<UnixTime>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
}

}  // namespace revocore
