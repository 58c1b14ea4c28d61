// The memory-pressure guard, for real: wp runs inside a 1 GiB memory cgroup
// with jobs that declare far less than they touch (--enforce none, so only
// the guard stands between them and the kernel's OOM killer). Their sum
// would not fit; the guard must stop the youngest before the kernel acts.
#include <catch2/catch.hpp>

#include "cgroup_fixture.h"
#include "mini_json.h"
#include "wp_harness.h"

using namespace wpit;

namespace {

// Jobs that each grow to `mib` over four seconds, then hold it for one.
std::string growing_jobs(int count, int mib) {
  std::string manifest;
  for (int i = 0; i < count; ++i) {
    manifest += "[[job]]\nname = \"grow-" + std::to_string(i) +
                "\"\ncpu = 0.1\nmemory = \"50MiB\"\nargv = " +
                usejob_argv({"--memory-mib", std::to_string(mib), "--memory-step-ms", "4000",
                             "--hold-ms", "1000"}) +
                "\n";
  }
  return manifest;
}

RunOptions slow() {
  RunOptions options;
  options.timeout = milliseconds(60'000);
  return options;
}

// Runs `manifest` with --enforce none (only the guard stands between the
// jobs and the OOM killer) and the given reserve and guard mode, inside a
// 1 GiB memory cgroup. False, with a warning, where none can be made.
bool run_in_1gib(const TempDir& dir, const std::string& manifest, const std::string& reserve,
                 const std::string& mode, RunResult& run) {
  LimitedCgroup cgroup(memory_limit(1ULL << 30));
  if (!cgroup.entered()) {
    WARN("skipped: " << cgroup.why());
    return false;
  }
  write_file(dir / "jobs.toml", manifest);
  run = run_wp({"run", "--json", "--enforce", "none", "--memory-reserve", reserve, "--memory-guard",
                mode, dir.str("jobs.toml")},
               slow());
  return true;
}

void check_no_oom(const Json& summary) {
  for (const Json& job : summary["jobs"].as_array()) {
    INFO(job.dump());
    CHECK(job["status"].as_string() == "ok");
    for (const Json& attempt : job["attempts"].as_array())
      CHECK_FALSE(attempt["usage"]["oom_killed"].as_bool());
  }
}

}  // namespace

TEST_CASE("memory guard: suspends the youngest job before the OOM killer acts, then resumes it",
          "[integration][memory_guard]") {
  TempDir dir;
  // Two jobs of 450 MiB: together 900 MiB of a 1 GiB cgroup that also holds
  // wp and the test, past the critical line of 150 MiB left.
  RunResult run;
  if (!run_in_1gib(dir, growing_jobs(2, 450), "300MiB", "suspend", run)) return;
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  Json summary = parse_json(run.out);
  check_no_oom(summary);
  const Json& guard = summary["memory_guard"];
  CHECK(guard["suspensions"].as_number() >= 1);
  CHECK(guard["resumes"].as_number() == guard["suspensions"].as_number());
  CHECK(contains(run.err, "memory pressure: suspending grow-"));
  CHECK(contains(run.err, "memory pressure: admission paused"));
}

TEST_CASE("memory guard: requeue kills the youngest job and runs it again later",
          "[integration][memory_guard]") {
  TempDir dir;
  // Three jobs of 350 MiB: any two fit, three do not.
  RunResult run;
  if (!run_in_1gib(dir, growing_jobs(3, 350), "300MiB", "requeue", run)) return;
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  Json summary = parse_json(run.out);
  check_no_oom(summary);
  CHECK(summary["memory_guard"]["requeues"].as_number() >= 1);
  bool some_requeued = false;
  for (const Json& job : summary["jobs"].as_array()) {
    const Json& attempts = job["attempts"];
    if (attempts.size() > 1) {
      some_requeued = true;
      CHECK(attempts[0]["requeued"].as_bool());
      CHECK_FALSE(attempts[attempts.size() - 1]["requeued"].as_bool());
    }
  }
  CHECK(some_requeued);
  CHECK(contains(run.err, "to run it again later"));
}

TEST_CASE("memory guard: a suspended job's timeout stands still while it is stopped",
          "[integration][memory_guard]") {
  TempDir dir;
  // `big` takes 600 MiB of the 1 GiB for five seconds: past the critical
  // line (450 MiB left), so `small`, the youngest, is suspended for longer
  // than its whole timeout; it must still finish once resumed.
  std::string manifest =
      "[[job]]\nname = \"big\"\ncpu = 0.1\nmemory = \"50MiB\"\nargv = " +
      usejob_argv({"--memory-mib", "600", "--memory-step-ms", "1000", "--hold-ms", "5000"}) +
      "\n[[job]]\nname = \"small\"\ncpu = 0.1\nmemory = \"50MiB\"\ntimeout = \"4s\"\n"
      "argv = " +
      usejob_argv({"--hold-ms", "2500"}) + "\n";
  RunResult run;
  if (!run_in_1gib(dir, manifest, "900MiB", "suspend", run)) return;
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  Json summary = parse_json(run.out);
  const Json& small = job_named(summary, "small");
  CHECK(small["status"].as_string() == "ok");
  CHECK(small["attempts"][0]["suspensions"].as_number() >= 1);
  CHECK(contains(run.err, "memory pressure: suspending small"));
}

TEST_CASE("memory guard: under pressure jobs start one at a time", "[integration][memory_guard]") {
  // A reserve just under the machine's memory (MemTotal): available memory
  // is always well below it, so the level is high from the first reading.
  RunResult info = run_wp({"info", "--json"});
  REQUIRE(info.exit_code == 0);
  double memory = parse_json(info.out)["machine"]["memory"].as_number();
  std::string reserve = std::to_string(static_cast<unsigned long long>(memory) - (1ULL << 20));
  TempDir dir;
  const std::string rec = dir.str("record");
  std::string manifest;
  for (int i = 0; i < 3; ++i) {
    manifest += "[[job]]\nname = \"j" + std::to_string(i) +
                "\"\ncpu = 0.1\nmemory = \"16MiB\"\nargv = " +
                job_argv({"--record", rec, "--sleep-ms", "300"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult run = run_wp({"run", "--json", "--memory-guard", "hold", "--memory-reserve",
                          reserve + "B", dir.str("jobs.toml")},
                         slow());
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  std::vector<Record> records = read_records(rec);
  REQUIRE(records.size() == 3);
  for (const Record& a : records) {
    for (const Record& b : records) {
      if (a.name != b.name) CHECK_FALSE((a.start_ns < b.end_ns && b.start_ns < a.end_ns));
    }
  }
  CHECK(parse_json(run.out)["memory_guard"]["holds"].as_number() >= 1);
}

TEST_CASE("memory guard: a reserve the machine cannot have is a usage error",
          "[integration][memory_guard]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"a\"\nargv = " + job_argv({}) + "\n");
  RunResult run = run_wp({"run", "--memory-reserve", "1000TiB", dir.str("jobs.toml")});
  CHECK(run.exit_code == 2);
  CHECK(contains(run.err, "--memory-reserve 1000 TiB is not below this machine's memory"));
}
