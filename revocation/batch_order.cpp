#include "revocation/batch_order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "revocation/raw_store_access.hpp"
#include "revocation/status_applier.hpp"
#include "revocation/status_transition.hpp"
#include "revocation/store.hpp"

namespace revocore {
namespace {

std::optional<CertificateStatus> status_for(CertificateTarget target) noexcept {
  switch (target) {
    case CertificateTarget::kUnchanged:
      return std::nullopt;
    case CertificateTarget::kValid:
      return CertificateStatus::kValid;
    case CertificateTarget::kOnHold:
      return CertificateStatus::kOnHold;
    case CertificateTarget::kRevoked:
      return CertificateStatus::kRevoked;
  }
  return std::nullopt;
}

using EncodedKey = std::array<char, CertificateKey::kMaxEncodedSize>;

// Records the issuer of an encoded certificate key; issuers are few, so a linear scan is cheapest.
void note_issuer(std::vector<IssuerId>& issuers, const EncodedKey& key) {
  const IssuerId issuer = (IssuerId{static_cast<std::uint8_t>(key[0])} << 24) |
                          (IssuerId{static_cast<std::uint8_t>(key[1])} << 16) |
                          (IssuerId{static_cast<std::uint8_t>(key[2])} << 8) |
                          IssuerId{static_cast<std::uint8_t>(key[3])};
  if (std::find(issuers.begin(), issuers.end(), issuer) == issuers.end()) {
    issuers.push_back(issuer);
  }
}
struct KeySlot {
  EncodedKey bytes;
  std::uint8_t size;
};

}  // namespace

BatchResult apply_batch_order(WriteTransaction& txn, const BatchOrder& order) {
  // The hot path works on LMDB directly: credentials are patched in place, not decoded.
  lmdb::Transaction& raw = detail::RawStoreAccess::transaction(txn);
  const Databases& dbs = detail::RawStoreAccess::databases(txn);
  detail::StatusApplier applier(txn, order.time, order.process, order.operator_name,
                                order.audit_id);
  BatchResult result;
  result.credentials.reserve(order.changes.size());

  // Reused across credentials so the loop does not allocate per item.
  std::string credential_buffer;
  std::vector<KeySlot> certificate_keys;
  lmdb::Cursor relations(raw, dbs.credential_certificates);

  for (std::size_t index = 0; index < order.changes.size(); ++index) {
    const CredentialChange& change = order.changes[index];
    std::string_view current;
    if (!raw.get(dbs.credentials, change.credential_id, current)) {
      throw Error(ErrorCode::kNotFound,
                  fmt::format("credential {} (entry {} of the batch order) does not exist; "
                              "nothing was changed",
                              change.credential_id, index + 1));
    }
    namespace layout = credential_layout;
    if (current.size() < layout::kFixedSize ||
        static_cast<std::uint8_t>(current[layout::kVersion]) != layout::kCurrentVersion) {
      throw Error(ErrorCode::kStoreCorrupt,
                  fmt::format("credential {} has a damaged record", change.credential_id));
    }
    const auto old_state =
        lifecycle_state_from_byte(static_cast<std::uint8_t>(current[layout::kState]));
    const auto type = credential_type_from_byte(static_cast<std::uint8_t>(current[layout::kType]));
    if (!old_state || !type) {
      throw Error(ErrorCode::kStoreCorrupt,
                  fmt::format("credential {} has a damaged record", change.credential_id));
    }
    if (*old_state != change.new_state && !is_legal_transition(*old_state, change.new_state)) {
      throw Error(
          ErrorCode::kIllegalTransition,
          fmt::format("credential {} is {}; it cannot become {} (locked is final); "
                      "nothing was changed",
                      change.credential_id, to_string(*old_state), to_string(change.new_state)));
    }

    credential_buffer.assign(current);
    credential_buffer[layout::kState] = static_cast<char>(change.new_state);
    if (change.relation_state) {
      credential_buffer[layout::kRelationState] = static_cast<char>(*change.relation_state);
    }
    if (credential_buffer != current) {
      raw.put(dbs.credentials, change.credential_id, credential_buffer);
    }

    CredentialOutcome outcome;
    outcome.change_index = static_cast<std::uint32_t>(index);
    outcome.type = *type;
    outcome.old_state = *old_state;

    if (const auto target = status_for(change.certificates)) {
      // Copy the keys out first: views into LMDB pages end at the next write.
      certificate_keys.clear();
      std::string_view key = change.credential_id;
      std::string_view certificate_key;
      for (bool found = relations.get(key, certificate_key, MDB_SET_KEY); found;
           found = relations.get(key, certificate_key, MDB_NEXT_DUP)) {
        KeySlot& slot = certificate_keys.emplace_back();
        slot.size = static_cast<std::uint8_t>(std::min(certificate_key.size(), slot.bytes.size()));
        std::memcpy(slot.bytes.data(), certificate_key.data(), slot.size);
      }
      for (const KeySlot& slot : certificate_keys) {
        const auto applied = applier.apply(std::string_view(slot.bytes.data(), slot.size), *target,
                                           change.revocation_reason, order.invalidity_date,
                                           /*tolerate_final=*/true);
        if (applied == detail::StatusApplier::Outcome::kChanged) {
          ++outcome.certificates_changed;
          note_issuer(result.issuers_changed, slot.bytes);
          switch (*target) {
            case CertificateStatus::kRevoked:
              ++result.revoked;
              break;
            case CertificateStatus::kOnHold:
              ++result.held;
              break;
            case CertificateStatus::kValid:
              ++result.released;
              break;
          }
        } else {
          ++outcome.certificates_unchanged;
        }
      }
    }
    result.certificates_changed += outcome.certificates_changed;
    result.certificates_unchanged += outcome.certificates_unchanged;
    result.credentials.push_back(outcome);
  }

  if (applier.changed_any()) {
    result.first_journal_sequence = applier.first_sequence();
    result.last_journal_sequence = applier.last_sequence();
  }
  return result;
}

BatchResult apply_certificate_order(WriteTransaction& txn, const CertificateOrder& order) {
  detail::StatusApplier applier(txn, order.time, order.process, order.operator_name,
                                order.audit_id);
  EncodedKey key;
  const std::string_view encoded = order.key.encode(key);
  BatchResult result;
  const auto applied = applier.apply(encoded, order.status, order.reason, order.invalidity_date,
                                     /*tolerate_final=*/false);
  if (applied == detail::StatusApplier::Outcome::kChanged) {
    result.certificates_changed = 1;
    result.revoked = order.status == CertificateStatus::kRevoked ? 1 : 0;
    result.held = order.status == CertificateStatus::kOnHold ? 1 : 0;
    result.released = order.status == CertificateStatus::kValid ? 1 : 0;
    result.issuers_changed.push_back(order.key.issuer);
    result.first_journal_sequence = applier.first_sequence();
    result.last_journal_sequence = applier.last_sequence();
  } else {
    result.certificates_unchanged = 1;
  }
  return result;
}

BatchResult apply_batch_order(Store& store, const BatchOrder& order) {
  WriteTransaction txn = store.write();
  BatchResult result = apply_batch_order(txn, order);
  txn.commit();
  return result;
}

}  // namespace revocore
