#pragma once
// The records kept in the store, and their versioned binary encoding. Each encoded value starts
// with a record version byte; a decoder refuses versions it does not know rather than guessing.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/serial.hpp"
#include "revocation/types.hpp"

namespace revocore {

struct User {
  std::string id;
  std::string name;
  LifecycleState state = LifecycleState::kActive;
  std::vector<std::string> roles;
};

struct Credential {
  std::string id;
  CredentialType type = CredentialType::kCard;
  LifecycleState state = LifecycleState::kActive;
  std::string user_id;
  // State of the user-credential relation (active or inactive); the relation itself is never
  // deleted by a lifecycle process.
  LifecycleState relation_state = LifecycleState::kActive;
};

// Offsets of the fixed part of an encoded Credential (encode_credential), so the status-apply
// loop can patch its state in place (batch_order.cpp).
namespace credential_layout {
inline constexpr std::uint8_t kCurrentVersion = 1;  // the value of the version octet
inline constexpr std::size_t kVersion = 0;
inline constexpr std::size_t kType = 1;
inline constexpr std::size_t kState = 2;
inline constexpr std::size_t kRelationState = 3;
inline constexpr std::size_t kFixedSize = 4;
}  // namespace credential_layout

using IssuerId = std::uint32_t;

// Certificates are keyed by issuer and serial: 4 bytes of issuer id, then the serial octets.
struct CertificateKey {
  IssuerId issuer = 0;
  Serial serial;

  static constexpr std::size_t kMaxEncodedSize = 4 + Serial::kMaxOctets;
  // Writes the key into `buffer` and returns a view of it; no allocation.
  std::string_view encode(std::array<char, kMaxEncodedSize>& buffer) const noexcept;
  static CertificateKey decode(std::string_view key);
};

struct CertificateRecord {
  UnixTime not_after = 0;
  CertificateStatus status = CertificateStatus::kValid;
  ReasonCode reason = ReasonCode::kUnspecified;  // meaningful when status != valid
  UnixTime revocation_time = 0;                  // when it was revoked or held
  std::optional<UnixTime> invalidity_date;       // RFC 5280 5.3.2, when known
  std::uint64_t status_sequence = 0;  // journal sequence of the last change; 0 = never changed
  std::string credential_id;
  std::string subject;  // RFC 2253 text, for people reading `cert status`
  // The issuer's CRL shard this certificate is listed in, bound when it is registered and never
  // changed (RFC 5280 5.2.5; docs/CRL.md). None: registered before CRL shards existed (a
  // version 1 record), listed in the issuer's single CRL.
  std::optional<std::uint16_t> crl_shard;

  std::string encode() const;
  void encode_to(std::string& out) const;  // appends, so a caller can reuse one buffer
  static CertificateRecord decode(std::string_view value);
};

// Offsets of the fixed part of an encoded CertificateRecord, so the status-apply loop can patch
// status fields in place without decoding the strings (see batch_order.cpp). Version 2 added the
// CRL shard after the version 1 fixed part; the offsets before it are the same in both, so the
// patchers read and write records of either version.
namespace certificate_layout {
inline constexpr std::uint8_t kVersion1 = 1;        // no CRL shard
inline constexpr std::uint8_t kCurrentVersion = 2;  // the value of the version octet
inline constexpr std::size_t kVersion = 0;
inline constexpr std::size_t kStatus = 1;
inline constexpr std::size_t kReason = 2;
inline constexpr std::size_t kFlags = 3;
inline constexpr std::size_t kNotAfter = 4;
inline constexpr std::size_t kRevocationTime = 12;
inline constexpr std::size_t kInvalidityDate = 20;
inline constexpr std::size_t kStatusSequence = 28;
inline constexpr std::size_t kStatusFieldsSize = 36;  // the fixed part of version 1
inline constexpr std::size_t kCrlShard = 36;          // version 2: u16, valid with the flag below
inline constexpr std::size_t kFixedSize = 38;
inline constexpr std::uint8_t kFlagHasInvalidityDate = 0x01;
inline constexpr std::uint8_t kFlagHasCrlShard = 0x02;
// The fixed part's size for a version octet, 0 for a version this build does not know.
constexpr std::size_t fixed_size(std::uint8_t version) noexcept {
  return version == kCurrentVersion ? kFixedSize : version == kVersion1 ? kStatusFieldsSize : 0;
}
}  // namespace certificate_layout

struct IssuerRecord {
  IssuerId id = 0;
  std::string name;             // the configured name, e.g. "demo-issuing-ca"
  std::string subject_der;      // DER of the issuer's subject Name
  std::string certificate_der;  // the issuer certificate
  // CRL shards (docs/CRL.md): the largest shard count any of its certificates was bound under (0:
  // none yet), so that every shard that holds a certificate is published after the configured
  // count shrinks; and how many of its certificates carry no shard (registered before shards
  // existed). Unknown in a version 1 record until it is rewritten (count them in the store).
  std::uint16_t crl_shards = 0;
  std::optional<std::uint64_t> unsharded_certificates;

  std::string encode() const;
  static IssuerRecord decode(IssuerId id, std::string_view value);
};

// One status change of one certificate. The journal is append-only and keyed by sequence.
struct JournalEntry {
  std::uint64_t sequence = 0;
  UnixTime time = 0;
  CertificateKey certificate;
  CertificateStatus old_status = CertificateStatus::kValid;
  CertificateStatus new_status = CertificateStatus::kValid;
  ReasonCode reason = ReasonCode::kUnspecified;
  std::uint64_t audit_id = 0;  // the audit record of the process run that made the change
  std::string process;
  std::string operator_name;

  static JournalEntry decode(std::uint64_t sequence, std::string_view value);
};

// Encodes a journal entry into `out` (cleared first) without building a JournalEntry.
void encode_journal_entry(std::string& out, UnixTime time, std::string_view certificate_key,
                          CertificateStatus old_status, CertificateStatus new_status,
                          ReasonCode reason, std::uint64_t audit_id, std::string_view process,
                          std::string_view operator_name);

enum class AuditKind : std::uint8_t {
  kProcessApplied = 1,     // a lifecycle process changed the store
  kApprovalRequested = 2,  // a process waiting for a second operator
  kApprovalRejected = 3,   // a second operator refused it; nothing changed
  kImport = 4,             // certificates registered by `revocore import`
  kRead = 5,               // an operator read a user or credential ([admin] audit_reads)
  kRefused = 6,            // an operator's request its roles do not permit; nothing changed
  kRolesChanged = 7,       // a local administrator gave a user other roles
};
std::string_view to_string(AuditKind kind) noexcept;

struct CredentialChangeRecord {
  std::string credential_id;
  CredentialType type = CredentialType::kCard;
  LifecycleState old_state = LifecycleState::kActive;
  LifecycleState new_state = LifecycleState::kActive;
  std::uint32_t certificates_changed = 0;
};

struct AuditRecord {
  std::uint64_t id = 0;
  AuditKind kind = AuditKind::kProcessApplied;
  UnixTime time = 0;
  std::string process;      // symbolic name, e.g. UsersProcLock
  std::string target_kind;  // "user", "credential" or "import"
  std::string target_id;
  std::string operator_name;
  std::string reason_label;
  ReasonCode reason_code = ReasonCode::kUnspecified;
  std::uint64_t approval_id = 0;  // 0 when no approval step was involved
  std::string requested_by;       // for an approved request: who asked for it
  std::optional<LifecycleState> user_old_state;
  std::optional<LifecycleState> user_new_state;
  std::vector<std::string> roles_before;
  std::vector<std::string> roles_after;
  std::vector<CredentialChangeRecord> credential_changes;
  std::uint64_t first_journal_sequence = 0;  // 0 when no certificate changed
  std::uint64_t last_journal_sequence = 0;
  std::uint64_t certificates_changed = 0;
  std::string note;
  // Self-service (docs/AUTHORIZATION.md): the card holder's own certificate that authenticated
  // the request, "ISSUER/SERIAL"; empty for operators and the command line.
  std::string self_service_certificate;

  std::string encode() const;
  static AuditRecord decode(std::uint64_t id, std::string_view value);
};

// kExpired: nobody decided within [approvals] expire_hours. kStale: its target has left the state
// the process requires (another process ran meanwhile), so it can never be applied. Both final.
enum class ApprovalStatus : std::uint8_t {
  kPending = 1,
  kApproved = 2,
  kRejected = 3,
  kExpired = 4,
  kStale = 5
};
std::string_view to_string(ApprovalStatus status) noexcept;

struct ApprovalRequest {
  std::uint64_t id = 0;
  ApprovalStatus status = ApprovalStatus::kPending;
  std::string process;
  std::string target_id;
  std::string reason_label;
  std::string requested_by;
  std::vector<std::string> requested_roles;  // the requester's roles when it filed the request
  UnixTime requested_at = 0;
  std::string decided_by;
  UnixTime decided_at = 0;
  std::uint64_t decision_audit_id = 0;
  std::optional<UnixTime> invalidity_date;  // as given with the request

  std::string encode() const;
  static ApprovalRequest decode(std::uint64_t id, std::string_view value);
};

// Per issuer and CRL shard: the CRL numbers handed out and what the last full (base) CRL and the
// last CRL of either kind covered.
struct CrlState {
  std::uint64_t last_number = 0;  // highest cRLNumber reserved, full or delta; never reused
  std::uint64_t base_number = 0;  // cRLNumber of the last published full CRL; 0 = none yet
  std::uint64_t base_journal_sequence = 0;  // journal covered by that full CRL
  UnixTime base_this_update = 0;
  UnixTime next_update = 0;  // nextUpdate of the last published full CRL
  // The journal covered by the newest CRL of this shard, full or delta: changes after it are
  // what the next publication has to show.
  std::uint64_t published_journal_sequence = 0;
  std::uint64_t delta_number = 0;  // cRLNumber of the newest delta CRL; 0 = none
  UnixTime delta_next_update = 0;

  std::string encode() const;
  static CrlState decode(std::string_view value);
};

// Replication through NATS JetStream (docs/REPLICATION.md). On the writer: how far the change
// feed has been acknowledged by the stream, so that a restarted publisher resumes after it.
struct FeedPosition {
  std::uint64_t journal = 0;        // status changes up to this journal sequence are in the stream
  std::uint64_t registrations = 0;  // registrations up to this sequence are in the stream
  IssuerId issuers = 0;             // issuers up to this id are in the stream
  // The journal and registration sequences the newest complete snapshot was taken at; changes
  // published after it count towards the next one. Zeros: no snapshot yet.
  std::uint64_t snapshot_journal = 0;
  std::uint64_t snapshot_registrations = 0;
  std::uint64_t snapshot_stream_sequence = 0;  // where that snapshot begins in the stream

  std::string encode() const;
  static FeedPosition decode(std::string_view value);
};

// On a replica: the last stream message applied, and how far the writer's feed had got with it.
// Written in the same transaction as the data the message carried, so that a crash replays
// nothing twice and skips nothing.
struct ReplicaPosition {
  std::uint64_t stream_sequence = 0;
  std::uint64_t journal = 0;
  std::uint64_t registrations = 0;
  // Inside a snapshot: the journal and registration sequences it was taken at (reached when its
  // last part is applied); zeros outside one.
  std::uint64_t snapshot_journal = 0;
  std::uint64_t snapshot_registrations = 0;

  std::string encode() const;
  static ReplicaPosition decode(std::string_view value);
};

// A batch job (a lock of many users or credentials), applied in chunks; its position moves in the
// same transaction as the chunk it covers, so a job resumes where it stopped, applying nothing
// twice.
// kFailed: the job met an error that is not one target's (a damaged record, a store error) and
// stopped; `failure` says what. `batch resume` tries it again.
enum class JobStatus : std::uint8_t { kRunning = 1, kDone = 2, kFailed = 3 };
std::string_view to_string(JobStatus status) noexcept;

struct JobRecord {
  std::uint64_t id = 0;
  JobStatus status = JobStatus::kRunning;
  std::string process;  // e.g. UsersProcLock
  std::string reason_label;
  std::string operator_name;
  std::string source;  // where the targets came from, for people
  UnixTime created_at = 0;
  UnixTime finished_at = 0;
  std::uint64_t total = 0;
  std::uint64_t position = 0;  // targets before this index are done
  std::uint64_t applied = 0;
  std::uint64_t failed = 0;  // unknown ids, wrong states: listed in the job's failures
  std::uint64_t certificates_changed = 0;
  std::vector<IssuerId> issuers_changed;
  bool crls_published = false;
  std::string failure;  // why a kFailed job stopped

  std::string encode() const;
  static JobRecord decode(std::uint64_t id, std::string_view value);
};

// A target of a batch job that was not applied, and why (an unknown id, a wrong state).
struct JobFailure {
  std::uint64_t index = 0;  // position of the target in the job's list
  std::string target;
  std::string reason;
};

// A signed OCSP response kept for one certificate and one CertID hash algorithm (RFC 9919's
// pre-signed model). It may be served only while the certificate's status_sequence is still the
// one it was signed for. Read from the store, the views are valid inside the transaction.
struct PresignedResponse {
  std::uint64_t status_sequence = 0;
  UnixTime this_update = 0;
  UnixTime next_update = 0;
  std::string_view sha1;  // SHA-1 of `der`, 20 octets: the HTTP ETag
  std::string_view der;   // the whole OCSPResponse
};
void encode_presigned_response(std::string& out, const PresignedResponse& response);
// False when the value is of a version this build does not know or is too short.
bool decode_presigned_response(std::string_view value, PresignedResponse& out) noexcept;

std::string encode_user(const User& user);
User decode_user(std::string_view id, std::string_view value);

// The words of a user's name as the search index keeps them: split at anything that is not a
// letter or a digit (spaces, hyphens, apostrophes, dots), folded to lower case (ASCII and the
// Latin-1 letters of UTF-8: "Åsa Öberg-Lind" gives "åsa", "öberg", "lind"), each at most 64
// bytes. fold_search_text() folds a query the same way without splitting it.
std::vector<std::string> name_words(std::string_view name);
std::string fold_search_text(std::string_view text);
std::string encode_credential(const Credential& credential);
Credential decode_credential(std::string_view id, std::string_view value);

// 8-byte big-endian keys for sequence-numbered databases (journal, audit, approvals, jobs).
std::string sequence_key(std::uint64_t sequence);
std::uint64_t decode_sequence_key(std::string_view key);
// A job's targets and failures are keyed by job id then index, 8 octets each, big-endian.
std::string job_item_key(std::uint64_t job, std::uint64_t index);

// A pre-signed response's key: the certificate key, then one octet naming the CertID hash.
inline constexpr std::size_t kMaxPresignedKeySize = CertificateKey::kMaxEncodedSize + 1;
std::string_view presigned_response_key(const CertificateKey& certificate,
                                        std::uint8_t cert_id_hash,
                                        std::array<char, kMaxPresignedKeySize>& buffer) noexcept;

}  // namespace revocore
