// The state database on real SQLite files: migrations, WAL between
// connections, transactions, and what a damaged file says.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "manifest/manifest.h"
#include "profile/identity.h"
#include "profile/learn.h"
#include "profile/sqlite.h"
#include "profile/store.h"

#include <fmt/format.h>

using namespace wp;
using namespace wp::profile;

namespace {

namespace fs = std::filesystem;

// A fresh directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string name = (fs::temp_directory_path() / "wp-store-XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path_ = name;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Calibration sample(const std::string& device, int64_t read) {
  return Calibration{"ext4 at /", device, read, read / 2, "2026-01-01T00:00:00Z", 3.0};
}

int64_t count_rows(sqlite::Database& db, const std::string& sql) {
  auto statement = sqlite::Statement::prepare(db, sql);
  REQUIRE(statement);
  auto row = statement->step();
  REQUIRE(row);
  REQUIRE(*row);
  return statement->column_int(0);
}

}  // namespace

TEST_CASE("store: migrates an empty file to the current schema", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "nested/state/wp.db";
  auto store = Store::open(path);
  REQUIRE(store);
  CHECK(fs::exists(path));
  auto version = store->schema_version();
  REQUIRE(version);
  CHECK(*version == kSchemaVersion);
  CHECK(count_rows(store->database(), "SELECT count(*) FROM calibration") == 0);
  auto mode = sqlite::Statement::prepare(store->database(), "PRAGMA journal_mode");
  REQUIRE(mode);
  REQUIRE(mode->step().value());
  CHECK(mode->column_text(0) == "wal");
  CHECK(count_rows(store->database(), "PRAGMA foreign_keys") == 1);
}

TEST_CASE("store: reopening keeps the data and does not migrate again", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";
  {
    auto store = Store::open(path);
    REQUIRE(store);
    REQUIRE(store->add_calibration(sample("8:0", 1000)));
  }
  auto store = Store::open(path);
  REQUIRE(store);
  CHECK(store->schema_version().value() == kSchemaVersion);
  auto latest = store->latest_calibration("8:0");
  REQUIRE(latest);
  REQUIRE(latest->has_value());
  CHECK((*latest)->read_iops == 1000);
  CHECK((*latest)->write_iops == 500);
  CHECK((*latest)->filesystem == "ext4 at /");
  auto other = store->latest_calibration("9:9");
  REQUIRE(other);
  CHECK(!other->has_value());
}

TEST_CASE("store: the newest calibration of a device wins", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  REQUIRE(store->add_calibration(sample("8:0", 1000)));
  REQUIRE(store->add_calibration(sample("8:0", 3000)));
  REQUIRE(store->add_calibration(sample("8:16", 50)));
  CHECK(store->latest_calibration("8:0").value()->read_iops == 3000);
  CHECK(store->latest_calibration("8:16").value()->read_iops == 50);
}

TEST_CASE("store: a second connection sees what the first wrote in WAL mode", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";
  auto writer = Store::open(path);
  auto reader = Store::open(path);
  REQUIRE(writer);
  REQUIRE(reader);
  REQUIRE(writer->add_calibration(sample("8:0", 1234)));
  CHECK(fs::exists(dir.path() / "wp.db-wal"));
  auto seen = reader->latest_calibration("8:0");
  REQUIRE(seen);
  REQUIRE(seen->has_value());
  CHECK((*seen)->read_iops == 1234);
}

TEST_CASE("store: a transaction not committed is rolled back on scope exit", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  sqlite::Database& db = store->database();
  {
    auto transaction = sqlite::Transaction::begin(db);
    REQUIRE(transaction);
    REQUIRE(
        db.exec("INSERT INTO calibration(filesystem, device, read_iops, write_iops, "
                "measured_at, seconds) VALUES ('x', '1:1', 1, 1, 'now', 1)"));
    CHECK(count_rows(db, "SELECT count(*) FROM calibration") == 1);
  }
  CHECK(count_rows(db, "SELECT count(*) FROM calibration") == 0);
  {
    auto transaction = sqlite::Transaction::begin(db);
    REQUIRE(transaction);
    REQUIRE(
        db.exec("INSERT INTO calibration(filesystem, device, read_iops, write_iops, "
                "measured_at, seconds) VALUES ('x', '1:1', 1, 1, 'now', 1)"));
    REQUIRE(transaction->commit());
  }
  CHECK(count_rows(db, "SELECT count(*) FROM calibration") == 1);
}

TEST_CASE("store: a file that is not a database gives an error naming it", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i)
      out << "this is not an SQLite database, just text left where one should be\n";
  }
  auto store = Store::open(path);
  REQUIRE(!store);
  CHECK_THAT(store.error().message, Catch::Contains("state database " + path.string()));
  CHECK_THAT(store.error().message, Catch::Contains("not a database"));
}

TEST_CASE("store: a schema newer than this wp is refused, not downgraded", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";
  {
    auto db = sqlite::Database::open(path);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version=99"));
  }
  auto store = Store::open(path);
  REQUIRE(!store);
  CHECK_THAT(store.error().message, Catch::Contains("schema version 99 is newer"));
}

TEST_CASE("store: --db wins over WP_DB, which wins over XDG_STATE_HOME", "[profile]") {
  CHECK(resolve_db_path("/x/flag.db").value() == fs::path("/x/flag.db"));
  ::setenv("WP_DB", "/x/env.db", 1);
  CHECK(resolve_db_path("").value() == fs::path("/x/env.db"));
  ::unsetenv("WP_DB");
  ::setenv("XDG_STATE_HOME", "/x/state", 1);
  CHECK(resolve_db_path("").value() == fs::path("/x/state/wp/wp.db"));
  ::unsetenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  std::string saved = home != nullptr ? home : "";
  ::setenv("HOME", "/home/someone", 1);
  CHECK(resolve_db_path("").value() == fs::path("/home/someone/.local/state/wp/wp.db"));
  if (home != nullptr) ::setenv("HOME", saved.c_str(), 1);
}

namespace {

AttemptRecord attempt(const std::string& name, int i, Bytes peak) {
  AttemptRecord a;
  a.uid = "run" + std::to_string(i) + "/" + name + "/1";
  a.key = {"github.com/acme/app:jobs.toml", name};
  a.job = name;
  a.fingerprint = "00000000000000ab";
  a.command = "make " + name;
  a.run_uuid = "run" + std::to_string(i);
  a.manifest = "/src/app/jobs.toml";
  a.started = fmt::format("2026-11-{:02}T10:00:00.000Z", i + 1);
  a.wall_seconds = 2.5;
  a.exit_code = 0;
  a.declared.memory = 1ull << 30;
  a.admitted.memory = 1ull << 30;
  a.predicted.memory = peak + 10;
  a.usage.method = "cgroup v2";
  a.usage.peak_memory = peak;
  a.usage.cpu_seconds = 1.5;
  a.usage.read_ops = 7;
  return a;
}

}  // namespace

TEST_CASE("store: attempts round-trip with every figure, and a uid is stored once", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  AttemptRecord a = attempt("build", 0, 300u << 20);
  a.usage.write_calls = 99;
  a.input_bytes = 12345;
  a.signal = 9;
  REQUIRE(*store->add_attempt(a));
  auto again = store->add_attempt(a);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto stored = store->attempts(a.key);
  REQUIRE(stored);
  REQUIRE(stored->size() == 1);
  const AttemptRecord& b = stored->front();
  CHECK(b.uid == a.uid);
  CHECK(b.started == a.started);
  CHECK(b.usage.peak_memory == a.usage.peak_memory);
  CHECK(b.usage.write_calls == 99u);
  CHECK_FALSE(b.usage.write_ops.has_value());
  CHECK(b.usage.read_ops == 7u);
  CHECK(b.input_bytes == 12345u);
  CHECK(b.signal == 9);
  CHECK(b.predicted.memory == a.predicted.memory);
  CHECK_FALSE(b.predicted.cores.has_value());
  auto profiles = store->profiles();
  REQUIRE(profiles);
  REQUIRE(profiles->size() == 1);
  CHECK(profiles->front().attempts == 1);  // the duplicate added nothing
  CHECK(profiles->front().runs == 1);
}

TEST_CASE("store: keeps the newest attempts and the lifetime aggregates", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  for (int i = 0; i < 12; ++i)
    REQUIRE(store->add_attempt(attempt("build", i, static_cast<Bytes>(100 + i) << 20), 5));
  auto kept = store->attempts({"github.com/acme/app:jobs.toml", "build"});
  REQUIRE(kept);
  REQUIRE(kept->size() == 5);
  CHECK(kept->front().uid == "run7/build/1");  // oldest first
  CHECK(kept->back().uid == "run11/build/1");
  auto limited = store->attempts({"github.com/acme/app:jobs.toml", "build"}, "2026-11-10", 2);
  REQUIRE(limited);
  REQUIRE(limited->size() == 2);
  CHECK(limited->front().uid == "run10/build/1");
  auto profiles = store->profiles({}, "build");
  REQUIRE(profiles);
  REQUIRE(profiles->size() == 1);
  const ProfileSummary& p = profiles->front();
  CHECK(p.attempts == 12);
  CHECK(p.kept == 5);
  CHECK(p.max_memory == 111ull << 20);
  CHECK(p.cpu_seconds == Approx(18.0));
  CHECK(p.first_seen == "2026-11-01T10:00:00.000Z");
  CHECK(p.last_seen == "2026-11-12T10:00:00.000Z");
}

TEST_CASE("store: family attempts, filters and forget", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  for (int shard = 1; shard <= 3; ++shard) {
    AttemptRecord a = attempt("test-" + std::to_string(shard), shard, 50u << 20);
    a.family = "test-{shard}";
    REQUIRE(store->add_attempt(a));
  }
  AttemptRecord other = attempt("build", 9, 1u << 30);
  other.key.space = "elsewhere";
  REQUIRE(store->add_attempt(other));
  auto family = store->family_attempts("github.com/acme/app:jobs.toml", "test-{shard}", 10);
  REQUIRE(family);
  CHECK(family->size() == 3);
  CHECK(store->profiles("elsewhere")->size() == 1);
  CHECK(store->forget("elsewhere", "build").value() == 1);
  CHECK(store->all_attempts()->size() == 3);
  CHECK(store->forget({}, {}).value() == 3);
  CHECK(store->all_attempts()->empty());
}

TEST_CASE("store: a namespace's attempts come one profile at a time, newest kept", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  // Added out of name order; "lint" has four attempts, of which 3 are read.
  for (int i = 1; i <= 4; ++i)
    REQUIRE(store->add_attempt(attempt("lint", i, static_cast<Bytes>(i) << 20)));
  REQUIRE(store->add_attempt(attempt("build", 5, 9u << 20)));
  AttemptRecord other = attempt("build", 6, 1u << 30);
  other.key.space = "elsewhere";
  REQUIRE(store->add_attempt(other));
  std::vector<Store::ProfileHistory> handed;
  Status read = store->namespace_attempts(
      "github.com/acme/app:jobs.toml", 3,
      [&](Store::ProfileHistory profile) { handed.push_back(std::move(profile)); });
  REQUIRE(read);
  REQUIRE(handed.size() == 2);
  CHECK(handed[0].key.name == "build");
  REQUIRE(handed[0].attempts.size() == 1);
  CHECK(handed[0].attempts[0].usage.peak_memory == 9u << 20);
  CHECK(handed[1].key.name == "lint");
  REQUIRE(handed[1].attempts.size() == 3);
  for (size_t i = 0; i < 3; ++i) {  // oldest first
    CHECK(handed[1].attempts[i].usage.peak_memory == static_cast<Bytes>(i + 2) << 20);
  }
  Status none = store->namespace_attempts(
      "nowhere", 3, [&](Store::ProfileHistory) { FAIL("no profile in that namespace"); });
  CHECK(none);
}

TEST_CASE("store: learning predicts each job from its own profile, however many there are",
          "[profile]") {
  // More profiles than the reading thread hands over at a time (64), each
  // with a run time of its own: a profile matched to the wrong job, or one
  // lost between the threads, shows in that job's prediction.
  ScratchDir dir;
  constexpr int kJobs = 300;
  std::string text = "namespace = \"many\"\n";
  for (int job = 0; job < kJobs; ++job)
    text += fmt::format("[[job]]\nname = \"j{:03}\"\ncommand = \"true {}\"\n", job, job);
  auto loaded = wp::manifest::load_string(text, dir.path() / "jobs.toml");
  REQUIRE(loaded.manifest);
  REQUIRE(loaded.errors.empty());
  const wp::manifest::Manifest& manifest = *loaded.manifest;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  std::vector<AttemptRecord> history;
  for (int job = 0; job < kJobs; ++job) {
    for (int run = 0; run < 10; ++run) {  // ten: full confidence
      AttemptRecord a = attempt(fmt::format("j{:03}", job), run, 64u << 20);
      a.key = key_of("many", manifest.jobs[static_cast<size_t>(job)]);
      a.uid = fmt::format("run{}/j{:03}/1", run, job);
      a.fingerprint = fingerprint_of(manifest.jobs[static_cast<size_t>(job)]);
      a.wall_seconds = 1.0 + job;
      history.push_back(a);
    }
  }
  REQUIRE(store->add_attempts(history, 100).value() == history.size());
  Resources capacity;
  capacity.cpu = Cores::from_double(8);
  capacity.memory = 16ull << 30;
  Learning learning(&*store, manifest, capacity, LearnOptions{});
  learning.decide();
  for (size_t job = 0; job < kJobs; ++job) {
    INFO(manifest.jobs[job].name);
    REQUIRE(learning.predicted_wall(job).has_value());
    CHECK(*learning.predicted_wall(job) == Approx(1.0 + static_cast<double>(job)));
  }
}

TEST_CASE("store: a namespace's attempts carry what learning reads, and only that", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  AttemptRecord a = attempt("test-1", 1, 300u << 20);
  a.family = "test-{shard}";
  a.exit_code = 3;
  a.signal = 15;
  a.timed_out = true;
  a.requeued = true;
  a.usage.oom_killed = true;
  a.admitted.memory = 512u << 20;
  a.usage.average_cores = 1.5;
  a.usage.peak_cores = 1.75;
  a.usage.write_ops = 11;
  a.input_bytes = 4096;
  REQUIRE(store->add_attempt(a));
  std::optional<Store::ProfileHistory> handed;
  REQUIRE(store->namespace_attempts(
      a.key.space, 30, [&](Store::ProfileHistory profile) { handed = std::move(profile); }));
  REQUIRE(handed);
  CHECK(handed->key == a.key);
  CHECK(handed->family == a.family);
  REQUIRE(handed->attempts.size() == 1);
  const AttemptRecord& b = handed->attempts.front();
  CHECK(b.fingerprint == a.fingerprint);
  CHECK(b.wall_seconds == a.wall_seconds);
  CHECK(b.exit_code == 3);
  CHECK(b.signal == 15);
  CHECK(b.timed_out);
  CHECK(b.requeued);
  CHECK(b.usage.oom_killed);
  CHECK(b.admitted.memory == 512u << 20);
  CHECK(b.usage.peak_memory == 300u << 20);
  CHECK(b.usage.average_cores == 1.5);
  CHECK(b.usage.peak_cores == 1.75);
  CHECK(b.usage.read_ops == 7u);
  CHECK(b.usage.write_ops == 11u);
  CHECK(b.input_bytes == 4096u);
  // The profile's own fields come once, beside the attempts; the rest is
  // not in attempt_history, or not what learning reads, and is not read.
  CHECK(b.key.name.empty());
  CHECK(b.family.empty());
  CHECK(b.started.empty());
  CHECK(b.uid.empty());
  CHECK(b.command.empty());
  CHECK(b.usage.method.empty());
  CHECK_FALSE(b.usage.cpu_seconds.has_value());
  CHECK_FALSE(b.predicted.memory.has_value());
  CHECK(b.declared.memory == 0);
}

TEST_CASE("store: attempts started at the same moment are kept and read newest last", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  // An import or a clock that stood still: ties go by the order of adding.
  for (int i = 0; i < 4; ++i) {
    AttemptRecord a = attempt("build", 0, static_cast<Bytes>(i + 1) << 20);
    a.uid = "same/build/" + std::to_string(i + 1);
    REQUIRE(store->add_attempt(a, 3));
  }
  auto kept = store->attempts({"github.com/acme/app:jobs.toml", "build"});
  REQUIRE(kept);
  REQUIRE(kept->size() == 3);
  CHECK(kept->front().uid == "same/build/2");
  CHECK(kept->back().uid == "same/build/4");
  std::vector<AttemptRecord> handed;
  REQUIRE(store->namespace_attempts(
      "github.com/acme/app:jobs.toml", 2,
      [&](Store::ProfileHistory profile) { handed = std::move(profile.attempts); }));
  REQUIRE(handed.size() == 2);
  CHECK(handed.front().usage.peak_memory == 3u << 20);
  CHECK(handed.back().usage.peak_memory == 4u << 20);
}

TEST_CASE("store: a version 1 file migrates and keeps its calibrations", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "old.db";
  {
    auto db = sqlite::Database::open(path);
    REQUIRE(db);
    REQUIRE(
        db->exec("CREATE TABLE calibration(id INTEGER PRIMARY KEY, filesystem TEXT NOT NULL, "
                 "device TEXT NOT NULL, read_iops INTEGER NOT NULL, write_iops INTEGER NOT "
                 "NULL, measured_at TEXT NOT NULL, seconds REAL NOT NULL);"
                 "INSERT INTO calibration VALUES(1, 'ext4 at /', '8:0', 900, 400, "
                 "'2026-01-01T00:00:00Z', 3.0); PRAGMA user_version=1;"));
  }
  auto store = Store::open(path);
  REQUIRE(store);
  CHECK(store->schema_version().value() == kSchemaVersion);
  auto calibration = store->latest_calibration("8:0");
  REQUIRE(calibration);
  REQUIRE(calibration->has_value());
  CHECK((*calibration)->read_iops == 900);
  REQUIRE(store->add_attempt(attempt("build", 0, 1u << 20)));
  CHECK(store->all_attempts()->size() == 1);
}

TEST_CASE("store: attempts retention dropped are not added again by an import", "[profile]") {
  ScratchDir dir;
  auto store = Store::open(dir.path() / "wp.db");
  REQUIRE(store);
  std::vector<AttemptRecord> all;
  for (int i = 0; i < 12; ++i)
    all.push_back(attempt("build", i, 100u << 20));
  REQUIRE(store->add_attempts(all, 5).value() == 12);
  // The same document again: the 5 kept are present, the 7 dropped too old.
  CHECK(store->add_attempts(all, 5).value() == 0);
  auto profile = store->profiles({}, "build");
  REQUIRE(profile);
  CHECK(profile->front().attempts == 12);
  CHECK(profile->front().kept == 5);
  // A newer attempt still goes in, and pushes the oldest kept one out.
  CHECK(store->add_attempt(attempt("build", 20, 1u << 20), 5).value());
  CHECK(store->attempts({"github.com/acme/app:jobs.toml", "build"})->front().uid == "run8/build/1");
  // One older than what retention kept is not added (an import of old
  // attempts), nor counted; a new profile's first attempt is.
  CHECK_FALSE(store->add_attempt(attempt("build", 3, 1u << 20), 5).value());
  CHECK(store->profiles({}, "build")->front().attempts == 13);
  CHECK(store->add_attempt(attempt("test", 3, 1u << 20), 5).value());
  auto test = store->profiles({}, "test");
  REQUIRE(test->size() == 1);
  CHECK(test->front().attempts == 1);
  CHECK(test->front().first_seen == "2026-11-04T10:00:00.000Z");
}

TEST_CASE("store: a version 2 file gains the retention mark", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "v2.db";
  {
    auto store = Store::open(path);
    REQUIRE(store);
    REQUIRE(store->add_attempt(attempt("build", 0, 1u << 20)));
    REQUIRE(store->database().exec(
        "ALTER TABLE profile DROP COLUMN kept_since; PRAGMA user_version=2;"));
  }
  auto store = Store::open(path);
  REQUIRE(store);
  CHECK(store->schema_version().value() == kSchemaVersion);
  CHECK(store->all_attempts()->size() == 1);
  CHECK(count_rows(store->database(), "SELECT count(*) FROM profile WHERE kept_since = ''") == 1);
}

TEST_CASE("store: a version 3 file gets the attempt_history index in place of the old one",
          "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "v3.db";
  {
    auto store = Store::open(path);
    REQUIRE(store);
    for (int i = 0; i < 3; ++i)
      REQUIRE(store->add_attempt(attempt("build", i, static_cast<Bytes>(i + 1) << 20)));
    REQUIRE(
        store->database().exec("DROP INDEX attempt_history; "
                               "CREATE INDEX attempt_by_profile ON attempt(profile_id, started); "
                               "PRAGMA user_version=3;"));
  }
  auto store = Store::open(path);
  REQUIRE(store);
  CHECK(store->schema_version().value() == kSchemaVersion);
  auto index_count = [&](const std::string& name) {
    return count_rows(
        store->database(),
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" + name + "'");
  };
  CHECK(index_count("attempt_by_profile") == 0);
  CHECK(index_count("attempt_history") == 1);
  std::vector<AttemptRecord> handed;
  REQUIRE(store->namespace_attempts(
      "github.com/acme/app:jobs.toml", 30,
      [&](Store::ProfileHistory profile) { handed = std::move(profile.attempts); }));
  REQUIRE(handed.size() == 3);
  CHECK(handed.back().usage.peak_memory == 3u << 20);
}

namespace {

// The attempts learning would read of the sample namespace.
Result<size_t> attempts_read(Store& store) {
  size_t count = 0;
  Status status = store.namespace_attempts(
      "github.com/acme/app:jobs.toml", 30,
      [&](Store::ProfileHistory profile) { count += profile.attempts.size(); });
  if (!status) return status.error();
  return count;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("store: opening to read creates, migrates and waits for nothing", "[profile]") {
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";

  SECTION("a missing file stays missing") {
    CHECK(!Store::open_read_only(path));
    CHECK(!fs::exists(path));
  }
  SECTION("an empty file stays empty") {
    std::ofstream{path};
    auto store = Store::open_read_only(path);
    REQUIRE(!store);
    CHECK_THAT(store.error().message, Catch::Contains("no wp schema"));
    CHECK(fs::file_size(path) == 0);
  }
  SECTION("an older schema is neither read nor brought up to date") {
    {
      auto store = Store::open(path);
      REQUIRE(store);
      REQUIRE(store->add_attempt(attempt("build", 1, 1 << 20)));
      REQUIRE(store->database().exec("PRAGMA user_version=3"));
    }
    std::string before = file_bytes(path);
    auto store = Store::open_read_only(path);
    REQUIRE(!store);
    CHECK_THAT(store.error().message, Catch::Contains("schema version 3 is older"));
    CHECK(file_bytes(path) == before);
  }
  SECTION("the current schema is read beside a writer's open transaction") {
    auto writer = Store::open(path);
    REQUIRE(writer);
    for (int i = 0; i < 3; ++i)
      REQUIRE(writer->add_attempt(attempt("build", i, 1 << 20)));
    auto transaction = sqlite::Transaction::begin(writer->database());
    REQUIRE(transaction);
    REQUIRE(writer->database().exec(
        "UPDATE attempt SET peak_memory = 0; PRAGMA user_version=3"));  // not committed
    // A reader that took a write lock, or waited for one, would time out
    // here (the busy timeout is 30 s) instead of reading.
    auto reader = Store::open_read_only(path);
    REQUIRE(reader);
    auto read = attempts_read(*reader);
    REQUIRE(read);
    CHECK(*read == 3);
  }
  SECTION("a reader writes nothing and, closed last, leaves only the file behind") {
    {
      auto writer = Store::open(path);
      REQUIRE(writer);
      REQUIRE(writer->add_attempt(attempt("build", 1, 1 << 20)));
    }
    REQUIRE(names_in(dir.path()) == std::vector<std::string>{"wp.db"});
    std::string before = file_bytes(path);
    {
      auto reader = Store::open_read_only(path);
      REQUIRE(reader);
      CHECK(attempts_read(*reader).value() == 1);
      CHECK(names_in(dir.path()) == std::vector<std::string>{"wp.db", "wp.db-shm", "wp.db-wal"});
      CHECK(!reader->add_attempt(attempt("build", 2, 1 << 20)));
    }
    CHECK(names_in(dir.path()) == std::vector<std::string>{"wp.db"});
    CHECK(file_bytes(path) == before);
  }
  SECTION("what a killed writer left in the log goes into the file as the last reader closes") {
    REQUIRE(Store::open(path));
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto writer = Store::open(path);
      ::_exit(writer && writer->add_attempt(attempt("build", 1, 1 << 20)) ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(status == 0);
    REQUIRE(fs::file_size(dir.path() / "wp.db-wal") > 0);
    {
      auto reader = Store::open_read_only(path);
      REQUIRE(reader);
      CHECK(attempts_read(*reader).value() == 1);
    }
    CHECK(names_in(dir.path()) == std::vector<std::string>{"wp.db"});
    auto on_disk = sqlite::Database::open(path, sqlite::Database::Access::Immutable);
    REQUIRE(on_disk);
    auto count = sqlite::Statement::prepare(*on_disk, "SELECT count(*) FROM attempt");
    REQUIRE(count);
    REQUIRE(count->step().value());
    CHECK(count->column_int(0) == 1);
  }
}

TEST_CASE("store: a reader who may not write the file's directory still reads it", "[profile]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot become a user without write access to the directory");
    return;
  }
  ScratchDir dir;
  fs::path path = dir.path() / "wp.db";
  {
    auto store = Store::open(path);
    REQUIRE(store);
    for (int i = 0; i < 2; ++i)
      REQUIRE(store->add_attempt(attempt("build", i, 1 << 20)));
  }
  // Root's directory and file, which the user nobody may read but not
  // write: SQLite cannot make the -shm index there that a WAL reader uses.
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    constexpr uid_t kNobody = 65534;
    if (::setresgid(kNobody, kNobody, kNobody) != 0 || ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(100);
    auto store = Store::open_read_only(path);
    if (!store) ::_exit(101);
    auto read = attempts_read(*store);
    ::_exit(read ? static_cast<int>(*read) : 102);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"wp.db"});
}
