// The writer thread: every queued attempt reaches the database by finish(),
// and a failure is reported once, not thrown or lost.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "profile/recorder.h"
#include "profile/store.h"

using namespace wp;
using namespace wp::profile;
namespace fs = std::filesystem;

namespace {

class ScratchDb {
 public:
  ScratchDb() {
    std::string name = (fs::temp_directory_path() / "wp-recorder-XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    dir_ = name;
  }
  ~ScratchDb() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ScratchDb(const ScratchDb&) = delete;
  ScratchDb& operator=(const ScratchDb&) = delete;
  fs::path path() const { return dir_ / "wp.db"; }

 private:
  fs::path dir_;
};

AttemptRecord record(int i) {
  AttemptRecord a;
  a.uid = "run/job-" + std::to_string(i % 7) + "/" + std::to_string(i);
  a.key = {"ns", "job-" + std::to_string(i % 7)};
  a.job = a.key.name;
  a.fingerprint = "0000000000000001";
  a.run_uuid = "run";
  a.number = i;
  a.started = "2026-11-24T10:00:00.000Z";
  a.wall_seconds = 1;
  a.exit_code = 0;
  a.usage.method = "procfs";
  a.usage.peak_memory = static_cast<Bytes>(i) << 20;
  return a;
}

}  // namespace

TEST_CASE("recorder: everything queued is written by finish()", "[profile]") {
  ScratchDb db;
  auto store = Store::open(db.path());
  REQUIRE(store);
  {
    Recorder recorder(*store, 1000);
    for (int i = 1; i <= 500; ++i)
      recorder.add(record(i));
    CHECK_FALSE(recorder.finish().has_value());
  }
  auto stored = store->all_attempts();
  REQUIRE(stored);
  CHECK(stored->size() == 500);
  auto profiles = store->profiles("ns");
  REQUIRE(profiles);
  CHECK(profiles->size() == 7);
}

TEST_CASE("recorder: retention applies to what it writes", "[profile]") {
  ScratchDb db;
  auto store = Store::open(db.path());
  REQUIRE(store);
  Recorder recorder(*store, 3);
  for (int i = 1; i <= 70; ++i)
    recorder.add(record(i));
  CHECK_FALSE(recorder.finish().has_value());
  CHECK(store->all_attempts()->size() == 7 * 3);
  CHECK(store->profiles("ns", "job-0")->front().attempts == 10);
}

TEST_CASE("recorder: a failed write is reported by finish() and later records are dropped",
          "[profile]") {
  ScratchDb db;
  auto store = Store::open(db.path());
  REQUIRE(store);
  REQUIRE(store->database().exec("DROP TABLE attempt"));
  Recorder recorder(*store, 100);
  recorder.add(record(1));
  recorder.add(record(2));
  std::optional<Error> failed = recorder.finish();
  REQUIRE(failed.has_value());
  CHECK(failed->message.find("attempt") != std::string::npos);
  CHECK(failed->message.find(db.path().string()) != std::string::npos);
  // Finishing again is harmless and says the same.
  CHECK(recorder.finish().has_value());
}
