#pragma once
// Internal to revocation/: the raw LMDB handles of a store transaction. The status-apply hot path
// (batch_order.cpp, status_transition.cpp) patches records in place through them, and the store's
// fault-injection helpers for tests (store_faults.hpp) damage records through them. Every other
// component reads and writes through the typed operations of StoreTransaction/WriteTransaction.
#include "revocation/lmdb.hpp"
#include "revocation/store.hpp"

namespace revocore::detail {

struct RawStoreAccess {
  static lmdb::Transaction& transaction(StoreTransaction& txn) noexcept { return txn.txn_; }
  static const lmdb::Transaction& transaction(const StoreTransaction& txn) noexcept {
    return txn.txn_;
  }
  static const Databases& databases(const StoreTransaction& txn) noexcept { return *txn.dbs_; }
};

}  // namespace revocore::detail
