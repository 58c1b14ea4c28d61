// wp's state database: one SQLite file shared by every wp process on the
// machine (WAL, a busy timeout, writes in IMMEDIATE transactions). It holds
// `wp calibrate`'s measurements, the runs, every job attempt with what it
// used, and per-profile aggregates; the schema moves one numbered migration
// at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "profile/records.h"

#include "profile/sqlite.h"
#include "util/result.h"

namespace wp::profile {

// The schema this wp writes; PRAGMA user_version holds the file's.
inline constexpr int kSchemaVersion = 4;

// Attempts kept per profile unless --keep says otherwise.
inline constexpr int kDefaultKeep = 100;

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
  // An existing file, for commands that only read it: never created,
  // migrated or locked for writing (a reader of a WAL file waits for no
  // writer). An error when its schema is not this wp's: an older one is
  // brought up to date by the next command that writes (wp run).
  static Result<Store> open_read_only(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return db_->path(); }
  Result<int> schema_version();

  Status add_calibration(const Calibration& calibration);
  // The newest calibration of `device`, if any.
  Result<std::optional<Calibration>> latest_calibration(const std::string& device);

  // A run starts and ends; its attempts are written as they end, each in
  // its own transaction, so a killed wp loses only the jobs in flight.
  Status begin_run(const RunRecord& run);
  Status end_run(const std::string& uuid, const std::string& ended, int exit_code);

  // Records an attempt (creating its profile on first sight), updates the
  // profile's aggregates and keeps only the newest `keep` attempts of it.
  // Returns false, changing nothing, when an attempt with its uid is stored
  // already (an import of what this database holds), or when it is older
  // than the oldest attempt retention kept (it was dropped once already, or
  // would be at once).
  Result<bool> add_attempt(const AttemptRecord& attempt, int keep = kDefaultKeep);
  // The same for many, in one transaction; returns how many were new.
  Result<size_t> add_attempts(std::span<const AttemptRecord> attempts, int keep = kDefaultKeep);

  // The profile's stored attempts, oldest first: the newest `limit` of those
  // started at or after `since` (ISO 8601; empty: all).
  Result<std::vector<AttemptRecord>> attempts(const ProfileKey& key, const std::string& since = {},
                                              size_t limit = SIZE_MAX);
  // The newest `limit` attempts of every profile of `family` in `space`, oldest first.
  Result<std::vector<AttemptRecord>> family_attempts(const std::string& space,
                                                     const std::string& family, size_t limit);
  // One profile's newest attempts as learning reads them (oldest first).
  // The key and family are the profile's, once: not in each attempt.
  struct ProfileHistory {
    ProfileKey key;
    std::string family;
    std::vector<AttemptRecord> attempts;
  };
  // The newest `per_profile` attempts of every profile in `space`, handed
  // to `each` one profile at a time (profiles in name order), without
  // holding every profile's attempts at once (100,000 profiles of one
  // attempt each are 150 MiB of records). `each` must not use the Store.
  // For learning, and with only what learning reads, all of it in the
  // attempt_history index: fingerprint, wall_seconds, exit_code, signal,
  // timed_out, requeued, usage.oom_killed, admitted.memory,
  // usage.peak_memory, usage.average_cores, usage.peak_cores,
  // usage.read_ops, usage.write_ops and input_bytes. The other fields,
  // key, family and started included, are left empty: a copy of each in
  // every attempt was a third of the time it took to read thirty runs of
  // 10,000 jobs back. Learning that reads another field of history adds
  // it to that index (a migration) and here.
  Status namespace_attempts(const std::string& space, size_t per_profile,
                            const std::function<void(ProfileHistory)>& each);
  // Every attempt (export), oldest first.
  Result<std::vector<AttemptRecord>> all_attempts();
  Result<std::optional<RunRecord>> run(const std::string& uuid);

  // Profiles whose name is `name` (empty: any) in `space` (empty: any),
  // ordered by namespace and name.
  Result<std::vector<ProfileSummary>> profiles(const std::string& space = {},
                                               const std::string& name = {});
  // Removes the profiles matched as profiles() matches them, with their
  // attempts; returns how many profiles went.
  Result<size_t> forget(const std::string& space, const std::string& name);

  sqlite::Database& database() { return *db_; }

 private:
  explicit Store(sqlite::Database db) : db_(std::make_unique<sqlite::Database>(std::move(db))) {}
  Status configure();
  Status migrate();
  Error newer_schema(int version) const;
  // Prepared once a connection and reset for reuse: a run writes an attempt
  // a job, and parsing the same SQL thousands of times showed in profiles.
  // The caller steps it to the end, or resets it, so that no read stays open.
  Result<sqlite::Statement*> prepared(std::string_view sql);
  Result<bool> insert_attempt(const AttemptRecord& attempt, int keep);  // inside a transaction
  // The attempt's profile: its id and kept_since (empty: never trimmed),
  // made if it is new. Inside insert_attempt's transaction.
  struct ProfileRow {
    int64_t id = 0;
    std::string kept_since;
  };
  Result<ProfileRow> profile_row(const AttemptRecord& attempt);

  // On the heap, so that the statements' pointer to it survives a move of the Store.
  std::unique_ptr<sqlite::Database> db_;
  std::unordered_map<std::string, sqlite::Statement> statements_;
};

}  // namespace wp::profile
