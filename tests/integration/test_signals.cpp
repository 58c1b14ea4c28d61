// Interrupting wp: the signal is forwarded to every job's process group, jobs
// that ignore it are SIGKILLed after --grace, and wp exits 128 + signal with
// no job process left behind and none left unreaped.
#include <signal.h>

#include <thread>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

struct Interrupted {
  RunResult result;
  std::vector<pid_t> job_pids;
  bool all_started = false;
};

// Runs two long jobs that each spawn two children carrying `token` (plus a
// dependent that must never start), waits until all of them are up, then
// sends `signals` to wp, `pause` apart.
// Sends `signals` to wp (or, with `to_group`, to wp's whole process group,
// as a CI runner cancels a step) once both long jobs run.
Interrupted interrupt_run(const TempDir& dir, const std::string& token,
                          const std::vector<int>& signals, const std::string& grace,
                          const std::vector<std::string>& job_flags = {},
                          milliseconds pause = milliseconds(0), bool to_group = false) {
  std::string manifest;
  for (const char* name : {"long-1", "long-2"}) {
    std::vector<std::string> args = {"--marker",         token,
                                     "--spawn-children", "2",
                                     "--touch",          dir.str(std::string(name) + ".started"),
                                     "--sleep-ms",       "60000"};
    args.insert(args.end(), job_flags.begin(), job_flags.end());
    manifest += "[[job]]\nname = \"" + std::string(name) +
                "\"\ncpu = 0.5\nmemory = \"16MiB\"\nargv = " + job_argv(args) + "\n";
  }
  manifest +=
      "[[job]]\nname = \"after-both\"\ncpu = 0.5\nmemory = \"16MiB\"\n"
      "after = [\"long-1\", \"long-2\"]\nargv = " +
      job_argv({"--touch", dir.str("after-both.started")}) + "\n";
  write_file(dir / "jobs.toml", manifest);

  Interrupted outcome;
  RunOptions options;
  options.own_process_group = to_group;
  WpProcess wp(
      {"run", "--json", "--grace", grace, "--run-dir", dir.str("run"), dir.str("jobs.toml")},
      options);
  outcome.all_started = wp.wait_until(
      [&] { return fs::exists(dir / "long-1.started") && fs::exists(dir / "long-2.started"); },
      milliseconds(20'000));
  if (outcome.all_started) {
    for (const char* name : {"long-1", "long-2"}) {
      outcome.job_pids.push_back(pid_from_file(dir / (std::string(name) + ".started")));
    }
    for (size_t i = 0; i < signals.size(); ++i) {
      if (i > 0) std::this_thread::sleep_for(pause);
      if (to_group) {
        ::kill(-wp.pid(), signals[i]);
      } else {
        wp.send(signals[i]);
      }
    }
  }
  outcome.result = wp.finish(milliseconds(30'000));
  return outcome;
}

Json run_summary(const TempDir& dir) {
  fs::path file = dir / "run" / "summary.json";
  if (!fs::exists(file)) FAIL("no summary.json in the run directory");
  return parse_json(read_file(file));
}

void check_nothing_left(const TempDir& dir, const std::string& token, const Interrupted& outcome) {
  CHECK(wait_until_no_token(token, milliseconds(2000)));
  for (pid_t pid : outcome.job_pids) {
    INFO("job process " << pid);
    CHECK_FALSE(left_unreaped_by_wp(pid));
  }
  CHECK_FALSE(fs::exists(dir / "after-both.started"));
}

}  // namespace

TEST_CASE("SIGINT stops every job's process tree and wp exits 130", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  Interrupted outcome = interrupt_run(dir, token, {SIGINT}, "2s");
  INFO(outcome.result.describe());
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.exit_code == 130);
  check_nothing_left(dir, token, outcome);
  Json summary = run_summary(dir);
  INFO(summary.dump());
  // --json still prints the summary of an interrupted run.
  CHECK(parse_json(outcome.result.out)["run_id"].as_string() == summary["run_id"].as_string());
  REQUIRE(summary["interrupted_by"].is_string());
  CHECK(summary["interrupted_by"].as_string() == "SIGINT");
  CHECK(summary["exit_code"].as_int() == 130);
  CHECK(job_named(summary, "long-1")["status"].as_string() == "interrupted");
  CHECK(job_named(summary, "long-2")["status"].as_string() == "interrupted");
  CHECK(job_named(summary, "after-both")["status"].as_string() != "ok");
}

TEST_CASE("SIGTERM stops every job's process tree and wp exits 143", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  Interrupted outcome = interrupt_run(dir, token, {SIGTERM}, "2s");
  INFO(outcome.result.describe());
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.exit_code == 143);
  check_nothing_left(dir, token, outcome);
}

TEST_CASE("SIGHUP stops every job's process tree and wp exits 129", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  Interrupted outcome = interrupt_run(dir, token, {SIGHUP}, "2s");
  INFO(outcome.result.describe());
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.exit_code == 129);
  check_nothing_left(dir, token, outcome);
}

TEST_CASE("SIGINT: jobs that ignore the signal are SIGKILLed after --grace", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  Interrupted outcome = interrupt_run(dir, token, {SIGINT}, "500ms", {"--ignore-signals"});
  INFO(outcome.result.describe());
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.exit_code == 130);
  check_nothing_left(dir, token, outcome);
}

TEST_CASE("a second SIGINT kills the jobs at once instead of waiting out --grace",
          "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  // The grace period is far longer than the harness would wait: only the
  // second signal can end this run in time.
  Interrupted outcome =
      interrupt_run(dir, token, {SIGINT, SIGINT}, "5m", {"--ignore-signals"}, milliseconds(1000));
  INFO(outcome.result.describe());
  REQUIRE(outcome.all_started);
  CHECK_FALSE(outcome.result.timed_out);
  CHECK(outcome.result.exit_code == 130);
  check_nothing_left(dir, token, outcome);
}

TEST_CASE("a wp killed with SIGKILL leaves no job process behind", "[integration]") {
  TempDir dir;
  const std::string token = unique_token();
  // The jobs ignore SIGTERM: the sentinel must follow up with SIGKILL once
  // --grace has passed.
  Interrupted outcome = interrupt_run(dir, token, {SIGKILL}, "1s", {"--ignore-signals"});
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.term_signal == SIGKILL);
  CHECK(wait_until_no_token(token, milliseconds(10'000)));
  CHECK_FALSE(fs::exists(dir / "after-both.started"));
}

TEST_CASE("a SIGKILL to wp's whole process group leaves no job process behind", "[integration]") {
  // How CI runners cancel a step: the sentinel, in a session of its own,
  // must survive it to stop the jobs (which run in groups of their own).
  TempDir dir;
  const std::string token = unique_token();
  Interrupted outcome =
      interrupt_run(dir, token, {SIGKILL}, "1s", {"--ignore-signals"}, milliseconds(0), true);
  REQUIRE(outcome.all_started);
  CHECK(outcome.result.term_signal == SIGKILL);
  CHECK(wait_until_no_token(token, milliseconds(10'000)));
  CHECK_FALSE(fs::exists(dir / "after-both.started"));
}
