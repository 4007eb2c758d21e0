#include "revocation/status_transition.hpp"

#include <fmt/format.h>

#include "revocation/codec.hpp"
#include "revocation/raw_store_access.hpp"
#include "revocation/status_applier.hpp"
#include "revocation/store.hpp"

namespace revocore {

bool is_legal_transition(CertificateStatus from, CertificateStatus to) noexcept {
  switch (from) {
    case CertificateStatus::kValid:
      return to == CertificateStatus::kOnHold || to == CertificateStatus::kRevoked;
    case CertificateStatus::kOnHold:
      return to == CertificateStatus::kValid || to == CertificateStatus::kRevoked;
    case CertificateStatus::kRevoked:
      return false;  // RFC 5280 5.3.1: only certificateHold may be undone
  }
  return false;
}

bool is_legal_transition(LifecycleState from, LifecycleState to) noexcept {
  switch (from) {
    case LifecycleState::kActive:
      return to == LifecycleState::kInactive || to == LifecycleState::kLocked;
    case LifecycleState::kInactive:
      return to == LifecycleState::kActive || to == LifecycleState::kLocked;
    case LifecycleState::kLocked:
      return false;
  }
  return false;
}

namespace detail {

StatusApplier::StatusApplier(WriteTransaction& txn, UnixTime time, std::string_view process,
                             std::string_view operator_name, std::uint64_t audit_id)
    : raw_(RawStoreAccess::transaction(txn)),
      dbs_(RawStoreAccess::databases(txn)),
      time_(time),
      process_(process),
      operator_name_(operator_name),
      audit_id_(audit_id),
      next_sequence_(txn.last_journal_sequence() + 1) {}

StatusApplier::Outcome StatusApplier::apply(std::string_view encoded_key, CertificateStatus target,
                                            ReasonCode reason,
                                            std::optional<UnixTime> invalidity_date,
                                            bool tolerate_final) {
  namespace layout = certificate_layout;
  std::string_view current;
  if (!raw_.get(dbs_.certificates, encoded_key, current)) {
    const CertificateKey key = CertificateKey::decode(encoded_key);
    throw Error(ErrorCode::kNotFound, fmt::format("certificate serial {} of issuer #{} is not in "
                                                  "the store",
                                                  key.serial.hex(), key.issuer));
  }
  // Version 1 and 2 records share the offsets patched here (records.hpp).
  const std::size_t fixed =
      current.empty() ? 0
                      : layout::fixed_size(static_cast<std::uint8_t>(current[layout::kVersion]));
  if (fixed == 0 || current.size() < fixed) {
    throw Error(ErrorCode::kStoreCorrupt,
                "a certificate record is truncated or of an unknown version; restore the data "
                "directory from a backup");
  }
  const auto from =
      certificate_status_from_byte(static_cast<std::uint8_t>(current[layout::kStatus]));
  if (!from) {
    throw Error(ErrorCode::kStoreCorrupt, "a certificate record holds an unknown status");
  }
  if (*from == target) {
    return Outcome::kUnchanged;
  }
  if (!is_legal_transition(*from, target)) {
    if (tolerate_final) {
      return Outcome::kUnchanged;
    }
    const CertificateKey key = CertificateKey::decode(encoded_key);
    throw Error(ErrorCode::kIllegalTransition,
                fmt::format("certificate serial {} is {}; it cannot become {} (RFC 5280: "
                            "revocation is final, only a hold can be released)",
                            key.serial.hex(), to_string(*from), to_string(target)));
  }

  // RFC 5280 5.3.1: a hold is always certificateHold; a release is recorded as removeFromCRL,
  // the reason a delta CRL gives for it.
  if (target == CertificateStatus::kOnHold) {
    reason = ReasonCode::kCertificateHold;
  } else if (target == CertificateStatus::kValid) {
    reason = ReasonCode::kRemoveFromCrl;
  }

  record_buffer_.assign(current);
  char* record = record_buffer_.data();
  record[layout::kStatus] = static_cast<char>(target);
  const bool listed = target != CertificateStatus::kValid;
  record[layout::kReason] = static_cast<char>(listed ? reason : ReasonCode::kUnspecified);
  codec::store_u64_at(record + layout::kRevocationTime,
                      static_cast<std::uint64_t>(listed ? time_ : 0));
  const bool has_invalidity = listed && invalidity_date.has_value();
  // The other flags (the CRL shard's) are kept.
  record[layout::kFlags] = static_cast<char>(
      (static_cast<std::uint8_t>(record[layout::kFlags]) & ~layout::kFlagHasInvalidityDate) |
      (has_invalidity ? layout::kFlagHasInvalidityDate : 0));
  codec::store_u64_at(record + layout::kInvalidityDate,
                      static_cast<std::uint64_t>(has_invalidity ? *invalidity_date : 0));
  const std::uint64_t sequence = next_sequence_++;
  codec::store_u64_at(record + layout::kStatusSequence, sequence);
  raw_.put(dbs_.certificates, encoded_key, record_buffer_);

  encode_journal_entry(journal_buffer_, time_, encoded_key, *from, target, reason, audit_id_,
                       process_, operator_name_);
  char sequence_bytes[8];
  codec::store_u64_at(sequence_bytes, sequence);
  // MDB_APPEND: sequences only grow, so LMDB can skip the tree search.
  raw_.put(dbs_.journal, std::string_view(sequence_bytes, 8), journal_buffer_, MDB_APPEND);
  if (first_sequence_ == 0) {
    first_sequence_ = sequence;
  }
  return Outcome::kChanged;
}

}  // namespace detail

std::uint64_t set_certificate_status(WriteTransaction& txn, const CertificateStatusChange& change) {
  detail::StatusApplier applier(txn, change.time, change.process, change.operator_name,
                                change.audit_id);
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const auto outcome = applier.apply(change.certificate.encode(buffer), change.new_status,
                                     change.reason, std::nullopt, /*tolerate_final=*/false);
  if (outcome == detail::StatusApplier::Outcome::kUnchanged) {
    throw Error(ErrorCode::kIllegalTransition,
                fmt::format("certificate serial {} is already {}", change.certificate.serial.hex(),
                            to_string(change.new_status)));
  }
  return applier.last_sequence();
}

}  // namespace revocore
