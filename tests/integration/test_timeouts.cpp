// Timeouts stop a job's whole process tree: SIGTERM to the group, then SIGKILL
// after --grace. Children that outlive their job's main process are killed too.
#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

std::string tree_job(const std::string& name, const std::string& token, const TempDir& dir,
                     const std::vector<std::string>& extra, const std::string& keys) {
  std::vector<std::string> args = {"--marker", token,     "--spawn-children",
                                   "2",        "--touch", dir.str(name + ".started")};
  args.insert(args.end(), extra.begin(), extra.end());
  return "[[job]]\nname = \"" + name +
         "\"\ncpu = 0.5\nmemory = \"16MiB\"\nargv = " + job_argv(args) + "\n" + keys;
}

}  // namespace

TEST_CASE("timeout: a job and all its children are killed and reported as timed out",
          "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  write_file(dir / "jobs.toml",
             tree_job("sleepy", token, dir, {"--sleep-ms", "60000"}, "timeout = \"1s\"\n"));
  RunResult r = run_wp({"run", "--grace", "500ms", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  REQUIRE(fs::exists(dir / "sleepy.started"));
  CHECK(wait_until_no_token(token, milliseconds(2000)));
  CHECK_FALSE(left_unreaped_by_wp(pid_from_file(dir / "sleepy.started")));
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "sleepy");
  CHECK(job["status"].as_string() == "timed_out");
  CHECK(summary["counts"]["timed_out"].as_int() == 1);
  CHECK(contains(r.err, "sleepy"));
}

TEST_CASE("timeout: a job that ignores SIGTERM is SIGKILLed after --grace", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  write_file(dir / "jobs.toml",
             tree_job("stubborn", token, dir, {"--ignore-term", "--sleep-ms", "60000"},
                      "timeout = \"1s\"\n"));
  RunResult r = run_wp({"run", "--grace", "500ms", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  REQUIRE(fs::exists(dir / "stubborn.started"));
  CHECK(wait_until_no_token(token, milliseconds(2000)));
  CHECK_FALSE(left_unreaped_by_wp(pid_from_file(dir / "stubborn.started")));
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "stubborn");
  CHECK(job["status"].as_string() == "timed_out");
  REQUIRE(job["signal"].is_string());
  CHECK(job["signal"].as_string() == "SIGKILL");
}

TEST_CASE("timeout: a timed-out attempt is retried and the job can still time out",
          "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  write_file(dir / "jobs.toml", tree_job("again", token, dir, {"--sleep-ms", "60000"},
                                         "timeout = \"500ms\"\nretries = 1\n"));
  RunResult r = run_wp(
      {"run", "--grace", "300ms", "--retry-backoff", "100ms", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(wait_until_no_token(token, milliseconds(2000)));
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "again");
  CHECK(job["status"].as_string() == "timed_out");
  REQUIRE(job["attempts"].size() == 2);
  CHECK(job["attempts"][0]["timed_out"].as_bool());
  CHECK(job["attempts"][1]["timed_out"].as_bool());
}

TEST_CASE("background children left by a finished job are killed when it exits", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  // The main process exits at once; its children keep the output pipes open
  // and would sleep for ten minutes.
  write_file(dir / "jobs.toml", tree_job("parent", token, dir, {}, ""));
  RunResult r = run_wp({"run", "--grace", "500ms", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  REQUIRE(fs::exists(dir / "parent.started"));
  CHECK(wait_until_no_token(token, milliseconds(2000)));
}

TEST_CASE("timeout: wp waits out --grace before SIGKILL and never kills early", "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"stubborn\"\ncpu = 0.5\ntimeout = \"1s\"\nargv = " +
                 job_argv({"--ignore-term", "--sleep-ms", "60000"}) + "\n" +
                 "[[job]]\nname = \"in-time\"\ncpu = 0.5\ntimeout = \"10s\"\nargv = " +
                 job_argv({"--sleep-ms", "1000", "--record", rec}) + "\n");
  RunResult r =
      run_wp({"run", "--grace", "1500ms", "--keep-going", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  // The stubborn job can only die by SIGKILL, sent at timeout + grace.
  CHECK(r.seconds >= 2.5);
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "stubborn")["status"].as_string() == "timed_out");
  CHECK(job_named(summary, "stubborn")["wall_seconds"].as_number() >= 2.5);
  CHECK(job_named(summary, "in-time")["status"].as_string() == "ok");
  CHECK(read_records(rec).size() == 1);
}
