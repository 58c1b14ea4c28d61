// The state database on real SQLite files: migrations, WAL between
// connections, transactions, and what a damaged file says.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "profile/sqlite.h"
#include "profile/store.h"

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
