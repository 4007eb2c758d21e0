#pragma once
// The lifecycle processes (Lock user, Deactivate user, Reactivate user, Deactivate card, Lock
// card, Reactivate card) as thin callers of the core: check the required state, load the related
// credentials, build one BatchOrder from the configured policy, apply it, update the user and
// write the audit record, all in one write transaction. Where the policy asks for an approval
// step, a run files a pending request instead, and a second operator approves or rejects it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/configuration.hpp"
#include "revocation/batch_order.hpp"
#include "revocation/clock.hpp"
#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::lifecycle {

struct ProcessRequest {
  std::string process;  // symbolic name, e.g. "UsersProcLock"
  // A user id or a credential id, as the process's target says; for a certificate process
  // "ISSUER/SERIAL" (certificate_target() writes it).
  std::string target_id;
  std::string reason_label;
  std::string operator_name;
  // RFC 5280 5.3.2: when the key is known or suspected to have become invalid, if before now.
  std::optional<UnixTime> invalidity_date;
  // The requester's roles (the operator API's caller), kept with an approval request so that
  // "an approver from another role" can be checked (docs/AUTHORIZATION.md).
  std::vector<std::string> operator_roles = {};
  // Set when card holders run the process on themselves (self-service, docs/AUTHORIZATION.md):
  // the target must then be their own user, credential or certificate, and the audit names the
  // certificate they authenticated with.
  struct SelfService {
    std::string user_id;
    std::string certificate;  // "ISSUER/SERIAL"
  };
  std::optional<SelfService> self_service = std::nullopt;
  // A run after a preview (the console's Next): the preview's fingerprint. If what the process
  // would change is no longer what the preview showed, the run is refused (kWrongState) and
  // nothing changes.
  std::string expected_preview = {};
};

// What a run would change, worked out by the same code path as a run, in a transaction that is
// then aborted: `audit` as the run would write it (user and credential states), the certificate
// counts, and each certificate's change.
struct ProcessPreview {
  bool needs_approval = false;  // a run files an approval request; this is what approving does
  AuditRecord audit;
  BatchResult batch;
  std::vector<JournalEntry> certificate_changes;  // each certificate, from and to, in order
  std::string fingerprint;                        // hex; differs when any of the above would differ
};

struct ProcessOutcome {
  enum class Kind { kApplied, kPendingApproval };
  Kind kind = Kind::kApplied;
  std::uint64_t approval_id = 0;  // set for kPendingApproval, and for an approved request
  AuditRecord audit;              // the audit record written by this call
  BatchResult batch;              // empty for kPendingApproval
};

// A certificate named as people name it: the issuer's configured name and the serial in hex.
// Throws kNotFound listing the registered issuers, or naming the serial; kInvalidArgument for a
// serial that is not hexadecimal.
std::pair<CertificateKey, CertificateRecord> find_certificate(const StoreTransaction& txn,
                                                              std::string_view issuer,
                                                              std::string_view serial_hex);

// The target id of a certificate process: "ISSUER/SERIAL" with the serial in upper-case hex
// without separators. Throws kInvalidArgument for a serial that is not hexadecimal.
std::string certificate_target(std::string_view issuer, std::string_view serial_hex);

// The configured reason with this label; throws kReasonNotOffered listing the ones offered.
const config::Reason& offered_reason(const config::ProcessPolicy& policy, std::string_view label);

class LifecycleProcesses {
 public:
  // Does not take ownership; store and config must outlive this object.
  LifecycleProcesses(Store& store, const config::Configuration& config, Clock clock)
      : store_(store), config_(config), clock_(std::move(clock)) {}

  // Runs a process, or files it for approval when its policy says so. Throws revocore::Error:
  // kInvalidConfig (unknown process), kReasonNotOffered, kNotFound, kWrongState; for a
  // self-service request whose target is not the card holder's own, kPermissionDenied after
  // an audit record of the refusal (the target's existence is not revealed).
  ProcessOutcome run(const ProcessRequest& request);

  // Works out what run() would change, and changes nothing (a self-service refusal is audited as
  // in run()). Throws like run().
  ProcessPreview preview(const ProcessRequest& request);

  // Applies the process inside the caller's write transaction, without committing and without
  // an approval step (batch jobs, whose chunk is one transaction). `now` is the chunk's time.
  // Throws like run(); kApprovalDenied when the process needs approval.
  ProcessOutcome run_in(WriteTransaction& txn, const ProcessRequest& request, UnixTime now);

  // Applies a pending request after checking the required state again. The requester cannot
  // approve their own request (kApprovalDenied), nor can anyone decide a request twice.
  ProcessOutcome approve(std::uint64_t approval_id, std::string_view operator_name);
  // Marks pending requests that can no longer be decided: expired ([approvals] expire_hours) or
  // stale (the target left the required state). One write transaction; returns how many.
  // Run before approvals are listed or decided.
  std::size_t retire_pending();

  // Refuses a pending request; nothing else changes.
  AuditRecord reject(std::uint64_t approval_id, std::string_view operator_name,
                     std::string_view note);

 private:
  ApprovalRequest pending_request(const StoreTransaction& txn, std::uint64_t approval_id,
                                  std::string_view operator_name) const;
  // The checks run() and preview() share: the reason, the operator, the invalidity date, and for
  // self-service the target's owner (a refusal audited and committed in `txn`).
  const config::Reason& check_request(WriteTransaction& txn, const ProcessRequest& request,
                                      UnixTime now);
  // The preview, in a transaction nested in `txn` and aborted.
  ProcessPreview preview_in(WriteTransaction& txn, const ProcessRequest& request, UnixTime now);

  Store& store_;
  const config::Configuration& config_;
  Clock clock_;
};

}  // namespace revocore::lifecycle
