// `wp validate`: 0 for a good manifest, 2 with every error positioned.
#include <regex>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

const char* const kGood =
    "version = 1\n"
    "[defaults]\n"
    "memory = \"128MiB\"\n"
    "[[job]]\n"
    "name = \"build\"\n"
    "command = \"true\"\n"
    "[[job]]\n"
    "name = \"test-{shard}\"\n"
    "matrix = { shard = [0, 1, 2] }\n"
    "command = \"true\"\n"
    "after = [\"build\"]\n";

// Two independent errors on known lines (4 and 9).
const char* const kBad =
    "version = 1\n"
    "[[job]]\n"
    "name = \"a\"\n"
    "memroy = \"1GiB\"\n"
    "command = \"true\"\n"
    "[[job]]\n"
    "name = \"b\"\n"
    "command = \"true\"\n"
    "memory = \"12GBs\"\n";

}  // namespace

TEST_CASE("validate: a good manifest exits 0", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kGood);
  RunResult r = run_wp({"validate", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
}

TEST_CASE("validate: every error is reported with file:line:column and exit 2", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kBad);
  RunResult r = run_wp({"validate", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:4:[0-9]+: error: .*memroy)")));
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:9:[0-9]+: error: )")));
  CHECK(contains(r.err, "did you mean 'memory'?"));
}

TEST_CASE("validate --json: a good manifest is valid with the expanded job count",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kGood);
  RunResult r = run_wp({"validate", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  Json report = parse_json(r.out);
  CHECK(report["valid"].as_bool());
  CHECK(report["jobs"].as_int() == 4);
  CHECK(report["errors"].size() == 0);
  CHECK(contains(report["manifest"].as_string(), "jobs.toml"));
}

TEST_CASE("validate --json: errors carry file, line, column and message", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kBad);
  RunResult r = run_wp({"validate", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  Json report = parse_json(r.out);
  INFO(report.dump());
  CHECK_FALSE(report["valid"].as_bool());
  const Json& errors = report["errors"];
  REQUIRE(errors.size() == 2);
  CHECK(errors[0]["line"].as_int() == 4);
  CHECK(errors[1]["line"].as_int() == 9);
  for (const auto& error : errors.as_array()) {
    CHECK(contains(error["file"].as_string(), "jobs.toml"));
    CHECK(error["column"].as_int() >= 1);
    CHECK_FALSE(error["message"].as_string().empty());
  }
}

TEST_CASE("validate: an unknown dependency is reported with a suggestion", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"build\"\ncommand = \"true\"\n"
             "[[job]]\nname = \"test\"\ncommand = \"true\"\nafter = [\"biuld\"]\n");
  RunResult r = run_wp({"validate", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:7:[0-9]+: error: .*biuld)")));
  CHECK(contains(r.err, "did you mean 'build'?"));
}

TEST_CASE("validate: capacity flags make an oversized job an error", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"big\"\ncommand = \"true\"\nmemory = \"2GiB\"\n");
  RunResult ok = run_wp({"validate", "--memory", "4GiB", dir.str("jobs.toml")});
  INFO(ok.describe());
  CHECK(ok.exit_code == 0);
  RunResult bad = run_wp({"validate", "--memory", "1GiB", dir.str("jobs.toml")});
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "big"));
  CHECK(contains(bad.err, "--memory"));
}

TEST_CASE("validate: a duplicate name from matrix expansion is an error", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"test\"\nmatrix = { i = [1, 2] }\ncommand = \"echo {i}\"\n");
  RunResult r = run_wp({"validate", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "duplicate job name 'test'"));
}
