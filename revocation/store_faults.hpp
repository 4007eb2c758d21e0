#pragma once
// For tests only: damage a store the way a disk, a bug or another program could, to check that
// readers and writers meet the damage with kStoreCorrupt/kStoreVersion and change nothing.
// Header-only and internal to revocation/'s schema, so no test reaches into LMDB itself.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "revocation/codec.hpp"
#include "revocation/raw_store_access.hpp"

namespace revocore::store_faults {

// Removes the index of users' names, as in a store written by a revocore before search.
inline void drop_user_name_index(WriteTransaction& txn) {
  lmdb::check(::mdb_drop(detail::RawStoreAccess::transaction(txn).handle(),
                         detail::RawStoreAccess::databases(txn).user_name_words, 1),
              "drop user_name_words");
}

// Replaces the stored bytes of user `id` with `bytes`.
inline void overwrite_user(WriteTransaction& txn, std::string_view id, std::string_view bytes) {
  detail::RawStoreAccess::transaction(txn).put(detail::RawStoreAccess::databases(txn).users, id,
                                               bytes);
}

// Relates a certificate key to a credential without the certificate record existing.
inline void relate_missing_certificate(WriteTransaction& txn, std::string_view credential_id,
                                       const CertificateKey& key) {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  detail::RawStoreAccess::transaction(txn).put(
      detail::RawStoreAccess::databases(txn).credential_certificates, credential_id,
      key.encode(buffer));
}

// A certificate record as a build before CRL shards wrote it (certificate layout version 1).
inline void put_version1_certificate(WriteTransaction& txn, const CertificateKey& key,
                                     const CertificateRecord& record) {
  std::string value;
  codec::ByteWriter w(value);
  w.u8(certificate_layout::kVersion1);
  w.u8(static_cast<std::uint8_t>(record.status));
  w.u8(static_cast<std::uint8_t>(record.reason));
  w.u8(record.invalidity_date ? certificate_layout::kFlagHasInvalidityDate : 0);
  w.i64(record.not_after);
  w.i64(record.revocation_time);
  w.i64(record.invalidity_date.value_or(0));
  w.u64(record.status_sequence);
  w.str(record.credential_id);
  w.str(record.subject);
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  auto& raw = detail::RawStoreAccess::transaction(txn);
  const auto& dbs = detail::RawStoreAccess::databases(txn);
  raw.put(dbs.certificates, key.encode(buffer), value);
  raw.put(dbs.credential_certificates, record.credential_id, key.encode(buffer));
}

// The raw bytes of a certificate record, to check which version a change left.
inline std::string certificate_bytes(const StoreTransaction& txn, const CertificateKey& key) {
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  std::string_view value;
  detail::RawStoreAccess::transaction(txn).get(detail::RawStoreAccess::databases(txn).certificates,
                                               key.encode(buffer), value);
  return std::string(value);
}

// An LMDB environment another program made in `directory`: optionally a database "meta" holding
// one entry that is not revocore's schema, or only a database of another name.
inline void write_foreign_environment(const std::filesystem::path& directory, bool with_meta) {
  lmdb::Environment env(directory, 1 << 20, 4);
  lmdb::Transaction txn(env, lmdb::Transaction::Mode::kWrite);
  if (with_meta) {
    txn.put(txn.open_database("meta", MDB_CREATE), "owner", "someone else");
  } else {
    txn.open_database("other", MDB_CREATE);
  }
  txn.commit();
}

// Rewrites the schema version of the store in `directory` (closed), as a newer release would.
inline void set_schema_version(const std::filesystem::path& directory, std::uint32_t version) {
  lmdb::Environment env(directory, std::size_t{4} << 30, 16);
  lmdb::Transaction txn(env, lmdb::Transaction::Mode::kWrite);
  std::string bytes;
  codec::ByteWriter(bytes).u32(version);
  txn.put(txn.open_database("meta", 0), "schema_version", bytes);
  txn.commit();
}

}  // namespace revocore::store_faults
