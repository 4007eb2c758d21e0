#pragma once
// RAII for LMDB's C handles (environment, transaction, cursor): the only place in revocore that
// calls mdb_*_close/abort. Modelled on lmdbxx: move-only handles, an uncommitted transaction
// aborts in its destructor, expected outcomes (MDB_NOTFOUND) are return values, and MDB_MAP_FULL
// is its own error with the operator's fix.
#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "revocation/error.hpp"

namespace revocore::lmdb {

// Throws the revocore::Error that fits an LMDB return code; `what` says which operation failed.
[[noreturn]] void throw_error(int rc, std::string_view what);

inline void check(int rc, std::string_view what) {
  if (rc != MDB_SUCCESS) {
    throw_error(rc, what);
  }
}

// A view of bytes as LMDB wants them. LMDB never writes through mv_data for keys and values we
// pass in, so the const_cast is safe.
inline MDB_val to_val(std::string_view bytes) noexcept {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}
// Valid only inside the transaction that produced it and until its next write (LMDB's rule).
inline std::string_view to_view(const MDB_val& val) noexcept {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

class Environment {
 public:
  Environment() = default;
  Environment(const std::filesystem::path& directory, std::size_t map_size_bytes,
              unsigned max_databases);
  ~Environment() { reset(); }
  Environment(Environment&& other) noexcept : env_(std::exchange(other.env_, nullptr)) {}
  Environment& operator=(Environment&& other) noexcept {
    if (this != &other) {
      reset();
      env_ = std::exchange(other.env_, nullptr);
    }
    return *this;
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  MDB_env* handle() const noexcept { return env_; }

 private:
  void reset() noexcept {
    if (env_ != nullptr) {
      ::mdb_env_close(env_);
      env_ = nullptr;
    }
  }
  MDB_env* env_ = nullptr;
};

class Transaction {
 public:
  enum class Mode { kRead, kWrite };

  Transaction(const Environment& env, Mode mode) : write_(mode == Mode::kWrite) {
    check(::mdb_txn_begin(env.handle(), nullptr, write_ ? 0 : MDB_RDONLY, &txn_),
          "begin transaction");
  }
  // A child of a write transaction (an LMDB nested transaction): its writes join the parent's
  // when it commits and vanish when it aborts. The parent must not be used while it lives.
  Transaction(const Environment& env, Transaction& parent) : write_(true) {
    check(::mdb_txn_begin(env.handle(), parent.handle(), 0, &txn_), "begin nested transaction");
  }
  ~Transaction() { abort(); }
  Transaction(Transaction&& other) noexcept
      : txn_(std::exchange(other.txn_, nullptr)), write_(other.write_) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  MDB_txn* handle() const noexcept { return txn_; }
  bool is_write() const noexcept { return write_; }

  // LMDB frees the transaction even when commit fails, so the handle is cleared first.
  void commit() { check(::mdb_txn_commit(std::exchange(txn_, nullptr)), "commit transaction"); }

  void abort() noexcept {
    if (txn_ != nullptr) {
      ::mdb_txn_abort(std::exchange(txn_, nullptr));
    }
  }

  // Returns false when the key is absent. `value` is valid until the next write in this txn.
  bool get(MDB_dbi dbi, std::string_view key, std::string_view& value) const {
    MDB_val k = to_val(key);
    MDB_val v{};
    const int rc = ::mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
      return false;
    }
    check(rc, "read");
    value = to_view(v);
    return true;
  }

  void put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    check(::mdb_put(txn_, dbi, &k, &v, flags), "write");
  }

  // Returns false when the key already exists (MDB_NOOVERWRITE / MDB_NODUPDATA).
  bool put_new(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    const int rc = ::mdb_put(txn_, dbi, &k, &v, flags);
    if (rc == MDB_KEYEXIST) {
      return false;
    }
    check(rc, "write");
    return true;
  }

  // Removes one key (or, in a dupsort database, one of its values); false when it was absent.
  bool erase(MDB_dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    const int rc = ::mdb_del(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
      return false;
    }
    check(rc, "delete");
    return true;
  }

  MDB_dbi open_database(const char* name, unsigned flags) {
    MDB_dbi dbi = 0;
    check(::mdb_dbi_open(txn_, name, flags, &dbi), std::string("open database ") + name);
    return dbi;
  }

 private:
  MDB_txn* txn_ = nullptr;
  bool write_ = false;
};

// A cursor must not outlive its Transaction object. LMDB frees a write transaction's cursors
// when it ends, but not a read transaction's: the destructor closes only what LMDB has not.
class Cursor {
 public:
  Cursor(const Transaction& txn, MDB_dbi dbi) : txn_(&txn) {
    check(::mdb_cursor_open(txn.handle(), dbi, &cursor_), "open cursor");
  }
  ~Cursor() {
    if (cursor_ != nullptr && (txn_->handle() != nullptr || !txn_->is_write())) {
      ::mdb_cursor_close(cursor_);
    }
  }
  Cursor(Cursor&& other) noexcept
      : txn_(other.txn_), cursor_(std::exchange(other.cursor_, nullptr)) {}
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions the cursor; false when there is no such entry. key/value are updated in place.
  bool get(std::string_view& key, std::string_view& value, MDB_cursor_op op) {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    const int rc = ::mdb_cursor_get(cursor_, &k, &v, op);
    if (rc == MDB_NOTFOUND) {
      return false;
    }
    check(rc, "cursor read");
    key = to_view(k);
    value = to_view(v);
    return true;
  }

 private:
  const Transaction* txn_;  // not owned; outlives the cursor
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace revocore::lmdb
