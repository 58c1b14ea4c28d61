// Retries: a failed attempt runs again while retries remain, after a backoff.
#include <signal.h>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

void write_flaky(const TempDir& dir, int retries) {
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"flaky\"\nretries = " + std::to_string(retries) + "\nargv = " +
                 job_argv({"--fail-until-attempt", "3", "--print-env", "WP_JOB_ATTEMPT"}) + "\n");
}

}  // namespace

TEST_CASE("retries: a job failing twice succeeds on attempt 3 with retries = 2", "[integration]") {
  TempDir dir;
  write_flaky(dir, 2);
  RunResult r = run_wp({"run", "--retry-backoff", "100ms", "--json", "--run-dir", dir.str("run"),
                        dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "flaky");
  CHECK(job["status"].as_string() == "ok");
  REQUIRE(job["attempts"].size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(job["attempts"][i]["attempt"].as_int() == static_cast<long>(i + 1));
    CHECK(job["attempts"][i]["exit_code"].as_int() == (i < 2 ? 1 : 0));
  }
  // Each attempt has its own logs, and saw its own attempt number.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    fs::path out = dir / "run" / ("flaky." + std::to_string(attempt) + ".out");
    INFO(out);
    REQUIRE(fs::exists(out));
    CHECK(has_line(read_file(out), "WP_JOB_ATTEMPT=" + std::to_string(attempt)));
  }
}

TEST_CASE("retries: retries = 1 is not enough for a job that needs three attempts",
          "[integration]") {
  TempDir dir;
  write_flaky(dir, 1);
  RunResult r = run_wp({"run", "--retry-backoff", "100ms", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "flaky");
  CHECK(job["status"].as_string() == "failed");
  CHECK(job["attempts"].size() == 2);
  CHECK(job["exit_code"].as_int() == 1);
}

TEST_CASE("retries: [defaults] retries apply to every job", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[defaults]\nretries = 2\n[[job]]\nname = \"flaky\"\nargv = " +
                                    job_argv({"--fail-until-attempt", "3"}) + "\n");
  RunResult r = run_wp({"run", "--retry-backoff", "100ms", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "flaky")["attempts"].size() == 3);
}

TEST_CASE("retries: the backoff is waited before each retry and doubles", "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  write_file(dir / "jobs.toml", "[[job]]\nname = \"flaky\"\nretries = 2\nargv = " +
                                    job_argv({"--fail-until-attempt", "3", "--record", rec}) +
                                    "\n");
  RunResult r = run_wp({"run", "--retry-backoff", "300ms", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> attempts = read_records(rec);
  REQUIRE(attempts.size() == 3);
  // Lower bounds only: a busy machine may wait longer, never shorter. The
  // record's end is taken before the process exits, so the gap wp waited is
  // at least what we measure here.
  long long first_gap = attempts[1].start_ns - attempts[0].end_ns;
  long long second_gap = attempts[2].start_ns - attempts[1].end_ns;
  INFO("gaps: " << first_gap / 1'000'000 << "ms, " << second_gap / 1'000'000 << "ms");
  CHECK(first_gap >= 300'000'000LL);
  CHECK(second_gap >= 600'000'000LL);
}

TEST_CASE("retries: SIGINT during the backoff ends the run at once with 130", "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  write_file(dir / "jobs.toml", "[[job]]\nname = \"flaky\"\nretries = 1\nargv = " +
                                    job_argv({"--exit", "1", "--record", rec}) + "\n" +
                                    "[[job]]\nname = \"never\"\nafter = [\"flaky\"]\nargv = " +
                                    job_argv({"--touch", dir.str("never")}) + "\n");
  // A one-minute backoff: only a prompt reaction to SIGINT finishes in time.
  WpProcess wp({"run", "--retry-backoff", "1m", dir.str("jobs.toml")});
  bool failed_once =
      wp.wait_until([&] { return read_records(rec).size() == 1; }, milliseconds(20'000));
  REQUIRE(failed_once);
  // The record is written just before the job exits; give wp a moment to
  // notice the exit and enter the backoff (sending earlier is fine too).
  wp.wait_until([] { return false; }, milliseconds(200));
  wp.send(SIGINT);
  RunResult r = wp.finish(milliseconds(20'000));
  INFO(r.describe());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 130);
  CHECK(read_records(rec).size() == 1);
  CHECK_FALSE(fs::exists(dir / "never"));
}
