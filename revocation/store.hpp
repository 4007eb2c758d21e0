#pragma once
// The revocation store: one LMDB environment in <data-dir>/store holding users, credentials,
// certificates, their relations, issuers, the append-only journal of certificate status changes,
// the audit trail and approval requests. Every change is one write transaction: a caller opens a
// WriteTransaction, makes its changes and commits; destroying it uncommitted changes nothing.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/lmdb.hpp"
#include "revocation/records.hpp"

namespace revocore {

namespace detail {
struct RawStoreAccess;
}

struct StoreOptions {
  // LMDB reserves this much address space; the file grows only as data arrives.
  std::size_t map_size_bytes = std::size_t{4} << 30;
};

// The named databases of a store, opened once when the store opens.
struct Databases {
  MDB_dbi meta = 0;
  MDB_dbi users = 0;                    // user id -> User
  MDB_dbi credentials = 0;              // credential id -> Credential
  MDB_dbi user_credentials = 0;         // user id -> credential id (dupsort)
  MDB_dbi credential_certificates = 0;  // credential id -> certificate key (dupsort)
  MDB_dbi certificates = 0;             // certificate key -> CertificateRecord
  MDB_dbi issuers = 0;                  // issuer id -> IssuerRecord
  MDB_dbi issuer_names = 0;             // issuer name -> issuer id
  MDB_dbi journal = 0;                  // sequence -> journal entry (append-only)
  MDB_dbi audit = 0;                    // audit id -> AuditRecord (append-only)
  MDB_dbi approvals = 0;                // approval id -> ApprovalRequest
  MDB_dbi crl_state = 0;                // issuer id -> CrlState
  MDB_dbi ocsp_responses = 0;           // certificate key + hash id -> pre-signed OCSP response
  MDB_dbi jobs = 0;                     // job id -> JobRecord
  MDB_dbi job_targets = 0;              // job id + index -> target id
  MDB_dbi job_failures = 0;             // job id + index -> why that target was not applied
  // Registrations in commit order, the change feed's outbox beside the journal (replication).
  MDB_dbi registrations = 0;  // sequence -> certificate key (append-only)
  MDB_dbi replication = 0;    // "feed" -> FeedPosition (writer), "replica" -> ReplicaPosition
  // Added with search: a word of a user's name, folded (name_words()) -> user id (dupsort).
  MDB_dbi user_name_words = 0;
};

// The fixed part of a certificate record, read without decoding its strings: what CRL and OCSP
// code needs per certificate. `serial_octets` is valid only inside the transaction.
struct CertificateStatusView {
  std::string_view serial_octets;
  CertificateStatus status = CertificateStatus::kValid;
  ReasonCode reason = ReasonCode::kUnspecified;
  UnixTime revocation_time = 0;
  std::optional<UnixTime> invalidity_date;
  UnixTime not_after = 0;
  std::uint64_t status_sequence = 0;       // changes with every status change (journal sequence)
  std::optional<std::uint16_t> crl_shard;  // none: registered before CRL shards existed
};

// Reads, valid for the life of the transaction; a consistent snapshot. This is the read-only view
// of the store (certificate-transparency's ReadOnlyDatabase is the model): it has no way to
// write, and a `const Store&` only opens these.
class StoreTransaction {
 public:
  std::optional<User> user(std::string_view id) const;
  // Users whose id starts with `prefix`, in id order, at most `limit` (one cursor range).
  std::vector<User> users_with_prefix(std::string_view prefix, std::size_t limit) const;
  // The name index's entries whose word starts with `prefix` (folded as name_words() folds), in
  // word order: `visit(user_id)` for users whose name has such a word, until it returns false.
  // The id is valid during the call only.
  void for_each_user_with_name_word(std::string_view prefix,
                                    const std::function<bool(std::string_view)>& visit) const;
  std::optional<Credential> credential(std::string_view id) const;
  // Credentials whose id starts with `prefix`, in id order, at most `limit`.
  std::vector<Credential> credentials_with_prefix(std::string_view prefix, std::size_t limit) const;
  // The issuer's certificates whose serial, in hex as revocore prints it (Serial::hex), starts
  // with `hex_prefix` (upper-case hex digits, at least one), in serial order, at most `limit`.
  std::vector<std::pair<CertificateKey, CertificateRecord>> certificates_with_serial_prefix(
      IssuerId issuer, std::string_view hex_prefix, std::size_t limit) const;
  // The user's credentials in id order, whatever their state.
  std::vector<Credential> credentials_of_user(std::string_view user_id) const;
  std::vector<CertificateKey> certificates_of_credential(std::string_view credential_id) const;
  std::optional<CertificateRecord> certificate(const CertificateKey& key) const;
  std::optional<IssuerRecord> issuer(IssuerId id) const;
  std::optional<IssuerRecord> issuer_by_name(std::string_view name) const;
  std::vector<IssuerRecord> issuers() const;

  // Entries with from <= sequence <= to, in order.
  std::vector<JournalEntry> journal(std::uint64_t from, std::uint64_t to) const;
  // The same entries one at a time, without holding them all, until `visit` returns false.
  void for_each_journal_entry(std::uint64_t from, std::uint64_t to,
                              const std::function<bool(const JournalEntry&)>& visit) const;
  std::uint64_t last_journal_sequence() const;
  std::uint64_t count_journal_entries() const;
  // Certificate registrations in commit order (sequence from 1), the change feed's outbox with
  // the journal: `visit(sequence, key)` for from <= sequence <= to, until it returns false.
  void for_each_registration(
      std::uint64_t from, std::uint64_t to,
      const std::function<bool(std::uint64_t, const CertificateKey&)>& visit) const;
  std::uint64_t last_registration_sequence() const;
  // Every certificate with its record, in key order, until `visit` returns false: a snapshot
  // for a replica. Starts after `after_key`; empty starts at the first.
  void for_each_certificate(
      std::string_view after_key,
      const std::function<bool(std::string_view key, const CertificateRecord&)>& visit) const;
  // Zeros when nothing was published or applied yet.
  FeedPosition feed_position() const;
  ReplicaPosition replica_position() const;
  // Newest first, at most `limit` records.
  std::vector<AuditRecord> audit(std::size_t limit) const;
  // Every audit record, newest first, until `visit` returns false.
  void for_each_audit_record(const std::function<bool(const AuditRecord&)>& visit) const;
  std::optional<ApprovalRequest> approval(std::uint64_t id) const;
  std::vector<ApprovalRequest> approvals() const;  // oldest first
  std::uint64_t count_certificates() const;
  // Zeros when no CRL was made yet for that shard of the issuer's CRLs (0 for the single CRL).
  CrlState crl_state(IssuerId issuer, std::uint16_t shard = 0) const;
  // The issuer's certificates that carry no CRL shard (registered before shards existed): one
  // scan, for an issuer record of version 1 that does not know the count.
  std::uint64_t count_unsharded_certificates(IssuerId issuer) const;

  // The fixed part of one certificate's record, without decoding its strings and without
  // allocating: the OCSP hot path. False when the certificate is not in the store (or its record
  // cannot be read, which OCSP answers as unknown).
  bool certificate_status(const CertificateKey& key, CertificateStatusView& out) const;
  // The pre-signed OCSP response for the certificate and CertID hash; false when there is none
  // (or one of a version this build does not read). The views are valid inside the transaction.
  bool presigned_response(const CertificateKey& key, std::uint8_t cert_id_hash,
                          PresignedResponse& out) const;

  std::optional<JobRecord> job(std::uint64_t id) const;
  std::vector<JobRecord> jobs() const;  // oldest first
  // Up to `count` of the job's targets, from position `first`, in order.
  std::vector<std::string> job_targets(std::uint64_t job, std::uint64_t first,
                                       std::size_t count) const;
  // The job's failures in target order, at most `limit`, each with its target.
  std::vector<JobFailure> job_failures(std::uint64_t job, std::size_t limit) const;

  // Calls `visit(const CertificateStatusView&)` for every certificate of `issuer`, in key order.
  // No allocation per certificate: this is the CRL builder's scan.
  template <typename Visit>
  void for_each_certificate_of(IssuerId issuer, Visit&& visit) const;

 protected:
  StoreTransaction(lmdb::Transaction txn, const Databases& dbs)
      : txn_(std::move(txn)), dbs_(&dbs) {}
  std::uint64_t last_sequence(MDB_dbi dbi) const;

  lmdb::Transaction txn_;
  const Databases* dbs_;  // owned by the Store, which outlives its transactions

  friend class Store;
  // The raw LMDB handles, for the status-apply hot path in revocation/ (batch_order.cpp,
  // status_transition.cpp) and the store's own fault-injection tests; nothing else sees LMDB.
  friend struct detail::RawStoreAccess;
};

class WriteTransaction : public StoreTransaction {
 public:
  void put_crl_state(IssuerId issuer, std::uint16_t shard, const CrlState& state);
  // Rewrites a registered issuer's record (its CRL shard fields); its name cannot change.
  void put_issuer(const IssuerRecord& issuer);
  void put_user(const User& user);
  // Writes the credential and its user -> credential relation.
  void put_credential(const Credential& credential);
  // Adds a new certificate to a credential; kDuplicate when (issuer, serial) already exists.
  void add_certificate(const CertificateKey& key, const CertificateRecord& record);
  IssuerId add_issuer(IssuerRecord issuer);
  std::uint64_t append_audit(AuditRecord record);  // returns the new id
  // The id the next append_audit will return, for records that must name it beforehand.
  std::uint64_t next_audit_id() const { return last_sequence(dbs_->audit) + 1; }
  std::uint64_t add_approval(ApprovalRequest request);  // returns the new id
  void put_approval(const ApprovalRequest& request);

  // Stores a new job (its id assigned here, returned) and its targets, in order.
  std::uint64_t add_job(JobRecord job, const std::vector<std::string>& targets);
  void put_job(const JobRecord& job);  // an existing job's progress or end
  // Why the job's target at `index` was not applied.
  void add_job_failure(std::uint64_t job, std::uint64_t index, std::string_view reason);

  void put_presigned_response(const CertificateKey& key, std::uint8_t cert_id_hash,
                              const PresignedResponse& response);

  // Replication. The writer records what the stream acknowledged; a replica records the last
  // message it applied in the transaction that applies it.
  void put_feed_position(const FeedPosition& position);
  void put_replica_position(const ReplicaPosition& position);
  // A replica's copy of a writer's certificate: stored when it is new or its status_sequence is
  // higher than the stored one (an older or equal state changes nothing, so a message applied
  // twice or out of order cannot undo a newer change). Returns whether it was stored. No
  // credential relation and no registration are recorded: a replica answers, it does not feed.
  bool apply_replicated_certificate(const CertificateKey& key, const CertificateRecord& record);
  // A replica's copy of a writer's issuer, under the writer's id. kReplication when that id or name
  // is held by another issuer (the replica's store was fed by another writer).
  void put_replicated_issuer(const IssuerRecord& issuer);

  // Makes every change of this transaction durable at once.
  void commit() { txn_.commit(); }

 private:
  using StoreTransaction::StoreTransaction;
  friend class Store;
};

class Store {
 public:
  static constexpr std::uint32_t kSchemaVersion = 1;

  // Creates a new store in `directory` (created if missing); an existing revocore store of the
  // same schema is opened as is, so `init` can be run twice.
  static Store create(const std::filesystem::path& directory, const StoreOptions& options = {});
  // Opens an existing store; refuses a missing, foreign or unknown-version one.
  static Store open(const std::filesystem::path& directory, const StoreOptions& options = {});

  StoreTransaction read() const;
  WriteTransaction write();
  // A transaction inside `parent`: committing it adds its writes to the parent's, destroying it
  // uncommitted undoes exactly its own. `parent` must not be used until it is gone. For one
  // target of a batch job, so that a target that fails half-way leaves nothing behind.
  WriteTransaction nested(WriteTransaction& parent);
  const std::filesystem::path& directory() const noexcept { return directory_; }

 private:
  Store(std::filesystem::path directory, lmdb::Environment env)
      : directory_(std::move(directory)), env_(std::move(env)) {}
  void open_databases(bool create);

  std::filesystem::path directory_;
  lmdb::Environment env_;
  Databases dbs_;
};

// Decodes the fixed part of an encoded CertificateRecord; false when it is malformed.
bool decode_certificate_status(std::string_view key, std::string_view value,
                               CertificateStatusView& out) noexcept;

template <typename Visit>
void StoreTransaction::for_each_certificate_of(IssuerId issuer, Visit&& visit) const {
  char prefix[4] = {static_cast<char>(issuer >> 24), static_cast<char>(issuer >> 16),
                    static_cast<char>(issuer >> 8), static_cast<char>(issuer)};
  lmdb::Cursor cursor(txn_, dbs_->certificates);
  std::string_view key(prefix, 4);
  std::string_view value;
  CertificateStatusView view;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE);
       found && key.size() > 4 && key.substr(0, 4) == std::string_view(prefix, 4);
       found = cursor.get(key, value, MDB_NEXT)) {
    if (!decode_certificate_status(key, value, view)) {
      throw Error(ErrorCode::kStoreCorrupt,
                  "a certificate record is damaged; restore the data directory from a backup");
    }
    visit(static_cast<const CertificateStatusView&>(view));
  }
}

}  // namespace revocore
