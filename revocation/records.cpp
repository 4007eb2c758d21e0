#include "revocation/records.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore {

using codec::ByteReader;
using codec::ByteWriter;
using codec::hex_digit;

namespace codec {
void ByteReader::fail(std::string_view detail) const {
  throw Error(ErrorCode::kStoreCorrupt,
              fmt::format("the store holds a damaged {} record ({}); restore the data directory "
                          "from a backup",
                          what_, detail));
}
}  // namespace codec

namespace {

constexpr std::uint8_t kUserVersion = 1;
constexpr std::uint8_t kCertificateVersion = certificate_layout::kCurrentVersion;
constexpr std::uint8_t kIssuerVersion = 2;  // 2 added the CRL shard fields
constexpr std::uint8_t kJournalVersion = 1;
constexpr std::uint8_t kAuditVersion = 1;
constexpr std::uint8_t kApprovalVersion = 1;
constexpr std::uint8_t kCrlStateVersion = 2;  // 2 added what the newest delta covers
constexpr std::uint8_t kJobVersion = 1;
constexpr std::uint8_t kPresignedResponseVersion = 1;
constexpr std::uint8_t kFeedPositionVersion = 1;
constexpr std::uint8_t kReplicaPositionVersion = 1;
// A pre-signed response: version, status sequence, thisUpdate, nextUpdate (8 octets each), the
// response's SHA-1, then the response. Read in place on the OCSP hot path.
namespace presigned_layout {
constexpr std::size_t kStatusSequence = 1;
constexpr std::size_t kThisUpdate = 9;
constexpr std::size_t kNextUpdate = 17;
constexpr std::size_t kSha1 = 25;
constexpr std::size_t kSha1Size = 20;
constexpr std::size_t kHeaderSize = kSha1 + kSha1Size;
}  // namespace presigned_layout

void expect_version(ByteReader& in, std::uint8_t known) {
  const std::uint8_t version = in.u8();
  if (version != known) {
    in.fail(fmt::format("record version {} is not known to this build, which reads version {}",
                        version, known));
  }
}

// For records whose older version this build still reads: the version octet, `oldest` to
// `known`.
std::uint8_t expect_version_from(ByteReader& in, std::uint8_t oldest, std::uint8_t known) {
  const std::uint8_t version = in.u8();
  if (version < oldest || version > known) {
    in.fail(
        fmt::format("record version {} is not known to this build, which reads versions {} "
                    "to {}",
                    version, oldest, known));
  }
  return version;
}

template <typename T>
T checked(std::optional<T> value, ByteReader& in, const char* field) {
  if (!value) {
    in.fail(fmt::format("unknown {} value", field));
  }
  return *value;
}

LifecycleState read_state(ByteReader& in) {
  return checked(lifecycle_state_from_byte(in.u8()), in, "state");
}
CertificateStatus read_status(ByteReader& in) {
  return checked(certificate_status_from_byte(in.u8()), in, "certificate status");
}
ReasonCode read_reason(ByteReader& in) {
  return checked(reason_code_from_byte(in.u8()), in, "reason code");
}

void write_strings(ByteWriter& out, const std::vector<std::string>& strings) {
  out.u16(static_cast<std::uint16_t>(strings.size()));
  for (const auto& s : strings) {
    out.str(s);
  }
}
std::vector<std::string> read_strings(ByteReader& in) {
  std::vector<std::string> strings(in.u16());
  for (auto& s : strings) {
    s = std::string(in.str());
  }
  return strings;
}

// 0 encodes "absent" for optional states; real states start at 1.
void write_optional_state(ByteWriter& out, std::optional<LifecycleState> state) {
  out.u8(state ? static_cast<std::uint8_t>(*state) : 0);
}
std::optional<LifecycleState> read_optional_state(ByteReader& in) {
  const std::uint8_t byte = in.u8();
  if (byte == 0) {
    return std::nullopt;
  }
  return checked(lifecycle_state_from_byte(byte), in, "state");
}

}  // namespace

std::string_view CertificateKey::encode(std::array<char, kMaxEncodedSize>& buffer) const noexcept {
  buffer[0] = static_cast<char>(issuer >> 24);
  buffer[1] = static_cast<char>(issuer >> 16);
  buffer[2] = static_cast<char>(issuer >> 8);
  buffer[3] = static_cast<char>(issuer);
  const auto octets = serial.octets();
  std::memcpy(buffer.data() + 4, octets.data(), octets.size());
  return {buffer.data(), 4 + octets.size()};
}

CertificateKey CertificateKey::decode(std::string_view key) {
  ByteReader in(key, "certificate key");
  CertificateKey out;
  out.issuer = in.u32();
  out.serial = Serial::from_der_content(key.substr(4));
  return out;
}

std::string CertificateRecord::encode() const {
  std::string out;
  encode_to(out);
  return out;
}

void CertificateRecord::encode_to(std::string& out) const {
  ByteWriter w(out);
  w.u8(kCertificateVersion);
  w.u8(static_cast<std::uint8_t>(status));
  w.u8(static_cast<std::uint8_t>(reason));
  w.u8(
      static_cast<std::uint8_t>((invalidity_date ? certificate_layout::kFlagHasInvalidityDate : 0) |
                                (crl_shard ? certificate_layout::kFlagHasCrlShard : 0)));
  w.i64(not_after);
  w.i64(revocation_time);
  w.i64(invalidity_date.value_or(0));
  w.u64(status_sequence);
  w.u16(crl_shard.value_or(0));
  w.str(credential_id);
  w.str(subject);
}

CertificateRecord CertificateRecord::decode(std::string_view value) {
  ByteReader in(value, "certificate");
  const std::uint8_t version =
      expect_version_from(in, certificate_layout::kVersion1, kCertificateVersion);
  CertificateRecord r;
  r.status = read_status(in);
  r.reason = read_reason(in);
  const std::uint8_t flags = in.u8();
  r.not_after = in.i64();
  r.revocation_time = in.i64();
  const UnixTime invalidity = in.i64();
  if (flags & certificate_layout::kFlagHasInvalidityDate) {
    r.invalidity_date = invalidity;
  }
  r.status_sequence = in.u64();
  if (version >= 2) {
    const std::uint16_t shard = in.u16();
    if (flags & certificate_layout::kFlagHasCrlShard) {
      r.crl_shard = shard;
    }
  }
  r.credential_id = std::string(in.str());
  r.subject = std::string(in.str());
  return r;
}

std::string IssuerRecord::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kIssuerVersion);
  w.str(name);
  w.str(subject_der);
  w.str(certificate_der);
  w.u16(crl_shards);
  w.u8(unsharded_certificates ? 1 : 0);
  w.u64(unsharded_certificates.value_or(0));
  return out;
}

IssuerRecord IssuerRecord::decode(IssuerId id, std::string_view value) {
  ByteReader in(value, "issuer");
  const std::uint8_t version = expect_version_from(in, 1, kIssuerVersion);
  IssuerRecord r;
  r.id = id;
  r.name = std::string(in.str());
  r.subject_der = std::string(in.str());
  r.certificate_der = std::string(in.str());
  if (version >= 2) {
    r.crl_shards = in.u16();
    const bool known = in.u8() != 0;
    const std::uint64_t unsharded = in.u64();
    if (known) {
      r.unsharded_certificates = unsharded;
    }
  }
  return r;
}

void encode_journal_entry(std::string& out, UnixTime time, std::string_view certificate_key,
                          CertificateStatus old_status, CertificateStatus new_status,
                          ReasonCode reason, std::uint64_t audit_id, std::string_view process,
                          std::string_view operator_name) {
  out.clear();
  ByteWriter w(out);
  w.u8(kJournalVersion);
  w.i64(time);
  w.u8(static_cast<std::uint8_t>(old_status));
  w.u8(static_cast<std::uint8_t>(new_status));
  w.u8(static_cast<std::uint8_t>(reason));
  w.u64(audit_id);
  w.str(certificate_key);
  w.str(process);
  w.str(operator_name);
}

JournalEntry JournalEntry::decode(std::uint64_t sequence, std::string_view value) {
  ByteReader in(value, "journal");
  expect_version(in, kJournalVersion);
  JournalEntry e;
  e.sequence = sequence;
  e.time = in.i64();
  e.old_status = read_status(in);
  e.new_status = read_status(in);
  e.reason = read_reason(in);
  e.audit_id = in.u64();
  e.certificate = CertificateKey::decode(in.str());
  e.process = std::string(in.str());
  e.operator_name = std::string(in.str());
  return e;
}

std::string fold_search_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c == 0xC3 && i + 1 < text.size()) {
      // U+00C0..U+00DE (but U+00D7, the multiplication sign) are C3 80..C3 9E in UTF-8; their
      // lower-case letters are 0x20 higher.
      const auto next = static_cast<unsigned char>(text[i + 1]);
      out += text[i];
      out += static_cast<char>(next >= 0x80 && next <= 0x9E && next != 0x97 ? next + 0x20 : next);
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::vector<std::string> name_words(std::string_view name) {
  constexpr std::size_t kMaxWordBytes = 64;
  const std::string folded = fold_search_text(name);
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word.substr(0, kMaxWordBytes));
    }
    word.clear();
  };
  for (const char c : folded) {
    const auto byte = static_cast<unsigned char>(c);
    // Bytes of multi-byte UTF-8 characters belong to words; ASCII separates unless alphanumeric.
    if (byte >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += c;
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string_view to_string(AuditKind kind) noexcept {
  switch (kind) {
    case AuditKind::kProcessApplied:
      return "process_applied";
    case AuditKind::kApprovalRequested:
      return "approval_requested";
    case AuditKind::kApprovalRejected:
      return "approval_rejected";
    case AuditKind::kImport:
      return "import";
    case AuditKind::kRead:
      return "read";
    case AuditKind::kRefused:
      return "refused";
    case AuditKind::kRolesChanged:
      return "roles_changed";
  }
  return "invalid";
}

std::string AuditRecord::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kAuditVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  w.i64(time);
  w.str(process);
  w.str(target_kind);
  w.str(target_id);
  w.str(operator_name);
  w.str(reason_label);
  w.u8(static_cast<std::uint8_t>(reason_code));
  w.u64(approval_id);
  w.str(requested_by);
  write_optional_state(w, user_old_state);
  write_optional_state(w, user_new_state);
  write_strings(w, roles_before);
  write_strings(w, roles_after);
  w.u32(static_cast<std::uint32_t>(credential_changes.size()));
  for (const auto& change : credential_changes) {
    w.str(change.credential_id);
    w.u8(static_cast<std::uint8_t>(change.type));
    w.u8(static_cast<std::uint8_t>(change.old_state));
    w.u8(static_cast<std::uint8_t>(change.new_state));
    w.u32(change.certificates_changed);
  }
  w.u64(first_journal_sequence);
  w.u64(last_journal_sequence);
  w.u64(certificates_changed);
  w.str(note);
  // Appended: a record written before self-service ends here and decodes with none.
  if (!self_service_certificate.empty()) {
    w.str(self_service_certificate);
  }
  return out;
}

AuditRecord AuditRecord::decode(std::uint64_t id, std::string_view value) {
  ByteReader in(value, "audit");
  expect_version(in, kAuditVersion);
  AuditRecord r;
  r.id = id;
  const std::uint8_t kind = in.u8();
  if (kind < 1 || kind > 7) {
    in.fail("unknown audit kind");
  }
  r.kind = static_cast<AuditKind>(kind);
  r.time = in.i64();
  r.process = std::string(in.str());
  r.target_kind = std::string(in.str());
  r.target_id = std::string(in.str());
  r.operator_name = std::string(in.str());
  r.reason_label = std::string(in.str());
  r.reason_code = read_reason(in);
  r.approval_id = in.u64();
  r.requested_by = std::string(in.str());
  r.user_old_state = read_optional_state(in);
  r.user_new_state = read_optional_state(in);
  r.roles_before = read_strings(in);
  r.roles_after = read_strings(in);
  r.credential_changes.resize(in.u32());
  for (auto& change : r.credential_changes) {
    change.credential_id = std::string(in.str());
    change.type = checked(credential_type_from_byte(in.u8()), in, "credential type");
    change.old_state = read_state(in);
    change.new_state = read_state(in);
    change.certificates_changed = in.u32();
  }
  r.first_journal_sequence = in.u64();
  r.last_journal_sequence = in.u64();
  r.certificates_changed = in.u64();
  r.note = std::string(in.str());
  if (!in.at_end()) {
    r.self_service_certificate = std::string(in.str());
  }
  return r;
}

std::string_view to_string(ApprovalStatus status) noexcept {
  switch (status) {
    case ApprovalStatus::kPending:
      return "pending";
    case ApprovalStatus::kApproved:
      return "approved";
    case ApprovalStatus::kRejected:
      return "rejected";
    case ApprovalStatus::kExpired:
      return "expired";
    case ApprovalStatus::kStale:
      return "stale";
  }
  return "invalid";
}

std::string ApprovalRequest::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kApprovalVersion);
  w.u8(static_cast<std::uint8_t>(status));
  w.str(process);
  w.str(target_id);
  w.str(reason_label);
  w.str(requested_by);
  w.i64(requested_at);
  w.str(decided_by);
  w.i64(decided_at);
  w.u64(decision_audit_id);
  w.u8(invalidity_date ? 1 : 0);
  w.i64(invalidity_date.value_or(0));
  // Appended: a request stored before roles existed ends here and decodes with none.
  w.u16(static_cast<std::uint16_t>(std::min<std::size_t>(requested_roles.size(), 0xFFFF)));
  for (std::size_t i = 0; i < requested_roles.size() && i < 0xFFFF; ++i) {
    w.str(requested_roles[i]);
  }
  return out;
}

ApprovalRequest ApprovalRequest::decode(std::uint64_t id, std::string_view value) {
  ByteReader in(value, "approval");
  expect_version(in, kApprovalVersion);
  ApprovalRequest r;
  r.id = id;
  const std::uint8_t status = in.u8();
  if (status < 1 || status > 5) {
    in.fail("unknown approval status");
  }
  r.status = static_cast<ApprovalStatus>(status);
  r.process = std::string(in.str());
  r.target_id = std::string(in.str());
  r.reason_label = std::string(in.str());
  r.requested_by = std::string(in.str());
  r.requested_at = in.i64();
  r.decided_by = std::string(in.str());
  r.decided_at = in.i64();
  r.decision_audit_id = in.u64();
  const bool has_invalidity_date = in.u8() != 0;
  const UnixTime invalidity_date = in.i64();
  if (has_invalidity_date) {
    r.invalidity_date = invalidity_date;
  }
  if (!in.at_end()) {
    const std::uint16_t roles = in.u16();
    for (std::uint16_t i = 0; i < roles; ++i) {
      r.requested_roles.emplace_back(in.str());
    }
  }
  return r;
}

std::string CrlState::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kCrlStateVersion);
  w.u64(last_number);
  w.u64(base_number);
  w.u64(base_journal_sequence);
  w.i64(base_this_update);
  w.i64(next_update);
  w.u64(published_journal_sequence);
  w.u64(delta_number);
  w.i64(delta_next_update);
  return out;
}

CrlState CrlState::decode(std::string_view value) {
  ByteReader in(value, "CRL state");
  const std::uint8_t version = expect_version_from(in, 1, kCrlStateVersion);
  CrlState s;
  s.last_number = in.u64();
  s.base_number = in.u64();
  s.base_journal_sequence = in.u64();
  s.base_this_update = in.i64();
  s.next_update = in.i64();
  if (version >= 2) {
    s.published_journal_sequence = in.u64();
    s.delta_number = in.u64();
    s.delta_next_update = in.i64();
  } else {
    // Version 1 published a full CRL after every delta: the base covered the newest change.
    s.published_journal_sequence = s.base_journal_sequence;
  }
  return s;
}

std::string JobRecord::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kJobVersion);
  w.u8(static_cast<std::uint8_t>(status));
  w.str(process);
  w.str(reason_label);
  w.str(operator_name);
  w.str(source);
  w.i64(created_at);
  w.i64(finished_at);
  w.u64(total);
  w.u64(position);
  w.u64(applied);
  w.u64(failed);
  w.u64(certificates_changed);
  w.u16(static_cast<std::uint16_t>(issuers_changed.size()));
  for (const IssuerId issuer : issuers_changed) {
    w.u32(issuer);
  }
  w.u8(crls_published ? 1 : 0);
  w.str(failure);  // added after version 1's first records: absent in those, read as ""
  return out;
}

JobRecord JobRecord::decode(std::uint64_t id, std::string_view value) {
  ByteReader in(value, "batch job");
  expect_version(in, kJobVersion);
  JobRecord r;
  r.id = id;
  const std::uint8_t status = in.u8();
  if (status < 1 || status > 3) {
    in.fail("unknown job status");
  }
  r.status = static_cast<JobStatus>(status);
  r.process = std::string(in.str());
  r.reason_label = std::string(in.str());
  r.operator_name = std::string(in.str());
  r.source = std::string(in.str());
  r.created_at = in.i64();
  r.finished_at = in.i64();
  r.total = in.u64();
  r.position = in.u64();
  r.applied = in.u64();
  r.failed = in.u64();
  r.certificates_changed = in.u64();
  r.issuers_changed.resize(in.u16());
  for (auto& issuer : r.issuers_changed) {
    issuer = in.u32();
  }
  r.crls_published = in.u8() != 0;
  if (!in.at_end()) {
    r.failure = std::string(in.str());
  }
  return r;
}

std::string_view to_string(JobStatus status) noexcept {
  switch (status) {
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kDone:
      return "done";
    case JobStatus::kFailed:
      return "failed";
  }
  return "invalid";
}

std::string encode_user(const User& user) {
  std::string out;
  ByteWriter w(out);
  w.u8(kUserVersion);
  w.u8(static_cast<std::uint8_t>(user.state));
  w.str(user.name);
  write_strings(w, user.roles);
  return out;
}

User decode_user(std::string_view id, std::string_view value) {
  ByteReader in(value, "user");
  expect_version(in, kUserVersion);
  User user;
  user.id = std::string(id);
  user.state = read_state(in);
  user.name = std::string(in.str());
  user.roles = read_strings(in);
  return user;
}

std::string encode_credential(const Credential& credential) {
  std::string out;
  ByteWriter w(out);
  w.u8(credential_layout::kCurrentVersion);
  w.u8(static_cast<std::uint8_t>(credential.type));
  w.u8(static_cast<std::uint8_t>(credential.state));
  w.u8(static_cast<std::uint8_t>(credential.relation_state));
  w.str(credential.user_id);
  return out;
}

Credential decode_credential(std::string_view id, std::string_view value) {
  ByteReader in(value, "credential");
  expect_version(in, credential_layout::kCurrentVersion);
  Credential c;
  c.id = std::string(id);
  c.type = checked(credential_type_from_byte(in.u8()), in, "credential type");
  c.state = read_state(in);
  c.relation_state = read_state(in);
  c.user_id = std::string(in.str());
  return c;
}

std::string sequence_key(std::uint64_t sequence) {
  std::string out;
  ByteWriter(out).u64(sequence);
  return out;
}

std::uint64_t decode_sequence_key(std::string_view key) {
  ByteReader in(key, "sequence key");
  return in.u64();
}

std::string job_item_key(std::uint64_t job, std::uint64_t index) {
  std::string key;
  ByteWriter w(key);
  w.u64(job);
  w.u64(index);
  return key;
}

std::string_view presigned_response_key(const CertificateKey& certificate,
                                        std::uint8_t cert_id_hash,
                                        std::array<char, kMaxPresignedKeySize>& buffer) noexcept {
  std::array<char, CertificateKey::kMaxEncodedSize> key_buffer;
  const std::string_view key = certificate.encode(key_buffer);
  key.copy(buffer.data(), key.size());
  buffer[key.size()] = static_cast<char>(cert_id_hash);
  return {buffer.data(), key.size() + 1};
}

void encode_presigned_response(std::string& out, const PresignedResponse& response) {
  if (response.sha1.size() != presigned_layout::kSha1Size) {
    throw Error(ErrorCode::kInvalidArgument, "a pre-signed response needs its 20-octet SHA-1");
  }
  out.clear();
  ByteWriter w(out);
  w.u8(kPresignedResponseVersion);
  w.u64(response.status_sequence);
  w.i64(response.this_update);
  w.i64(response.next_update);
  w.bytes(response.sha1);
  w.bytes(response.der);
}

bool decode_presigned_response(std::string_view value, PresignedResponse& out) noexcept {
  namespace layout = presigned_layout;
  if (value.size() <= layout::kHeaderSize ||
      static_cast<std::uint8_t>(value[0]) != kPresignedResponseVersion) {
    return false;
  }
  out.status_sequence = codec::load_u64_at(value.data() + layout::kStatusSequence);
  out.this_update = static_cast<UnixTime>(codec::load_u64_at(value.data() + layout::kThisUpdate));
  out.next_update = static_cast<UnixTime>(codec::load_u64_at(value.data() + layout::kNextUpdate));
  out.sha1 = value.substr(layout::kSha1, layout::kSha1Size);
  out.der = value.substr(layout::kHeaderSize);
  return true;
}

std::string FeedPosition::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kFeedPositionVersion);
  w.u64(journal);
  w.u64(registrations);
  w.u32(issuers);
  w.u64(snapshot_journal);
  w.u64(snapshot_registrations);
  w.u64(snapshot_stream_sequence);
  return out;
}

FeedPosition FeedPosition::decode(std::string_view value) {
  ByteReader in(value, "feed position");
  expect_version(in, kFeedPositionVersion);
  FeedPosition p;
  p.journal = in.u64();
  p.registrations = in.u64();
  p.issuers = in.u32();
  p.snapshot_journal = in.u64();
  p.snapshot_registrations = in.u64();
  p.snapshot_stream_sequence = in.u64();
  return p;
}

std::string ReplicaPosition::encode() const {
  std::string out;
  ByteWriter w(out);
  w.u8(kReplicaPositionVersion);
  w.u64(stream_sequence);
  w.u64(journal);
  w.u64(registrations);
  w.u64(snapshot_journal);
  w.u64(snapshot_registrations);
  return out;
}

ReplicaPosition ReplicaPosition::decode(std::string_view value) {
  ByteReader in(value, "replica position");
  expect_version(in, kReplicaPositionVersion);
  ReplicaPosition p;
  p.stream_sequence = in.u64();
  p.journal = in.u64();
  p.registrations = in.u64();
  p.snapshot_journal = in.u64();
  p.snapshot_registrations = in.u64();
  return p;
}

}  // namespace revocore
