// Thin RAII wrappers over the SQLite C API: a connection closed in its
// destructor, prepared statements finalized in theirs, and transactions that
// roll back unless committed. Every error names the database file, so the
// user reads "state database /x/wp.db: database is locked", not a bare code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wp::profile::sqlite {

// One thread at a time may use a Database and its statements: the
// connection has no mutex of its own (SQLite's multi-thread mode).
class Database {
 public:
  enum class Access {
    ReadWrite,  // the file is created if missing
    // An existing file, never written (nor created). Opened for writing
    // with `query_only` on where the user may write it, so that its last
    // close removes the -wal and -shm files as a writer's does (a read-only
    // connection cannot, and left them behind after every `wp profile`).
    ReadOnly,
    // ReadOnly where the shared-memory index (the -shm file) cannot be made:
    // the file is read as it is on disk, with no lock, so commits a writer
    // has not yet checkpointed into it are not seen.
    Immutable,
  };
  // Opens the file; the caller sets pragmas.
  static Result<Database> open(const std::filesystem::path& path,
                               Access access = Access::ReadWrite);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements whose rows, if any, are not wanted.
  Status exec(std::string_view sql);
  // The message SQLite holds for the last failure, with the file named.
  Error error() const;
  Error error(std::string_view what) const;
  // Whether the last failure was a read-only connection's that could not
  // make the shared-memory index of a WAL file (its directory is not
  // writable): Access::Immutable can still read the file.
  bool lacked_shared_index() const;

  // The rowid of the last row this connection inserted.
  int64_t last_insert_id() const;
  sqlite3* handle() const { return db_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

class Statement {
 public:
  static Result<Statement> prepare(Database& db, std::string_view sql);

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters count from 1, as in SQL's ?1.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  // NULL when unset.
  template <typename T>
  Statement& bind_optional(int index, const std::optional<T>& value) {
    if (!value) return bind_null(index);
    if constexpr (std::is_floating_point_v<T>)
      return bind(index, static_cast<double>(*value));
    else
      return bind(index, static_cast<int64_t>(*value));
  }
  // Rows changed by the last INSERT, UPDATE or DELETE on the connection.
  int64_t changes() const;

  // True when a row is ready, false when the statement is done.
  Result<bool> step();
  // Ready to run again with new bindings.
  void reset();

  // Columns count from 0.
  int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  bool column_is_null(int column) const;
  std::optional<int64_t> column_optional_int(int column) const;
  std::optional<double> column_optional_double(int column) const;

 private:
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE: takes the write lock up front, so two writers wait on the
// busy timeout instead of one failing half-way through with SQLITE_BUSY.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // ROLLBACK unless commit() succeeded

  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;  // null once committed or moved from
};

}  // namespace wp::profile::sqlite
