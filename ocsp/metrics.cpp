#include "ocsp/metrics.hpp"

#include <fmt/format.h>

namespace revocore::ocsp {

void ResponderMetrics::record_ocsp(OcspOutcome outcome, bool from_store,
                                   std::chrono::nanoseconds latency) noexcept {
  outcomes_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  if (from_store) {
    from_store_.fetch_add(1, std::memory_order_relaxed);
  }
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) {
    ++bucket;
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void ResponderMetrics::record_http_error(unsigned status) noexcept {
  switch (status) {
    case 400:
      http_400_.fetch_add(1, std::memory_order_relaxed);
      break;
    case 404:
      http_404_.fetch_add(1, std::memory_order_relaxed);
      break;
    case 405:
      http_405_.fetch_add(1, std::memory_order_relaxed);
      break;
    case 413:
      http_413_.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      http_other_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::array<std::uint64_t, kOutcomeCount> ResponderMetrics::outcome_counts() const noexcept {
  std::array<std::uint64_t, kOutcomeCount> counts{};
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    counts[i] = outcomes_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

std::string ResponderMetrics::render() const {
  std::string out =
      "# HELP revocore_ocsp_responses_total OCSP responses by outcome.\n"
      "# TYPE revocore_ocsp_responses_total counter\n";
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    const auto value = outcomes_[i].load(std::memory_order_relaxed);
    count += value;
    out += fmt::format("revocore_ocsp_responses_total{{outcome=\"{}\"}} {}\n",
                       to_string(static_cast<OcspOutcome>(i)), value);
  }
  out += fmt::format(
      "# HELP revocore_ocsp_presigned_total OCSP responses served pre-signed from the store.\n"
      "# TYPE revocore_ocsp_presigned_total counter\nrevocore_ocsp_presigned_total {}\n",
      from_store_.load(std::memory_order_relaxed));
  out +=
      "# HELP revocore_ocsp_request_duration_seconds Time from a decoded HTTP request to its "
      "OCSP response.\n# TYPE revocore_ocsp_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("revocore_ocsp_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       kBuckets[i], cumulative);
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  out +=
      fmt::format("revocore_ocsp_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("revocore_ocsp_request_duration_seconds_sum {}\n",
                     static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += fmt::format("revocore_ocsp_request_duration_seconds_count {}\n", count);
  out +=
      "# HELP revocore_http_errors_total HTTP requests refused before OCSP.\n"
      "# TYPE revocore_http_errors_total counter\n";
  out += fmt::format("revocore_http_errors_total{{status=\"400\"}} {}\n", http_400_.load());
  out += fmt::format("revocore_http_errors_total{{status=\"404\"}} {}\n", http_404_.load());
  out += fmt::format("revocore_http_errors_total{{status=\"405\"}} {}\n", http_405_.load());
  out += fmt::format("revocore_http_errors_total{{status=\"413\"}} {}\n", http_413_.load());
  out += fmt::format("revocore_http_errors_total{{status=\"other\"}} {}\n", http_other_.load());
  return out;
}

}  // namespace revocore::ocsp
