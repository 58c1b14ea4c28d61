// `wp calibrate` through the real binary: it stores a figure, `wp info`
// reports it as IOPS capacity, and `wp run` refuses a job that needs more.
#include <catch2/catch.hpp>

#include "mini_json.h"
#include "wp_harness.h"

using namespace wpit;

TEST_CASE("calibrate: the stored figure becomes the IOPS capacity", "[integration]") {
  TempDir dir;
  std::string db = dir.str("state/wp.db");
  RunResult calibrate =
      run_wp({"calibrate", "--seconds", "0.3", "--db", db, "--dir", dir.path().string(), "--json"});
  INFO(calibrate.describe());
  REQUIRE(calibrate.exit_code == 0);
  Json measured = parse_json(calibrate.out);
  CHECK(measured["read_iops"].as_number() > 0);
  CHECK(measured["write_iops"].as_number() > 0);
  CHECK(measured["database"].as_string() == db);
  CHECK(fs::exists(db));

  RunOptions here;
  here.cwd = dir.path();
  RunResult info = run_wp({"info", "--json", "--db", db}, here);
  INFO(info.describe());
  REQUIRE(info.exit_code == 0);
  Json doc = parse_json(info.out);
  const Json& iops = doc["capacity"]["iops"];
  double capacity = iops["value"].as_number();
  CHECK(capacity > 0);
  CHECK(capacity == measured["iops"].as_number());
  CHECK(contains(iops["source"].as_string(), "calibrate"));

  // Without --db the figure is not found: capacity comes from the database named.
  RunResult elsewhere =
      run_wp({"info", "--json"},
             RunOptions{dir.path(), milliseconds(30'000), {{"WP_DB", dir.str("none.db")}}});
  REQUIRE(elsewhere.exit_code == 0);
  CHECK(parse_json(elsewhere.out)["capacity"]["iops"]["value"].is_null());
  CHECK(!fs::exists(dir / "none.db"));

  write_file(dir / "jobs.toml", "version = 1\n[[job]]\nname = \"heavy\"\niops = " +
                                    std::to_string(static_cast<long long>(capacity) + 1) +
                                    "\nargv = " + job_argv({"--name", "x"}) + "\n");
  RunResult run = run_wp({"run", "--db", db, dir.str("jobs.toml")});
  INFO(run.describe());
  CHECK(run.exit_code == 2);
  CHECK(contains(run.err, "iops"));
  RunResult capped =
      run_wp({"validate", "--db", db, "--iops",
              std::to_string(static_cast<long long>(capacity) + 10), dir.str("jobs.toml")});
  INFO(capped.describe());
  CHECK(capped.exit_code == 0);
}

TEST_CASE("calibrate: a database that cannot be opened does not stop a run", "[integration]") {
  TempDir dir;
  write_file(dir / "broken.db", std::string(8192, 'x'));
  write_file(dir / "jobs.toml", "version = 1\n[[job]]\nname = \"light\"\niops = 5\nargv = " +
                                    job_argv({"--name", "x"}) + "\n");
  RunResult run = run_wp({"run", "--db", dir.str("broken.db"), dir.str("jobs.toml")});
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  CHECK(contains(run.err, "state database"));

  RunResult calibrate = run_wp({"calibrate", "--seconds", "0.1", "--db", dir.str("broken.db"),
                                "--dir", dir.path().string()});
  CHECK(calibrate.exit_code == 1);
  CHECK(contains(calibrate.err, "not a database"));
}
