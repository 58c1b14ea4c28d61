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
  LimitedCgroup cgroup(memory_limit(1ULL << 30));
  if (!cgroup.entered()) {
    WARN("skipped: " << cgroup.why());
    return;
  }
  TempDir dir;
  // Two jobs of 450 MiB: together 900 MiB of a 1 GiB cgroup that also holds
  // wp and the test, past the critical line of 150 MiB left.
  write_file(dir / "jobs.toml", growing_jobs(2, 450));
  RunResult run = run_wp({"run", "--json", "--enforce", "none", "--memory-reserve", "300MiB",
                          "--memory-guard", "suspend", dir.str("jobs.toml")},
                         slow());
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
  LimitedCgroup cgroup(memory_limit(1ULL << 30));
  if (!cgroup.entered()) {
    WARN("skipped: " << cgroup.why());
    return;
  }
  TempDir dir;
  // Three jobs of 350 MiB: any two fit, three do not.
  write_file(dir / "jobs.toml", growing_jobs(3, 350));
  RunResult run = run_wp({"run", "--json", "--enforce", "none", "--memory-reserve", "300MiB",
                          "--memory-guard", "requeue", dir.str("jobs.toml")},
                         slow());
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
