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
