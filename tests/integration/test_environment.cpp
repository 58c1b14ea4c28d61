// What a job sees: WP_* variables, env tables, working directory, matrix names,
// and where the run directory goes.
#include <algorithm>
#include <regex>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

// "VAR=value" from a job's log, or "" when absent.
std::string env_value(const std::string& log, const std::string& var) {
  for (const auto& line : split_lines(log)) {
    if (line.rfind(var + "=", 0) == 0) return line.substr(var.size() + 1);
  }
  return "";
}

}  // namespace

TEST_CASE("a job gets WP_JOB_NAME, WP_JOB_ATTEMPT, WP_RUN_ID, WP_RUN_DIR and WP_CPUS",
          "[integration]") {
  TempDir dir;
  write_file(
      dir / "jobs.toml",
      "[[job]]\nname = \"envy\"\ncpu = 1.5\nargv = " +
          job_argv({"--print-env", "WP_JOB_NAME", "--print-env", "WP_JOB_ATTEMPT", "--print-env",
                    "WP_RUN_ID", "--print-env", "WP_RUN_DIR", "--print-env", "WP_CPUS"}) +
          "\n");
  RunResult r = run_wp({"run", "--json", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  Json summary = parse_json(r.out);
  std::string log = read_file(dir / "run" / "envy.1.out");
  INFO(log);
  CHECK(env_value(log, "WP_JOB_NAME") == "envy");
  CHECK(env_value(log, "WP_JOB_ATTEMPT") == "1");
  CHECK(env_value(log, "WP_RUN_ID") == summary["run_id"].as_string());
  CHECK(std::regex_match(env_value(log, "WP_RUN_ID"), std::regex(R"([0-9]{8}-[0-9]{6}-[0-9]+)")));
  std::string run_dir = env_value(log, "WP_RUN_DIR");
  REQUIRE_FALSE(run_dir.empty());
  CHECK(fs::equivalent(run_dir, dir / "run"));
  CHECK(env_value(log, "WP_CPUS") == "2");
}

TEST_CASE("job env is merged over [defaults] env and the inherited environment", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[defaults]\nenv = { FROM_DEFAULTS = \"d\", OVERRIDDEN = \"d\" }\n"
             "[[job]]\nname = \"env\"\nenv = { OVERRIDDEN = \"job\", NUMBER = 5 }\nargv = " +
                 job_argv({"--print-env", "FROM_DEFAULTS", "--print-env", "OVERRIDDEN",
                           "--print-env", "NUMBER", "--print-env", "WPIT_INHERITED"}) +
                 "\n");
  RunOptions options;
  options.env = {{"WPIT_INHERITED", "yes"}};
  RunResult r = run_wp({"run", dir.str("jobs.toml")}, options);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[env] FROM_DEFAULTS=d"));
  CHECK(has_line(r.out, "[env] OVERRIDDEN=job"));
  CHECK(has_line(r.out, "[env] NUMBER=5"));
  CHECK(has_line(r.out, "[env] WPIT_INHERITED=yes"));
}

TEST_CASE("cwd is relative to the manifest's directory, which is also the default",
          "[integration]") {
  TempDir dir;
  TempDir elsewhere;
  fs::create_directories(dir / "project" / "sub");
  write_file(dir / "project" / "jobs.toml",
             "[[job]]\nname = \"in-sub\"\ncwd = \"sub\"\nargv = " + job_argv({"--print-cwd"}) +
                 "\n[[job]]\nname = \"default\"\nargv = " + job_argv({"--print-cwd"}) + "\n");
  // wp runs from an unrelated directory: paths must not resolve against it.
  RunOptions options;
  options.cwd = elsewhere.path();
  RunResult r = run_wp({"run", dir.str("project/jobs.toml")}, options);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[in-sub] cwd=" + (dir / "project" / "sub").string()));
  CHECK(has_line(r.out, "[default] cwd=" + (dir / "project").string()));
}

TEST_CASE("a matrix expands into one job per value, each with its own name", "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"m-{shard}\"\nmatrix = { shard = [1, 2, 3] }\ncpu = 0.5\n"
             "argv = " +
                 job_argv({"--record", rec, "--stdout", "shard={shard}"}) + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> records = read_records(rec);
  CHECK(records.size() == 3);
  for (const char* shard : {"1", "2", "3"}) {
    std::string name = std::string("m-") + shard;
    CHECK(find_record(records, name) != nullptr);
    CHECK(has_line(r.out, "[" + name + "] shard=" + shard));
  }
}

TEST_CASE("the default run directory is .wp/runs/<run-id> next to the manifest", "[integration]") {
  TempDir dir;
  TempDir elsewhere;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"logged\"\nargv = " + job_argv({"--stdout", "in-the-log"}) + "\n");
  RunOptions options;
  options.cwd = elsewhere.path();
  RunResult r = run_wp({"run", "--json", dir.str("jobs.toml")}, options);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  Json summary = parse_json(r.out);
  fs::path run_dir = dir / ".wp" / "runs" / summary["run_id"].as_string();
  REQUIRE(fs::is_directory(run_dir));
  CHECK(fs::equivalent(summary["run_dir"].as_string(), run_dir));
  CHECK(read_file(run_dir / "logged.1.out") == "in-the-log\n");
  CHECK(fs::exists(run_dir / "summary.json"));
  REQUIRE(fs::exists(dir / ".wp" / ".gitignore"));
  CHECK(contains(read_file(dir / ".wp" / ".gitignore"), "*"));
  CHECK_FALSE(fs::exists(elsewhere / ".wp"));
}

TEST_CASE("log file names are sanitised job names", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"odd name/with:chars\"\nargv = " +
                                    job_argv({"--stdout", "x"}) + "\n");
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(fs::exists(dir / "run" / "odd_name_with_chars.1.out"));
  CHECK(has_line(r.out, "[odd name/with:chars] x"));
}

TEST_CASE("WP_CPUS is the declared cpu rounded up and at least 1", "[integration]") {
  TempDir dir;
  std::string manifest;
  for (const auto& [name, cpu] : std::vector<std::pair<std::string, std::string>>{
           {"half", "0.5"}, {"one", "1"}, {"tiny", "0.01"}}) {
    manifest += "[[job]]\nname = \"" + name + "\"\ncpu = " + cpu +
                "\nargv = " + job_argv({"--print-env", "WP_CPUS"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[half] WP_CPUS=1"));
  CHECK(has_line(r.out, "[one] WP_CPUS=1"));
  CHECK(has_line(r.out, "[tiny] WP_CPUS=1"));
}

TEST_CASE("jobs whose names sanitise alike get distinct log files", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"a/b\"\nargv = " + job_argv({"--stdout", "from-slash"}) + "\n" +
                 "[[job]]\nname = \"a_b\"\nargv = " + job_argv({"--stdout", "from-underscore"}) +
                 "\n" + "[[job]]\nname = \"a:b\"\nargv = " + job_argv({"--stdout", "from-colon"}) +
                 "\n");
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> contents;
  for (const auto& entry : fs::directory_iterator(dir / "run")) {
    std::string file = entry.path().filename().string();
    if (file.rfind("a_b", 0) == 0 && file.size() > 6 && file.substr(file.size() - 6) == ".1.out") {
      contents.push_back(read_file(entry.path()));
    }
  }
  std::sort(contents.begin(), contents.end());
  CHECK(contents == std::vector<std::string>{"from-colon\n", "from-slash\n", "from-underscore\n"});
}

TEST_CASE("a relative manifest path works from the manifest's directory", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"rel\"\nargv = " + job_argv({"--print-cwd"}) + "\n");
  RunOptions options;
  options.cwd = dir.path();
  RunResult r = run_wp({"run", "jobs.toml"}, options);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[rel] cwd=" + dir.path().string()));
  CHECK(fs::is_directory(dir / ".wp" / "runs"));
}
