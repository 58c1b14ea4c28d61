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

TEST_CASE("validate: one pass reports every problem, a nameless job's too", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n"                      // 1
             "[defaults]\n"                       // 2
             "memroy = \"1GiB\"\n"                // 3: unknown key
             "[capacity]\n"                       // 4
             "cpu = \"lots\"\n"                   // 5: wrong type
             "[[job]]\n"                          // 6: no name
             "command = \"true\"\n"               // 7
             "after = [\"nowhere\"]\n"            // 8: unknown job
             "cpu = -1\n"                         // 9: out of range
             "[[job]]\n"                          // 10
             "name = \"a\"\n"                     // 11
             "command = \"true\"\n"               // 12
             "after = [\"b\", \"ghost\"]\n"       // 13: cycle, unknown job
             "timeout = \"5 parsecs\"\n"          // 14: bad unit
             "[[job]]\n"                          // 15
             "name = \"b\"\n"                     // 16
             "command = \"true\"\n"               // 17
             "after = [\"a\"]\n"                  // 18
             "[[job]]\n"                          // 19
             "name = \"big-{i}\"\n"               // 20
             "matrix = { i = [1, { x = 1 }] }\n"  // 21: bad matrix value
             "command = \"true\"\n"               // 22
             "[[job]]\n"                          // 23
             "name = \"huge\"\n"                  // 24: does not fit
             "command = \"true\"\n"               // 25
             "memory = \"2GiB\"\n");              // 26
  RunResult r = run_wp({"validate", "--json", "--memory", "1GiB", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  Json report = parse_json(r.out);
  std::vector<long> lines;
  for (const Json& error : report["errors"].as_array())
    lines.push_back(error["line"].as_int());
  // The job that does not fit is blamed at the key asking for too much.
  CHECK(lines == std::vector<long>{3, 5, 6, 8, 9, 13, 13, 14, 21, 26});
}

namespace {

// A [[job]] table expanding to `members` jobs, then `rest`.
std::string matrix_table(int members, const std::string& rest) {
  std::string values;
  for (int i = 0; i < members; ++i)
    values += std::to_string(i) + ",";
  return "[[job]]\n"
         "name = \"t-{a}\"\n"
         "command = \"true\"\n" +
         rest + "matrix = { a = [" + values + "] }\n";
}

// The lines of `err` that report an error.
std::vector<std::string> error_lines(const std::string& err) {
  std::vector<std::string> out;
  for (const std::string& line : split_lines(err)) {
    if (contains(line, ": error: ")) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("validate: a matrix table's mistakes are one error each, at their keys",
          "[integration]") {
  TempDir dir;
  write_file(dir / "toobig.toml", matrix_table(5000,
                                               "memory = \"1TiB\"\n"      // 4
                                               "after = [\"nope\"]\n"));  // 5
  RunResult r = run_wp({"validate", "--memory", "1GiB", dir.str("toobig.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  std::vector<std::string> errors = error_lines(r.err);
  REQUIRE(errors.size() == 2);
  CHECK(contains(errors[0],
                 "toobig.toml:4:1: error: jobs 't-0' ... 't-4999' (5000 jobs from this table) "
                 "need memory 1 TiB but wp may use at most 1 GiB; lower the table's memory"));
  CHECK(contains(errors[1], "toobig.toml:5:10: error: job 't-{a}': after: unknown job 'nope'"));
  CHECK(has_line(r.err, "wp: 2 errors"));
}

TEST_CASE("validate: a [defaults] request too large is one error at [defaults]", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[defaults]\n"             // 1
             "memory = \"500GiB\"\n" +  // 2
                 matrix_table(100, ""));
  RunResult r = run_wp({"validate", "--json", "--memory", "1GiB", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  Json report = parse_json(r.out);
  const Json& errors = report["errors"];
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["line"].as_int() == 2);
  CHECK(errors[0]["column"].as_int() == 1);
  CHECK(errors[0]["message"].as_string() ==
        "jobs 't-0' ... 't-99' (100 jobs with memory from [defaults]) need memory 500 GiB but wp "
        "may use at most 1 GiB; lower [defaults] memory or set memory in those jobs, or name a "
        "larger machine with --memory");
}

TEST_CASE("validate and run: a command of only whitespace is an error", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"blank\"\ncommand = \"   \"\n");
  for (const char* command : {"validate", "run"}) {
    RunResult r = run_wp({command, dir.str("jobs.toml")});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "jobs.toml:3:11: error: job 'blank': command: is only whitespace"));
  }
}

TEST_CASE("validate/plan/run: a program emptied by a matrix value is an error", "[integration]") {
  TempDir dir;
  // The first job touches a file: a run that started jobs before refusing
  // the manifest would be caught.
  write_file(dir / "jobs.toml",
             "[[job]]\n"
             "name = \"first\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("touched")}) +
                 "\n"
                 "[[job]]\n"
                 "name = \"lint-{n}{tool}\"\n"
                 "argv = [\"{tool}\", \"{n}\"]\n"
                 "matrix = { tool = [\"\", \"true\"], n = [1, 2] }\n"
                 "[[job]]\n"
                 "name = \"sh-{c}\"\n"
                 "command = \"{c}\"\n"
                 "matrix = { c = [\"true\", \" \"] }\n");
  for (const char* command : {"validate", "plan", "run"}) {
    RunResult r = run_wp({command, dir.str("jobs.toml")});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    std::vector<std::string> errors = error_lines(r.err);
    REQUIRE(errors.size() == 2);
    CHECK(contains(errors[0],
                   "jobs.toml:6:9: error: job 'lint-{n}{tool}': argv: matrix expansion gives an "
                   "empty program name argv[0] for tool = \"\"; use other matrix values"));
    CHECK(contains(errors[1],
                   "jobs.toml:10:11: error: job 'sh-{c}': command: matrix expansion gives only "
                   "whitespace for c = \" \"; use other matrix values"));
    std::string last = std::string(command) == "run"    ? "wp: 2 errors; nothing was run"
                       : std::string(command) == "plan" ? "wp: 2 errors; nothing was planned"
                                                        : "wp: 2 errors";
    CHECK(has_line(r.err, last));
  }
  CHECK_FALSE(fs::exists(dir / "touched"));
}
