// wp's state database: one SQLite file shared by every wp process on the
// machine (WAL, a busy timeout, writes in IMMEDIATE transactions). Today it
// holds `wp calibrate`'s measurements; the profile store grows from here, one
// numbered migration at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "profile/sqlite.h"
#include "util/result.h"

namespace wp::profile {

// The schema this wp writes; PRAGMA user_version holds the file's.
inline constexpr int kSchemaVersion = 1;

// --db if given, else $WP_DB, else $XDG_STATE_HOME/wp/wp.db, else
// ~/.local/state/wp/wp.db. Fails only when none of these can be formed.
Result<std::filesystem::path> resolve_db_path(const std::string& flag);

// One run of `wp calibrate`: QD1 random 4 KiB figures for one filesystem.
struct Calibration {
  std::string filesystem;  // "ext4 at /work"
  std::string device;      // "8:0", from stat's st_dev
  int64_t read_iops = 0;
  int64_t write_iops = 0;
  std::string measured_at;  // UTC, ISO 8601
  double seconds = 0;
};

class Store {
 public:
  // Creates the parent directories and the file on first use, then brings the
  // schema up to date.
  static Result<Store> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return db_.path(); }
  Result<int> schema_version();

  Status add_calibration(const Calibration& calibration);
  // The newest calibration of `device`, if any.
  Result<std::optional<Calibration>> latest_calibration(const std::string& device);

  sqlite::Database& database() { return db_; }

 private:
  explicit Store(sqlite::Database db) : db_(std::move(db)) {}
  Status configure();
  Status migrate();

  sqlite::Database db_;
};

}  // namespace wp::profile
