#include "revocation/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "revocation/codec.hpp"
#include "revocation/identifier.hpp"

namespace revocore {
namespace lmdb {

void throw_error(int rc, std::string_view what) {
  switch (rc) {
    case MDB_MAP_FULL:
      throw Error(ErrorCode::kStoreFull,
                  "the store is full (LMDB map size reached); nothing was changed. Raise "
                  "[store] map_size_mib in the configuration and run the command again");
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      throw Error(ErrorCode::kStoreCorrupt,
                  fmt::format("{}: the files are not a readable LMDB environment ({})", what,
                              ::mdb_strerror(rc)));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      throw Error(ErrorCode::kStoreCorrupt,
                  fmt::format("{}: the store is damaged ({}); restore it from a backup", what,
                              ::mdb_strerror(rc)));
    default:
      throw Error(ErrorCode::kStoreIo, fmt::format("{}: {}", what, ::mdb_strerror(rc)));
  }
}

Environment::Environment(const std::filesystem::path& directory, std::size_t map_size_bytes,
                         unsigned max_databases) {
  check(::mdb_env_create(&env_), "create LMDB environment");
  try {
    check(::mdb_env_set_maxdbs(env_, max_databases), "set LMDB database count");
    check(::mdb_env_set_mapsize(env_, map_size_bytes), "set LMDB map size");
    // MDB_NOTLS: read transactions are not tied to threads (the OCSP workers share them).
    check(::mdb_env_open(env_, directory.c_str(), MDB_NOTLS, 0640),
          fmt::format("open store in {}", directory.string()));
  } catch (...) {
    reset();
    throw;
  }
}

}  // namespace lmdb

namespace {

constexpr unsigned kMaxDatabases = 24;
constexpr std::string_view kFeedPositionKey = "feed";
constexpr std::string_view kReplicaPositionKey = "replica";
constexpr std::string_view kSchemaNameKey = "schema";
constexpr std::string_view kSchemaName = "revocore-store";
constexpr std::string_view kSchemaVersionKey = "schema_version";

std::string id_key(IssuerId id) {
  std::string out;
  codec::ByteWriter(out).u32(id);
  return out;
}

// Shard 0's CRL state is keyed by the issuer id alone, as before shards existed, so that an
// issuer's CRL numbering goes on where it was; other shards append the shard, 2 octets.
std::string crl_state_key(IssuerId id, std::uint16_t shard) {
  std::string out = id_key(id);
  if (shard != 0) {
    codec::ByteWriter(out).u16(shard);
  }
  return out;
}

}  // namespace

Store Store::create(const std::filesystem::path& directory, const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    throw Error(ErrorCode::kStoreIo, fmt::format("cannot create the store directory {}: {}",
                                                 directory.string(), ec.message()));
  }
  Store store(directory, lmdb::Environment(directory, options.map_size_bytes, kMaxDatabases));
  store.open_databases(/*create=*/true);
  return store;
}

Store Store::open(const std::filesystem::path& directory, const StoreOptions& options) {
  if (!std::filesystem::exists(directory / "data.mdb")) {
    throw Error(ErrorCode::kStoreCorrupt,
                fmt::format("{} holds no revocore store; create one with `revocore init`",
                            directory.string()));
  }
  Store store(directory, lmdb::Environment(directory, options.map_size_bytes, kMaxDatabases));
  store.open_databases(/*create=*/false);
  return store;
}

void Store::open_databases(bool create) {
  lmdb::Transaction txn(env_, lmdb::Transaction::Mode::kWrite);
  // The schema check comes first: a foreign LMDB file must not get our databases added to it.
  const int rc = ::mdb_dbi_open(txn.handle(), "meta", create ? MDB_CREATE : 0, &dbs_.meta);
  if (rc == MDB_NOTFOUND) {
    throw Error(ErrorCode::kStoreCorrupt,
                fmt::format("{} is an LMDB environment but not a revocore store; point "
                            "--data-dir at a revocore data directory",
                            directory_.string()));
  }
  lmdb::check(rc, "open database meta");

  std::string_view name;
  std::string_view version;
  const bool has_name = txn.get(dbs_.meta, kSchemaNameKey, name);
  const bool has_version = txn.get(dbs_.meta, kSchemaVersionKey, version);
  if (!has_name) {
    std::string_view any_key, any_value;
    lmdb::Cursor cursor(txn, dbs_.meta);
    if (!create || cursor.get(any_key, any_value, MDB_FIRST)) {
      throw Error(
          ErrorCode::kStoreCorrupt,
          fmt::format("{} is not a revocore store (no schema record)", directory_.string()));
    }
    std::string version_bytes;
    codec::ByteWriter(version_bytes).u32(kSchemaVersion);
    txn.put(dbs_.meta, kSchemaNameKey, kSchemaName);
    txn.put(dbs_.meta, kSchemaVersionKey, version_bytes);
  } else {
    if (name != kSchemaName || !has_version || version.size() != 4) {
      throw Error(ErrorCode::kStoreCorrupt, fmt::format("{} is not a revocore store (schema '{}')",
                                                        directory_.string(), std::string(name)));
    }
    codec::ByteReader in(version, "schema");
    const std::uint32_t found = in.u32();
    if (found != kSchemaVersion) {
      throw Error(ErrorCode::kStoreVersion,
                  fmt::format("the store in {} has schema version {}, but this revocore reads "
                              "version {}; use the revocore release that wrote it",
                              directory_.string(), found, kSchemaVersion));
    }
  }

  const unsigned flags = create ? MDB_CREATE : 0;
  dbs_.users = txn.open_database("users", flags);
  dbs_.credentials = txn.open_database("credentials", flags);
  dbs_.user_credentials = txn.open_database("user_credentials", flags | MDB_DUPSORT);
  dbs_.credential_certificates = txn.open_database("credential_certificates", flags | MDB_DUPSORT);
  dbs_.certificates = txn.open_database("certificates", flags);
  dbs_.issuers = txn.open_database("issuers", flags);
  dbs_.issuer_names = txn.open_database("issuer_names", flags);
  dbs_.journal = txn.open_database("journal", flags);
  dbs_.audit = txn.open_database("audit", flags);
  dbs_.approvals = txn.open_database("approvals", flags);
  dbs_.crl_state = txn.open_database("crl_state", flags);
  dbs_.ocsp_responses = txn.open_database("ocsp_responses", flags);
  dbs_.jobs = txn.open_database("jobs", flags);
  dbs_.job_targets = txn.open_database("job_targets", flags);
  dbs_.job_failures = txn.open_database("job_failures", flags);
  // Added with replication: created in a store made by an earlier revocore as it is opened.
  dbs_.registrations = txn.open_database("registrations", MDB_CREATE);
  dbs_.replication = txn.open_database("replication", MDB_CREATE);
  // Added with search: a store made by an earlier revocore gets the index of its users' names
  // built as it is opened, in this transaction.
  MDB_dbi words = 0;
  const int words_rc = ::mdb_dbi_open(txn.handle(), "user_name_words", MDB_DUPSORT, &words);
  if (words_rc == MDB_NOTFOUND) {
    words = txn.open_database("user_name_words", MDB_CREATE | MDB_DUPSORT);
    lmdb::Cursor users(txn, dbs_.users);
    std::string_view id, value;
    for (bool found = users.get(id, value, MDB_FIRST); found;
         found = users.get(id, value, MDB_NEXT)) {
      std::string name;
      try {
        name = decode_user(id, value).name;
      } catch (const Error&) {
        continue;  // a damaged record is reported where it is read, not here
      }
      for (const auto& word : name_words(name)) {
        txn.put_new(words, word, id, MDB_NODUPDATA);
      }
    }
  } else {
    lmdb::check(words_rc, "open database user_name_words");
  }
  dbs_.user_name_words = words;
  txn.commit();
}

StoreTransaction Store::read() const {
  return StoreTransaction(lmdb::Transaction(env_, lmdb::Transaction::Mode::kRead), dbs_);
}

WriteTransaction Store::write() {
  return WriteTransaction(lmdb::Transaction(env_, lmdb::Transaction::Mode::kWrite), dbs_);
}

WriteTransaction Store::nested(WriteTransaction& parent) {
  return WriteTransaction(lmdb::Transaction(env_, parent.txn_), dbs_);
}

// ---- reads ----

namespace {

// An id LMDB cannot hold as a key names nothing in the store (callers check ids at the boundary;
// this keeps a lookup from failing with MDB_BAD_VALSIZE if one does not).
bool storable_key(std::string_view id) noexcept {
  return !id.empty() && id.size() <= kMaxIdentifierBytes;
}

}  // namespace

std::optional<User> StoreTransaction::user(std::string_view id) const {
  std::string_view value;
  if (!storable_key(id) || !txn_.get(dbs_->users, id, value)) {
    return std::nullopt;
  }
  return decode_user(id, value);
}

std::vector<User> StoreTransaction::users_with_prefix(std::string_view prefix,
                                                      std::size_t limit) const {
  std::vector<User> out;
  lmdb::Cursor cursor(txn_, dbs_->users);
  std::string_view key = prefix;
  std::string_view value;
  bool found =
      prefix.empty() ? cursor.get(key, value, MDB_FIRST) : cursor.get(key, value, MDB_SET_RANGE);
  for (; found && out.size() < limit && key.starts_with(prefix);
       found = cursor.get(key, value, MDB_NEXT)) {
    out.push_back(decode_user(key, value));
  }
  return out;
}

void StoreTransaction::for_each_user_with_name_word(
    std::string_view prefix, const std::function<bool(std::string_view)>& visit) const {
  if (prefix.empty() || prefix.size() > kMaxIdentifierBytes) {
    return;
  }
  lmdb::Cursor cursor(txn_, dbs_->user_name_words);
  std::string_view key = prefix;
  std::string_view value;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE); found && key.starts_with(prefix);
       found = cursor.get(key, value, MDB_NEXT)) {
    if (!visit(value)) {
      return;
    }
  }
}

std::vector<Credential> StoreTransaction::credentials_with_prefix(std::string_view prefix,
                                                                  std::size_t limit) const {
  std::vector<Credential> out;
  if (prefix.empty() || prefix.size() > kMaxIdentifierBytes) {
    return out;
  }
  lmdb::Cursor cursor(txn_, dbs_->credentials);
  std::string_view key = prefix;
  std::string_view value;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE);
       found && out.size() < limit && key.starts_with(prefix);
       found = cursor.get(key, value, MDB_NEXT)) {
    out.push_back(decode_credential(key, value));
  }
  return out;
}

std::vector<std::pair<CertificateKey, CertificateRecord>>
StoreTransaction::certificates_with_serial_prefix(IssuerId issuer, std::string_view hex_prefix,
                                                  std::size_t limit) const {
  std::vector<std::pair<CertificateKey, CertificateRecord>> out;
  if (hex_prefix.empty() || hex_prefix.size() > 2 * Serial::kMaxOctets) {
    return out;
  }
  // The key is the issuer id and the serial's DER content octets. A prefix of an odd number of
  // digits ends in half an octet: the octets whose high nibble it is. Serial::hex drops the sign
  // octet (00) of a serial whose first octet is 80 or above, so such a prefix is looked for
  // after a 00 too.
  std::string octets;
  for (std::size_t i = 0; i + 1 < hex_prefix.size(); i += 2) {
    octets += static_cast<char>(codec::hex_digit(hex_prefix[i]) * 16 +
                                codec::hex_digit(hex_prefix[i + 1]));
  }
  const bool half = hex_prefix.size() % 2 == 1;
  const int nibble = half ? codec::hex_digit(hex_prefix.back()) : -1;
  const int first = codec::hex_digit(hex_prefix[0]);
  std::vector<std::string> starts{octets};
  if (first >= 8) {
    starts.insert(starts.begin(), std::string(1, '\0') + octets);
  }
  lmdb::Cursor cursor(txn_, dbs_->certificates);
  for (const auto& start : starts) {
    std::string seek = id_key(issuer) + start;
    if (half) {
      seek += static_cast<char>(nibble << 4);
    }
    const std::string whole = id_key(issuer) + start;
    std::string_view key = seek;
    std::string_view value;
    for (bool found = cursor.get(key, value, MDB_SET_RANGE); found && out.size() < limit;
         found = cursor.get(key, value, MDB_NEXT)) {
      if (!key.starts_with(whole) ||
          (half && (key.size() <= whole.size() ||
                    (static_cast<unsigned char>(key[whole.size()]) >> 4) != nibble))) {
        break;
      }
      CertificateKey decoded = CertificateKey::decode(key);
      out.emplace_back(decoded, CertificateRecord::decode(value));
    }
  }
  return out;
}

std::optional<Credential> StoreTransaction::credential(std::string_view id) const {
  std::string_view value;
  if (!storable_key(id) || !txn_.get(dbs_->credentials, id, value)) {
    return std::nullopt;
  }
  return decode_credential(id, value);
}

std::vector<Credential> StoreTransaction::credentials_of_user(std::string_view user_id) const {
  std::vector<Credential> out;
  if (!storable_key(user_id)) {
    return out;
  }
  lmdb::Cursor cursor(txn_, dbs_->user_credentials);
  std::string_view key = user_id;
  std::string_view credential_id;
  for (bool found = cursor.get(key, credential_id, MDB_SET_KEY); found;
       found = cursor.get(key, credential_id, MDB_NEXT_DUP)) {
    auto credential = this->credential(credential_id);
    if (!credential) {
      throw Error(ErrorCode::kStoreCorrupt,
                  fmt::format("user {} is related to credential {}, which does not exist",
                              std::string(user_id), std::string(credential_id)));
    }
    out.push_back(std::move(*credential));
  }
  return out;
}

std::vector<CertificateKey> StoreTransaction::certificates_of_credential(
    std::string_view credential_id) const {
  std::vector<CertificateKey> out;
  if (!storable_key(credential_id)) {
    return out;
  }
  lmdb::Cursor cursor(txn_, dbs_->credential_certificates);
  std::string_view key = credential_id;
  std::string_view certificate_key;
  for (bool found = cursor.get(key, certificate_key, MDB_SET_KEY); found;
       found = cursor.get(key, certificate_key, MDB_NEXT_DUP)) {
    out.push_back(CertificateKey::decode(certificate_key));
  }
  return out;
}

std::optional<CertificateRecord> StoreTransaction::certificate(const CertificateKey& key) const {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  std::string_view value;
  if (!txn_.get(dbs_->certificates, key.encode(buffer), value)) {
    return std::nullopt;
  }
  return CertificateRecord::decode(value);
}

std::optional<IssuerRecord> StoreTransaction::issuer(IssuerId id) const {
  std::string_view value;
  if (!txn_.get(dbs_->issuers, id_key(id), value)) {
    return std::nullopt;
  }
  return IssuerRecord::decode(id, value);
}

std::optional<IssuerRecord> StoreTransaction::issuer_by_name(std::string_view name) const {
  std::string_view id;
  if (!txn_.get(dbs_->issuer_names, name, id)) {
    return std::nullopt;
  }
  codec::ByteReader in(id, "issuer name");
  return issuer(in.u32());
}

std::vector<IssuerRecord> StoreTransaction::issuers() const {
  std::vector<IssuerRecord> out;
  lmdb::Cursor cursor(txn_, dbs_->issuers);
  std::string_view key, value;
  for (bool found = cursor.get(key, value, MDB_FIRST); found;
       found = cursor.get(key, value, MDB_NEXT)) {
    codec::ByteReader in(key, "issuer key");
    out.push_back(IssuerRecord::decode(in.u32(), value));
  }
  return out;
}

std::uint64_t StoreTransaction::last_sequence(MDB_dbi dbi) const {
  lmdb::Cursor cursor(txn_, dbi);
  std::string_view key, value;
  if (!cursor.get(key, value, MDB_LAST)) {
    return 0;
  }
  return decode_sequence_key(key);
}

std::uint64_t StoreTransaction::last_journal_sequence() const {
  return last_sequence(dbs_->journal);
}

std::uint64_t StoreTransaction::count_journal_entries() const {
  MDB_stat stat{};
  lmdb::check(::mdb_stat(txn_.handle(), dbs_->journal, &stat), "journal statistics");
  return stat.ms_entries;
}

std::uint64_t StoreTransaction::count_certificates() const {
  MDB_stat stat{};
  lmdb::check(::mdb_stat(txn_.handle(), dbs_->certificates, &stat), "certificate statistics");
  return stat.ms_entries;
}

std::vector<JournalEntry> StoreTransaction::journal(std::uint64_t from, std::uint64_t to) const {
  std::vector<JournalEntry> out;
  for_each_journal_entry(from, to, [&](const JournalEntry& entry) {
    out.push_back(entry);
    return true;
  });
  return out;
}

void StoreTransaction::for_each_journal_entry(
    std::uint64_t from, std::uint64_t to,
    const std::function<bool(const JournalEntry&)>& visit) const {
  const std::string start = sequence_key(from);
  lmdb::Cursor cursor(txn_, dbs_->journal);
  std::string_view key = start, value;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE); found;
       found = cursor.get(key, value, MDB_NEXT)) {
    const std::uint64_t sequence = decode_sequence_key(key);
    if (sequence > to || !visit(JournalEntry::decode(sequence, value))) {
      break;
    }
  }
}

void StoreTransaction::for_each_registration(
    std::uint64_t from, std::uint64_t to,
    const std::function<bool(std::uint64_t, const CertificateKey&)>& visit) const {
  const std::string start = sequence_key(from);
  lmdb::Cursor cursor(txn_, dbs_->registrations);
  std::string_view key = start, value;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE); found;
       found = cursor.get(key, value, MDB_NEXT)) {
    const std::uint64_t sequence = decode_sequence_key(key);
    if (sequence > to || !visit(sequence, CertificateKey::decode(value))) {
      break;
    }
  }
}

std::uint64_t StoreTransaction::last_registration_sequence() const {
  return last_sequence(dbs_->registrations);
}

void StoreTransaction::for_each_certificate(
    std::string_view after_key,
    const std::function<bool(std::string_view key, const CertificateRecord&)>& visit) const {
  lmdb::Cursor cursor(txn_, dbs_->certificates);
  std::string_view key = after_key, value;
  bool found =
      after_key.empty() ? cursor.get(key, value, MDB_FIRST) : cursor.get(key, value, MDB_SET_RANGE);
  if (found && !after_key.empty() && key == after_key) {
    found = cursor.get(key, value, MDB_NEXT);
  }
  for (; found; found = cursor.get(key, value, MDB_NEXT)) {
    if (!visit(key, CertificateRecord::decode(value))) {
      break;
    }
  }
}

FeedPosition StoreTransaction::feed_position() const {
  std::string_view value;
  return txn_.get(dbs_->replication, kFeedPositionKey, value) ? FeedPosition::decode(value)
                                                              : FeedPosition{};
}

ReplicaPosition StoreTransaction::replica_position() const {
  std::string_view value;
  return txn_.get(dbs_->replication, kReplicaPositionKey, value) ? ReplicaPosition::decode(value)
                                                                 : ReplicaPosition{};
}

std::vector<AuditRecord> StoreTransaction::audit(std::size_t limit) const {
  std::vector<AuditRecord> out;
  lmdb::Cursor cursor(txn_, dbs_->audit);
  std::string_view key, value;
  for (bool found = cursor.get(key, value, MDB_LAST); found && out.size() < limit;
       found = cursor.get(key, value, MDB_PREV)) {
    out.push_back(AuditRecord::decode(decode_sequence_key(key), value));
  }
  return out;
}

void StoreTransaction::for_each_audit_record(
    const std::function<bool(const AuditRecord&)>& visit) const {
  lmdb::Cursor cursor(txn_, dbs_->audit);
  std::string_view key, value;
  for (bool found = cursor.get(key, value, MDB_LAST); found;
       found = cursor.get(key, value, MDB_PREV)) {
    if (!visit(AuditRecord::decode(decode_sequence_key(key), value))) {
      return;
    }
  }
}

std::optional<ApprovalRequest> StoreTransaction::approval(std::uint64_t id) const {
  std::string_view value;
  if (!txn_.get(dbs_->approvals, sequence_key(id), value)) {
    return std::nullopt;
  }
  return ApprovalRequest::decode(id, value);
}

std::vector<ApprovalRequest> StoreTransaction::approvals() const {
  std::vector<ApprovalRequest> out;
  lmdb::Cursor cursor(txn_, dbs_->approvals);
  std::string_view key, value;
  for (bool found = cursor.get(key, value, MDB_FIRST); found;
       found = cursor.get(key, value, MDB_NEXT)) {
    out.push_back(ApprovalRequest::decode(decode_sequence_key(key), value));
  }
  return out;
}

CrlState StoreTransaction::crl_state(IssuerId issuer, std::uint16_t shard) const {
  std::string_view value;
  if (!txn_.get(dbs_->crl_state, crl_state_key(issuer, shard), value)) {
    return {};
  }
  return CrlState::decode(value);
}

bool decode_certificate_status(std::string_view key, std::string_view value,
                               CertificateStatusView& out) noexcept {
  namespace layout = certificate_layout;
  if (key.size() < 5 || value.empty()) {
    return false;
  }
  const std::size_t fixed = layout::fixed_size(static_cast<std::uint8_t>(value[layout::kVersion]));
  if (fixed == 0 || value.size() < fixed) {
    return false;
  }
  const auto status =
      certificate_status_from_byte(static_cast<std::uint8_t>(value[layout::kStatus]));
  const auto reason = reason_code_from_byte(static_cast<std::uint8_t>(value[layout::kReason]));
  if (!status || !reason) {
    return false;
  }
  out.serial_octets = key.substr(4);
  out.status = *status;
  out.reason = *reason;
  out.not_after = static_cast<UnixTime>(codec::load_u64_at(value.data() + layout::kNotAfter));
  out.status_sequence = codec::load_u64_at(value.data() + layout::kStatusSequence);
  out.revocation_time =
      static_cast<UnixTime>(codec::load_u64_at(value.data() + layout::kRevocationTime));
  if (value[layout::kFlags] & layout::kFlagHasInvalidityDate) {
    out.invalidity_date =
        static_cast<UnixTime>(codec::load_u64_at(value.data() + layout::kInvalidityDate));
  } else {
    out.invalidity_date.reset();
  }
  if (fixed >= layout::kCrlShard + 2 && (value[layout::kFlags] & layout::kFlagHasCrlShard)) {
    out.crl_shard =
        static_cast<std::uint16_t>((static_cast<std::uint8_t>(value[layout::kCrlShard]) << 8) |
                                   static_cast<std::uint8_t>(value[layout::kCrlShard + 1]));
  } else {
    out.crl_shard.reset();
  }
  return true;
}

std::uint64_t StoreTransaction::count_unsharded_certificates(IssuerId issuer) const {
  std::uint64_t count = 0;
  for_each_certificate_of(issuer, [&](const CertificateStatusView& certificate) {
    count += certificate.crl_shard ? 0 : 1;
  });
  return count;
}

bool StoreTransaction::certificate_status(const CertificateKey& key,
                                          CertificateStatusView& out) const {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const std::string_view encoded = key.encode(buffer);
  std::string_view value;
  return txn_.get(dbs_->certificates, encoded, value) &&
         decode_certificate_status(encoded, value, out);
}

bool StoreTransaction::presigned_response(const CertificateKey& key, std::uint8_t cert_id_hash,
                                          PresignedResponse& out) const {
  std::array<char, kMaxPresignedKeySize> buffer;
  std::string_view value;
  return txn_.get(dbs_->ocsp_responses, presigned_response_key(key, cert_id_hash, buffer), value) &&
         decode_presigned_response(value, out);
}

std::optional<JobRecord> StoreTransaction::job(std::uint64_t id) const {
  std::string_view value;
  if (!txn_.get(dbs_->jobs, sequence_key(id), value)) {
    return std::nullopt;
  }
  return JobRecord::decode(id, value);
}

std::vector<JobRecord> StoreTransaction::jobs() const {
  std::vector<JobRecord> out;
  lmdb::Cursor cursor(txn_, dbs_->jobs);
  std::string_view key, value;
  for (bool found = cursor.get(key, value, MDB_FIRST); found;
       found = cursor.get(key, value, MDB_NEXT)) {
    out.push_back(JobRecord::decode(decode_sequence_key(key), value));
  }
  return out;
}

std::vector<std::string> StoreTransaction::job_targets(std::uint64_t job, std::uint64_t first,
                                                       std::size_t count) const {
  std::vector<std::string> out;
  lmdb::Cursor cursor(txn_, dbs_->job_targets);
  const std::string start = job_item_key(job, first);
  std::string_view key = start, value;
  for (bool found = cursor.get(key, value, MDB_SET_KEY); found && out.size() < count;
       found = cursor.get(key, value, MDB_NEXT)) {
    codec::ByteReader in(key, "job target key");
    if (in.u64() != job) {
      break;
    }
    out.emplace_back(value);
  }
  return out;
}

std::vector<JobFailure> StoreTransaction::job_failures(std::uint64_t job, std::size_t limit) const {
  std::vector<JobFailure> out;
  lmdb::Cursor cursor(txn_, dbs_->job_failures);
  const std::string start = job_item_key(job, 0);
  std::string_view key = start, value;
  for (bool found = cursor.get(key, value, MDB_SET_RANGE); found && out.size() < limit;
       found = cursor.get(key, value, MDB_NEXT)) {
    codec::ByteReader in(key, "job failure key");
    if (in.u64() != job) {
      break;
    }
    JobFailure failure;
    failure.index = in.u64();
    failure.reason = std::string(value);
    std::string_view target;
    if (txn_.get(dbs_->job_targets, job_item_key(job, failure.index), target)) {
      failure.target = std::string(target);
    }
    out.push_back(std::move(failure));
  }
  return out;
}

// ---- writes ----

std::uint64_t WriteTransaction::add_job(JobRecord job, const std::vector<std::string>& targets) {
  job.id = last_sequence(dbs_->jobs) + 1;
  for (std::uint64_t i = 0; i < targets.size(); ++i) {
    txn_.put(dbs_->job_targets, job_item_key(job.id, i), targets[i], MDB_APPEND);
  }
  txn_.put(dbs_->jobs, sequence_key(job.id), job.encode(), MDB_APPEND);
  return job.id;
}

void WriteTransaction::put_job(const JobRecord& job) {
  txn_.put(dbs_->jobs, sequence_key(job.id), job.encode());
}

void WriteTransaction::add_job_failure(std::uint64_t job, std::uint64_t index,
                                       std::string_view reason) {
  txn_.put(dbs_->job_failures, job_item_key(job, index), reason);
}

void WriteTransaction::put_presigned_response(const CertificateKey& key, std::uint8_t cert_id_hash,
                                              const PresignedResponse& response) {
  std::array<char, kMaxPresignedKeySize> buffer;
  std::string value;
  encode_presigned_response(value, response);
  txn_.put(dbs_->ocsp_responses, presigned_response_key(key, cert_id_hash, buffer), value);
}

void WriteTransaction::put_crl_state(IssuerId issuer, std::uint16_t shard, const CrlState& state) {
  txn_.put(dbs_->crl_state, crl_state_key(issuer, shard), state.encode());
}

void WriteTransaction::put_issuer(const IssuerRecord& issuer) {
  std::string_view existing;
  if (!txn_.get(dbs_->issuers, id_key(issuer.id), existing)) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer #{} ('{}') is not registered", issuer.id, issuer.name));
  }
  if (IssuerRecord::decode(issuer.id, existing).name != issuer.name) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("issuer #{} cannot be renamed to '{}'", issuer.id, issuer.name));
  }
  txn_.put(dbs_->issuers, id_key(issuer.id), issuer.encode());
}

void WriteTransaction::put_user(const User& user) {
  // The name index follows the record: the old name's words out, the new name's in. A process
  // changes a user's state and roles, not the name: nothing to do then.
  std::vector<std::string> old_words;
  std::string_view old_value;
  if (txn_.get(dbs_->users, user.id, old_value)) {
    std::optional<User> old;
    try {
      old = decode_user(user.id, old_value);
    } catch (const Error&) {
      // A damaged record being repaired: its words cannot be known. Entries left in the index
      // are harmless (search checks each user's name again).
    }
    if (old && old->name == user.name) {
      txn_.put(dbs_->users, user.id, encode_user(user));
      return;
    }
    if (old) {
      old_words = name_words(old->name);
    }
  }
  const std::vector<std::string> new_words = name_words(user.name);
  for (const auto& word : old_words) {
    if (std::find(new_words.begin(), new_words.end(), word) == new_words.end()) {
      txn_.erase(dbs_->user_name_words, word, user.id);
    }
  }
  txn_.put(dbs_->users, user.id, encode_user(user));
  for (const auto& word : new_words) {
    txn_.put_new(dbs_->user_name_words, word, user.id, MDB_NODUPDATA);
  }
}

void WriteTransaction::put_credential(const Credential& credential) {
  txn_.put(dbs_->credentials, credential.id, encode_credential(credential));
  // MDB_NODUPDATA: the relation may already exist; that is not an error.
  txn_.put_new(dbs_->user_credentials, credential.user_id, credential.id, MDB_NODUPDATA);
}

void WriteTransaction::add_certificate(const CertificateKey& key, const CertificateRecord& record) {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const std::string_view encoded_key = key.encode(buffer);
  if (!txn_.put_new(dbs_->certificates, encoded_key, record.encode(), MDB_NOOVERWRITE)) {
    const auto issuer = this->issuer(key.issuer);
    throw Error(ErrorCode::kDuplicate,
                fmt::format("certificate serial {} of issuer {} is already registered",
                            key.serial.hex(), issuer ? issuer->name : std::to_string(key.issuer)));
  }
  txn_.put_new(dbs_->credential_certificates, record.credential_id, encoded_key, MDB_NODUPDATA);
  // The change feed's outbox: committed with the certificate or not at all.
  txn_.put(dbs_->registrations, sequence_key(last_sequence(dbs_->registrations) + 1), encoded_key,
           MDB_APPEND);
}

void WriteTransaction::put_feed_position(const FeedPosition& position) {
  txn_.put(dbs_->replication, kFeedPositionKey, position.encode());
}

void WriteTransaction::put_replica_position(const ReplicaPosition& position) {
  txn_.put(dbs_->replication, kReplicaPositionKey, position.encode());
}

bool WriteTransaction::apply_replicated_certificate(const CertificateKey& key,
                                                    const CertificateRecord& record) {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const std::string_view encoded_key = key.encode(buffer);
  std::string_view existing;
  if (txn_.get(dbs_->certificates, encoded_key, existing)) {
    CertificateStatusView stored;
    if (decode_certificate_status(encoded_key, existing, stored) &&
        stored.status_sequence >= record.status_sequence) {
      return false;
    }
  }
  txn_.put(dbs_->certificates, encoded_key, record.encode());
  return true;
}

void WriteTransaction::put_replicated_issuer(const IssuerRecord& issuer) {
  const std::string encoded_id = id_key(issuer.id);
  std::string_view by_name;
  if (txn_.get(dbs_->issuer_names, issuer.name, by_name) && by_name != encoded_id) {
    throw Error(ErrorCode::kReplication,
                fmt::format("issuer '{}' is stored under another id than the writer's #{}; this "
                            "replica's data directory was fed by another writer: start it on an "
                            "empty one",
                            issuer.name, issuer.id));
  }
  std::string_view existing;
  if (txn_.get(dbs_->issuers, encoded_id, existing) &&
      IssuerRecord::decode(issuer.id, existing).name != issuer.name) {
    throw Error(ErrorCode::kReplication,
                fmt::format("issuer #{} is stored as another issuer than the writer's '{}'; this "
                            "replica's data directory was fed by another writer: start it on an "
                            "empty one",
                            issuer.id, issuer.name));
  }
  txn_.put(dbs_->issuer_names, issuer.name, encoded_id);
  txn_.put(dbs_->issuers, encoded_id, issuer.encode());
}

IssuerId WriteTransaction::add_issuer(IssuerRecord issuer) {
  lmdb::Cursor cursor(txn_, dbs_->issuers);
  std::string_view key, value;
  IssuerId id = 1;
  if (cursor.get(key, value, MDB_LAST)) {
    codec::ByteReader in(key, "issuer key");
    id = in.u32() + 1;
  }
  issuer.id = id;
  const std::string encoded_id = id_key(id);
  if (!txn_.put_new(dbs_->issuer_names, issuer.name, encoded_id, MDB_NOOVERWRITE)) {
    throw Error(ErrorCode::kDuplicate,
                fmt::format("an issuer named '{}' is already registered", issuer.name));
  }
  txn_.put(dbs_->issuers, encoded_id, issuer.encode());
  return id;
}

std::uint64_t WriteTransaction::append_audit(AuditRecord record) {
  record.id = next_audit_id();
  txn_.put(dbs_->audit, sequence_key(record.id), record.encode(), MDB_APPEND);
  return record.id;
}

std::uint64_t WriteTransaction::add_approval(ApprovalRequest request) {
  request.id = last_sequence(dbs_->approvals) + 1;
  txn_.put(dbs_->approvals, sequence_key(request.id), request.encode(), MDB_APPEND);
  return request.id;
}

void WriteTransaction::put_approval(const ApprovalRequest& request) {
  txn_.put(dbs_->approvals, sequence_key(request.id), request.encode());
}

}  // namespace revocore
