#pragma once
// Internal to revocation/: writes certificate status changes and their journal entries. Shared by
// apply_batch_order (many certificates) and set_certificate_status (one), so both follow the same
// state machine and journal format. Holds reusable buffers: no allocation per certificate once
// they have grown to the size of a record.
#include <string>
#include <string_view>

#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::detail {

class StatusApplier {
 public:
  StatusApplier(WriteTransaction& txn, UnixTime time, std::string_view process,
                std::string_view operator_name, std::uint64_t audit_id);

  enum class Outcome { kChanged, kUnchanged };

  // Moves the certificate under `encoded_key` to `target` when that is a legal change; leaves it
  // when it already is there or is revoked (final) and `tolerate_final` is set, else throws
  // kIllegalTransition. Throws kNotFound for an unknown key.
  Outcome apply(std::string_view encoded_key, CertificateStatus target, ReasonCode reason,
                std::optional<UnixTime> invalidity_date, bool tolerate_final);

  std::uint64_t first_sequence() const noexcept { return first_sequence_; }
  std::uint64_t last_sequence() const noexcept { return next_sequence_ - 1; }
  bool changed_any() const noexcept { return first_sequence_ != 0; }

 private:
  lmdb::Transaction& raw_;  // the caller's write transaction: records are patched in place
  const Databases& dbs_;
  UnixTime time_;
  std::string_view process_;
  std::string_view operator_name_;
  std::uint64_t audit_id_;
  std::uint64_t next_sequence_;
  std::uint64_t first_sequence_ = 0;
  std::string record_buffer_;
  std::string journal_buffer_;
};

}  // namespace revocore::detail
