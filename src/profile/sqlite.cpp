#include "profile/sqlite.h"

#include <sqlite3.h>

#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace wp::profile::sqlite {
namespace {

// file:PATH?immutable=1, with what a URI reserves in PATH %-escaped. An
// absolute path gets an empty authority ("file:///x"): "file://srv/x" would
// name the host srv, which SQLite refuses.
std::string immutable_uri(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  const std::filesystem::path& named = ec ? path : absolute;
  std::string uri = named.is_absolute() ? "file://" : "file:";
  for (char c : named.string()) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Result<Database> Database::open(const std::filesystem::path& path, Access access) {
  sqlite3* db = nullptr;
  // No mutex of the connection's own ("multi-thread" mode): one thread uses
  // a Database at a time (profile::Recorder hands it over and back), and
  // serialized mode took and released that mutex for every column read,
  // 6% of reading a long history back.
  int flags = SQLITE_OPEN_READONLY;
  if (access == Access::ReadWrite) flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  // SQLite itself falls back to read-only when the file is not writable.
  if (access == Access::ReadOnly) flags = SQLITE_OPEN_READWRITE;
  std::string name = path.string();
  if (access == Access::Immutable) {
    flags |= SQLITE_OPEN_URI;
    name = immutable_uri(path);
  }
  int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // Even a failed open may hand back a handle that holds the message and must be closed.
  Database database(db, path);
  if (rc != SQLITE_OK) {
    if (db == nullptr)
      return make_error("state database {}: {}", path.string(), sqlite3_errstr(rc));
    return database.error();
  }
  sqlite3_extended_result_codes(db, 1);
  if (access == Access::ReadOnly) {
    if (auto status = database.exec("PRAGMA query_only=ON"); !status) return status.error();
  }
  return database;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() {
  // close_v2 defers the close until every statement is finalized, so the
  // order in which owners are destroyed does not matter.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return error();
  return Ok{};
}

Error Database::error() const {
  return make_error("state database {}: {}", path_.string(), sqlite3_errmsg(db_));
}

bool Database::lacked_shared_index() const {
  int code = sqlite3_extended_errcode(db_) & 0xff;
  return code == SQLITE_CANTOPEN || code == SQLITE_READONLY;
}

Error Database::error(std::string_view what) const {
  return make_error("state database {}: {}: {}", path_.string(), what, sqlite3_errmsg(db_));
}

int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

Result<Statement> Statement::prepare(Database& db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return db.error();
  }
  return Statement(&db, stmt);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

// A failed bind (out-of-range index, out of memory) surfaces from step(),
// where SQLite reports the misuse; binding stays chainable.
Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int64_t Statement::changes() const {
  return sqlite3_changes64(db_->handle());
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::optional<int64_t> Statement::column_optional_int(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_int(column);
}

std::optional<double> Statement::column_optional_double(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_double(column);
}

Result<Transaction> Transaction::begin(Database& db) {
  if (auto status = db.exec("BEGIN IMMEDIATE"); !status) return status.error();
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  // Nothing to report from here: a failed ROLLBACK leaves SQLite to roll the
  // journal back when the connection closes or the next writer recovers it.
  if (db_ != nullptr) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::commit() {
  if (auto status = db_->exec("COMMIT"); !status) return status;
  db_ = nullptr;
  return Ok{};
}

}  // namespace wp::profile::sqlite
