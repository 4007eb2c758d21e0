#pragma once
// Request counts by outcome and a latency histogram, lock-free, rendered in the Prometheus text
// format at /metrics.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ocsp/ocsp_responder.hpp"

namespace revocore::ocsp {

class ResponderMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (Prometheus "le").
  static constexpr std::array<double, 10> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                      0.005,  0.01,    0.05,   0.25,  1.0};

  void record_ocsp(OcspOutcome outcome, bool from_store, std::chrono::nanoseconds latency) noexcept;
  void record_http_error(unsigned status) noexcept;  // 4xx/5xx answered without OCSP
  std::string render() const;
  // The counts render() shows: responses by outcome (indexed by OcspOutcome) and how many were
  // served pre-signed, for the operator console's status page.
  std::array<std::uint64_t, kOutcomeCount> outcome_counts() const noexcept;
  std::uint64_t presigned_count() const noexcept {
    return from_store_.load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kOutcomeCount> outcomes_{};
  std::atomic<std::uint64_t> from_store_{0};
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::atomic<std::uint64_t> http_404_{0}, http_405_{0}, http_413_{0}, http_400_{0}, http_other_{0};
};

}  // namespace revocore::ocsp
