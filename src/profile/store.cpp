#include "profile/store.h"

#include <array>
#include <cstdlib>
#include <string_view>
#include <system_error>

#include "util/log.h"

namespace wp::profile {
namespace {

// Migration N takes a file from user_version N-1 to N. Never edit one that
// has shipped: add the next.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations{
    R"sql(
CREATE TABLE calibration(
  id INTEGER PRIMARY KEY,
  filesystem TEXT NOT NULL,
  device TEXT NOT NULL,
  read_iops INTEGER NOT NULL,
  write_iops INTEGER NOT NULL,
  measured_at TEXT NOT NULL,
  seconds REAL NOT NULL
);
CREATE INDEX calibration_by_device ON calibration(device, id);
)sql",
    // 2: the profile store. Times are ISO 8601 UTC text, which sorts in time
    // order; resources are integers (bytes, IOPS, GPUs) or reals (cores).
    R"sql(
CREATE TABLE run(
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  manifest TEXT NOT NULL,
  namespace TEXT NOT NULL,
  host TEXT NOT NULL,
  wp_version TEXT NOT NULL,
  started TEXT NOT NULL,
  ended TEXT,
  capacity_cpu REAL NOT NULL,
  capacity_memory INTEGER NOT NULL,
  capacity_iops INTEGER NOT NULL,
  capacity_gpu INTEGER NOT NULL,
  exit_code INTEGER
);
CREATE TABLE profile(
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  family TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  command TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  ok INTEGER NOT NULL DEFAULT 0,
  oom_kills INTEGER NOT NULL DEFAULT 0,
  max_memory INTEGER,
  cpu_seconds REAL NOT NULL DEFAULT 0,
  wall_seconds REAL NOT NULL DEFAULT 0,
  UNIQUE(namespace, name)
);
CREATE INDEX profile_by_family ON profile(namespace, family);
CREATE TABLE attempt(
  id INTEGER PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  profile_id INTEGER NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
  run_uuid TEXT NOT NULL,
  manifest TEXT NOT NULL,
  job TEXT NOT NULL,
  number INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  command TEXT NOT NULL,
  started TEXT NOT NULL,
  wall_seconds REAL NOT NULL,
  exit_code INTEGER,
  signal INTEGER,
  timed_out INTEGER NOT NULL,
  requeued INTEGER NOT NULL,
  oom_killed INTEGER NOT NULL,
  declared_cpu REAL NOT NULL,
  declared_memory INTEGER NOT NULL,
  declared_iops INTEGER NOT NULL,
  declared_gpu INTEGER NOT NULL,
  admitted_cpu REAL NOT NULL,
  admitted_memory INTEGER NOT NULL,
  admitted_iops INTEGER NOT NULL,
  admitted_gpu INTEGER NOT NULL,
  predicted_memory INTEGER,
  predicted_cores REAL,
  predicted_wall REAL,
  predicted_iops REAL,
  method TEXT NOT NULL,
  peak_memory INTEGER,
  cpu_seconds REAL,
  user_seconds REAL,
  system_seconds REAL,
  average_cores REAL,
  peak_cores REAL,
  read_ops INTEGER,
  write_ops INTEGER,
  read_bytes INTEGER,
  write_bytes INTEGER,
  read_calls INTEGER,
  write_calls INTEGER,
  input_bytes INTEGER
);
CREATE INDEX attempt_by_profile ON attempt(profile_id, started);
)sql",
    // 3: where retention has cut a profile's history. An import of attempts
    // older than that would add them (and count them in the aggregates) only
    // for retention to drop them again, on every import.
    R"sql(
ALTER TABLE profile ADD COLUMN kept_since TEXT NOT NULL DEFAULT '';
)sql",
    // 4: attempt_by_profile with what learning reads of an attempt (see
    // Store::namespace_attempts): a profile's newest attempts are then one
    // walk down the index, not a seek into the table for each. A profile's
    // attempts lie far apart in the table, one run's worth of rows between
    // each: thirty runs of a 5,000-job manifest took 0.8 s to read back.
    R"sql(
DROP INDEX IF EXISTS attempt_by_profile;
CREATE INDEX IF NOT EXISTS attempt_history ON attempt(profile_id, started, id, fingerprint, wall_seconds,
  exit_code, signal, timed_out, requeued, oom_killed, admitted_memory, peak_memory,
  average_cores, peak_cores, read_ops, write_ops, input_bytes);
)sql",
};

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

Result<std::filesystem::path> resolve_db_path(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  if (auto path = env("WP_DB")) return std::filesystem::path(*path);
  // XDG says a relative XDG_STATE_HOME is invalid and must be ignored.
  if (auto state = env("XDG_STATE_HOME"); state && state->front() == '/') {
    return std::filesystem::path(*state) / "wp" / "wp.db";
  }
  if (auto home = env("HOME")) return std::filesystem::path(*home) / ".local/state/wp/wp.db";
  return make_error(
      "no place for the state database: HOME is not set; give --db PATH or set WP_DB");
}

Result<Store> Store::open(const std::filesystem::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return make_error("state database {}: cannot create {}: {}", path.string(),
                        path.parent_path().string(), ec.message());
    }
  }
  auto db = sqlite::Database::open(path);
  if (!db) return db.error();
  Store store(std::move(*db));
  if (auto status = store.configure(); !status) return status.error();
  if (auto status = store.migrate(); !status) return status.error();
  return store;
}

Result<Store> Store::open_read_only(const std::filesystem::path& path) {
  using Access = sqlite::Database::Access;
  auto open = [&path](Access access) -> Result<Store> {
    auto db = sqlite::Database::open(path, access);
    if (!db) return db.error();
    return Store(std::move(*db));
  };
  auto store = open(Access::ReadOnly);
  if (!store) return store.error();
  // WAL recovery after a crashed writer may still need a moment.
  if (auto status = store->db_->exec("PRAGMA busy_timeout=30000"); !status) return status.error();
  auto version = store->schema_version();
  if (!version && store->db_->lacked_shared_index()) {
    // Commits in a write-ahead log that no writer has copied into the file
    // yet are not read then: worth a word when there are any.
    std::error_code ec;
    auto wal = std::filesystem::file_size(path.string() + "-wal", ec);
    auto log = log::get("learn");
    log->log(!ec && wal > 0 ? spdlog::level::warn : spdlog::level::debug,
             "state database {}: its directory is not writable, so it is read as it is on "
             "disk{}",
             path.string(), !ec && wal > 0 ? ", without what its write-ahead log holds" : "");
    store = open(Access::Immutable);
    if (!store) return store.error();
    version = store->schema_version();
  }
  if (!version) return version.error();
  if (*version == kSchemaVersion) return std::move(*store);
  if (*version == 0) {
    return make_error("state database {}: no wp schema in it (an empty file, or not wp's)",
                      path.string());
  }
  if (*version > kSchemaVersion || *version < 0) return store->newer_schema(*version);
  return make_error(
      "state database {}: schema version {} is older than this wp's ({}), and this command "
      "does not change it: the next `wp run` brings it up to date",
      path.string(), *version, kSchemaVersion);
}

Error Store::newer_schema(int version) const {
  return make_error(
      "state database {}: schema version {} is newer than this wp knows ({}); "
      "upgrade wp or use another --db",
      db_->path().string(), version, kSchemaVersion);
}

// The busy timeout comes first: switching to WAL itself needs a lock that a
// concurrent wp may hold for a moment.
// synchronous=NORMAL in WAL mode: a commit survives a killed wp (it is in the
// OS's cache), and only a power cut may lose the newest ones, never the file.
// The busy timeout is long because a wp waiting its turn is better than a
// "database is locked" in the middle of a CI log.
// SQLite's own page cache size (2 MiB). The recorder's commits touch a page
// of attempt_history for every job, thousands of pages in a long history,
// so a larger cache saves it reads: 16 MiB took a fifth off its CPU (5,000
// jobs, 30 runs of history), 8 MiB next to nothing, and 16 MiB put `wp run`
// of 100,000 jobs at 150 MiB of RSS, the most it may use.
Status Store::configure() {
  return db_->exec(
      "PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
      "PRAGMA foreign_keys=ON;");
}

Result<int> Store::schema_version() {
  auto statement = sqlite::Statement::prepare(*db_, "PRAGMA user_version");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return *row ? static_cast<int>(statement->column_int(0)) : 0;
}

// Each step in its own transaction, re-reading the version inside it, so two
// wp processes opening a new file at once do not both run migration 1.
Status Store::migrate() {
  for (;;) {
    auto transaction = sqlite::Transaction::begin(*db_);
    if (!transaction) return transaction.error();
    auto version = schema_version();
    if (!version) return version.error();
    if (*version == kSchemaVersion) return Ok{};
    if (*version > kSchemaVersion || *version < 0) return newer_schema(*version);
    int next = *version + 1;
    if (auto status = db_->exec(kMigrations[static_cast<size_t>(*version)]); !status) {
      return db_->error("migration " + std::to_string(next));
    }
    if (auto status = db_->exec("PRAGMA user_version=" + std::to_string(next)); !status) {
      return status;
    }
    if (auto status = transaction->commit(); !status) return status;
  }
}

Result<sqlite::Statement*> Store::prepared(std::string_view sql) {
  auto found = statements_.find(std::string(sql));
  if (found == statements_.end()) {
    auto statement = sqlite::Statement::prepare(*db_, sql);
    if (!statement) return statement.error();
    found = statements_.emplace(std::string(sql), std::move(*statement)).first;
  }
  found->second.reset();
  return &found->second;
}

Status Store::add_calibration(const Calibration& c) {
  auto transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  auto insert = sqlite::Statement::prepare(
      *db_,
      "INSERT INTO calibration(filesystem, device, read_iops, write_iops, measured_at, seconds) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return insert.error();
  insert->bind(1, std::string_view(c.filesystem))
      .bind(2, std::string_view(c.device))
      .bind(3, c.read_iops)
      .bind(4, c.write_iops)
      .bind(5, std::string_view(c.measured_at))
      .bind(6, c.seconds);
  if (auto done = insert->step(); !done) return done.error();
  return transaction->commit();
}

Result<std::optional<Calibration>> Store::latest_calibration(const std::string& device) {
  auto select = sqlite::Statement::prepare(
      *db_,
      "SELECT filesystem, device, read_iops, write_iops, measured_at, seconds FROM calibration "
      "WHERE device = ?1 ORDER BY id DESC LIMIT 1");
  if (!select) return select.error();
  select->bind(1, std::string_view(device));
  auto row = select->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Calibration>();
  Calibration c;
  c.filesystem = select->column_text(0);
  c.device = select->column_text(1);
  c.read_iops = select->column_int(2);
  c.write_iops = select->column_int(3);
  c.measured_at = select->column_text(4);
  c.seconds = select->column_double(5);
  return std::optional<Calibration>(std::move(c));
}

}  // namespace wp::profile
