// What wp measures of a job, checked against a synthetic job whose use is
// known (tests/helpers/usejob.cpp): it touches N MiB, burns N ms of CPU and
// does N synced 4 KiB writes and N direct reads. Through a per-job cgroup
// where the machine allows (root), and by sampling /proc with --cgroup off.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <catch2/catch.hpp>

#include "cgroup_fixture.h"
#include "mini_json.h"
#include "wp_harness.h"

using namespace wpit;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Runs a one-job manifest with --json and returns that job's only attempt.
Json run_single(const TempDir& dir, const std::string& job, const std::vector<std::string>& flags,
                RunResult& result) {
  write_file(dir / "jobs.toml", "[[job]]\nname = \"use\"\n" + job);
  std::vector<std::string> args = {"run", "--json", dir.str("jobs.toml")};
  args.insert(args.end(), flags.begin(), flags.end());
  result = run_wp(args);
  Json summary = parse_json(result.out);
  const Json& attempts = job_named(summary, "use")["attempts"];
  REQUIRE(attempts.size() == 1);
  return attempts[0];
}

// A file of `blocks` 4 KiB blocks, written and synced now, so the job's
// direct writes overwrite allocated blocks: one device write each, no
// metadata. (An fdatasync after each write would add a cache flush, which
// the device counts as an operation of its own.)
void make_data_file(const fs::path& file, int blocks) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  std::string block(4096, 'x');
  for (int i = 0; i < blocks; ++i)
    REQUIRE(::write(fd, block.data(), block.size()) == 4096);
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

// What the job measured of itself (usejob --report): "cpu_ms=N maxrss_kib=N
// cpu_wall_ms=N".
struct SelfReport {
  double cpu_seconds = 0;
  double cpu_wall_seconds = 0;
};
SelfReport self_report(const fs::path& file) {
  SelfReport report;
  std::istringstream fields(read_file(file));
  for (std::string field; fields >> field;) {
    size_t eq = field.find('=');
    double value = std::stod(field.substr(eq + 1)) / 1000.0;
    if (field.rfind("cpu_ms=", 0) == 0) report.cpu_seconds = value;
    if (field.rfind("cpu_wall_ms=", 0) == 0) report.cpu_wall_seconds = value;
  }
  return report;
}

// The first memory cgroup in /proc/PID/cgroup text (usejob --cgroups: the
// first attempt's); "" without one.
std::string memory_cgroup_of(const std::string& proc_cgroup) {
  for (const auto& [controller, path] : cgroups_in(proc_cgroup)) {
    if (controller == "memory") return path;
  }
  return "";
}

bool on_block_device(const fs::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 && major(st.st_dev) != 0;
}

}  // namespace

TEST_CASE("measurement: a cgroup counts memory, CPU and I/O operations within 10%",
          "[integration][measurement]") {
  if (std::string why = job_cgroups_unavailable(); !why.empty()) {
    WARN("skipped: " << why);
    return;
  }
  TempDir dir;
  make_data_file(dir / "data", 200);
  RunResult run;
  Json attempt =
      run_single(dir,
                 "memory = \"400MiB\"\nargv = " +
                     usejob_argv({"--memory-mib", "160", "--cpu-ms", "700", "--write-ops", "200",
                                  "--direct", "--read-ops", "200", "--file", dir.str("data"),
                                  "--report", dir.str("self")}) +
                     "\n",
                 {}, run);
  INFO(run.describe());
  REQUIRE(run.exit_code == 0);
  const Json& usage = attempt["usage"];
  CHECK(usage["method"].as_string().rfind("cgroup ", 0) == 0);
  if (usage["peak_memory"].is_null()) {
    WARN("this machine's cgroups do not count memory");
  } else {
    CHECK(usage["peak_memory"].as_number() / kMiB == Approx(160).epsilon(0.10));
  }
  // Against the CPU time the job's own clock saw (700 ms burned, plus what
  // touching the memory and the I/O cost it).
  SelfReport self = self_report(dir / "self");
  CHECK(self.cpu_seconds >= 0.7);
  CHECK(usage["cpu_seconds"].as_number() == Approx(self.cpu_seconds).epsilon(0.10));
  if (!on_block_device(dir / "data") || usage["write_ops"].is_null()) {
    WARN("no block device behind " << dir.path() << " or no I/O accounting: I/O not checked");
  } else {
    CHECK(usage["write_ops"].as_number() == Approx(200).epsilon(0.10));
    CHECK(usage["read_ops"].as_number() == Approx(200).epsilon(0.10));
    CHECK(usage["write_bytes"].as_number() >= 200 * 4096 * 0.9);
  }
  CHECK_FALSE(usage["oom_killed"].as_bool());
  // The limit it ran under: admitted memory x the default headroom.
  CHECK(attempt["limits"]["memory"].as_number() == 1.25 * 400 * kMiB);
}

TEST_CASE("measurement: the whole tree counts, not the largest process (ru_maxrss)",
          "[integration][measurement]") {
  // Three processes of 64 MiB each: ru_maxrss would say 64 MiB.
  TempDir dir;
  std::string job = "memory = \"400MiB\"\nargv = " +
                    usejob_argv({"--memory-mib", "64", "--children", "2", "--hold-ms", "600"}) +
                    "\n";
  // On a hybrid machine auto is hybrid: v1 alone is checked too.
  bool v1_here = std::filesystem::exists("/sys/fs/cgroup/memory/memory.max_usage_in_bytes");
  bool hybrid_here = v1_here && std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.procs");
  for (std::string mode : {"auto", "v1", "off"}) {
    if (mode != "off" && !job_cgroups_unavailable().empty()) continue;
    if (mode == "v1" && !v1_here) continue;
    DYNAMIC_SECTION("--cgroup " << mode) {
      RunResult run;
      Json attempt = run_single(dir, job, {"--cgroup", mode}, run);
      INFO(run.describe());
      REQUIRE(run.exit_code == 0);
      const Json& usage = attempt["usage"];
      if (mode == "off") CHECK(usage["method"].as_string() == "procfs");
      if (mode == "v1") CHECK(usage["method"].as_string() == "cgroup v1");
      // Memory from v1, CPU time from cgroup2: the method says both.
      if (mode == "auto" && hybrid_here) CHECK(usage["method"].as_string() == "cgroup hybrid");
      REQUIRE_FALSE(usage["peak_memory"].is_null());
      CHECK(usage["peak_memory"].as_number() / kMiB == Approx(192).epsilon(0.10));
    }
  }
}

TEST_CASE("measurement: /proc sampling measures memory and CPU within 10% without cgroups",
          "[integration][measurement]") {
  TempDir dir;
  RunResult run;
  Json attempt = run_single(dir,
                            "argv = " +
                                usejob_argv({"--memory-mib", "160", "--cpu-ms", "700", "--hold-ms",
                                             "300", "--report", dir.str("self")}) +
                                "\nmemory = \"400MiB\"\n",
                            {"--cgroup", "off"}, run);
  INFO(run.describe());
  REQUIRE(run.exit_code == 0);
  const Json& usage = attempt["usage"];
  CHECK(usage["method"].as_string() == "procfs");
  CHECK(usage["peak_memory"].as_number() / kMiB == Approx(160).epsilon(0.10));
  SelfReport self = self_report(dir / "self");
  CHECK(usage["cpu_seconds"].as_number() == Approx(self.cpu_seconds).epsilon(0.10));
  CHECK(attempt["limits"]["memory"].is_null());  // nothing to enforce it with
}

// A vforked job borrows wp's memory until exec, and exec leaves wp's
// high-water mark in the job's ru_maxrss: a small job under a large wp (the
// sanitizer build's wp holds tens of MiB) must still measure small.
TEST_CASE("measurement: /proc: a small job is not charged wp's own memory",
          "[integration][measurement]") {
  TempDir dir;
  RunResult run;
  Json attempt = run_single(dir, "argv = " + usejob_argv({"--memory-mib", "8", "--hold-ms", "100"}),
                            {"--cgroup", "off"}, run);
  INFO(run.describe());
  REQUIRE(run.exit_code == 0);
  double peak = attempt["usage"]["peak_memory"].as_number();
  CHECK(peak >= 8.0 * kMiB);
  // usejob itself is a few MiB; wp under the sanitizers is far more than 24.
  CHECK(peak <= 32.0 * kMiB);
}

TEST_CASE("measurement: average and peak cores of a job on two threads",
          "[integration][measurement]") {
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  for (std::string mode : {"auto", "off"}) {
    if (mode == "auto" && !job_cgroups_unavailable().empty()) continue;
    DYNAMIC_SECTION("--cgroup " << mode) {
      RunResult run;
      Json attempt = run_single(
          dir,
          "cpu = 2\nargv = " +
              usejob_argv({"--threads", "2", "--cpu-ms", "800", "--report", dir.str("self")}) +
              "\n",
          {"--cgroup", mode}, run);
      INFO(run.describe());
      REQUIRE(run.exit_code == 0);
      const Json& usage = attempt["usage"];
      SelfReport self = self_report(dir / "self");
      CHECK(usage["cpu_seconds"].as_number() == Approx(self.cpu_seconds).epsilon(0.10));
      // The cores the two threads really got (all of two on an idle machine,
      // less when other tests compete): the peak is at least that, and two
      // threads never use much more than two.
      double got = self.cpu_seconds / self.cpu_wall_seconds;
      INFO("the job got " << got << " cores");
      CHECK(usage["peak_cores"].as_number() >= 0.9 * got);
      CHECK(usage["peak_cores"].as_number() < 2.3);
      CHECK(usage["average_cores"].as_number() <= usage["peak_cores"].as_number());
    }
  }
}

// One job after another, two at most running: the later ones run in the
// cgroups the earlier ones left (the run's pool), and must be measured and
// limited as if each had a new one.
TEST_CASE("measurement: a reused cgroup measures and limits its new job alone",
          "[integration][measurement]") {
  SKIP_WITHOUT_JOB_CGROUPS();
  TempDir dir;
  // Each attempt writes down the cgroups it ran in. wp starts the next job before
  // it readies the cgroup of the one that ended, so one at a time, a chain's
  // jobs take turns between two cgroups: a "gap" job between two puts the
  // second in the cgroup of the first.
  auto job = [&dir](const std::string& name, const std::string& memory,
                    std::vector<std::string> args, const std::string& after) {
    args.insert(args.end(), {"--cgroups", dir.str(name + ".cgroups")});
    return "[[job]]\nname = \"" + name + "\"\nmemory = \"" + memory +
           "\"\nargv = " + usejob_argv(args) + "\n" +
           (after.empty() ? "" : "after = [\"" + after + "\"]\n");
  };
  write_file(
      dir / "jobs.toml",
      job("big", "400MiB", {"--memory-mib", "160", "--cpu-ms", "500"}, "") +
          job("gap-1", "16MiB", {}, "big") +
          job("small", "64MiB", {"--memory-mib", "16", "--report", dir.str("self")}, "gap-1") +
          job("gap-2", "16MiB", {}, "small") +
          job("raised", "300MiB", {"--memory-mib", "200"}, "gap-2") +
          job("gap-3", "16MiB", {}, "raised") +
          job("hog", "32MiB", {"--memory-mib", "200", "--hold-ms", "300"}, "gap-3"));
  RunResult run = run_wp({"run", "--keep-going", "--cpus", "1", "--json", dir.str("jobs.toml")});
  INFO(run.describe());
  Json summary = parse_json(run.out);
  // Else this would not test reuse at all.
  std::string big_cgroup = memory_cgroup_of(read_file(dir / "big.cgroups"));
  REQUIRE_FALSE(big_cgroup.empty());
  for (const char* reused : {"small", "raised", "hog"}) {
    INFO(reused << " ran in the cgroup the big job had");
    CHECK(memory_cgroup_of(read_file(dir / (std::string(reused) + ".cgroups"))) == big_cgroup);
  }
  const Json& big = job_named(summary, "big")["attempts"][0];
  const Json& small = job_named(summary, "small")["attempts"][0];
  // A cgroup counted it (on a hybrid machine, v1's memory hierarchy).
  REQUIRE(big["usage"]["method"].as_string().rfind("cgroup ", 0) == 0);
  CHECK(big["usage"]["peak_memory"].as_number() / kMiB == Approx(160).epsilon(0.10));
  // Its own 16 MiB (and the program), not the 160 MiB before it; its own
  // CPU, not the 500 ms before it.
  double peak = small["usage"]["peak_memory"].as_number() / kMiB;
  CHECK(peak >= 16 * 0.9);
  CHECK(peak <= 16 * 1.1 + 2);
  SelfReport self = self_report(dir / "self");
  CHECK(small["usage"]["cpu_seconds"].as_number() < 0.3);
  CHECK(small["usage"]["cpu_seconds"].as_number() >= self.cpu_seconds * 0.9);
  CHECK(small["limits"]["memory"].as_number() == 1.25 * 64 * kMiB);
  // A higher limit than the last job's (memsw must follow it up).
  const Json& raised = job_named(summary, "raised");
  CHECK(raised["attempts"][0]["limits"]["memory"].as_number() == 1.25 * 300 * kMiB);
  CHECK(raised["status"].as_string() == "ok");
  // A lower limit than the last job's is the one in force: 40 MiB kills it.
  const Json& hog = job_named(summary, "hog");
  CHECK(hog["attempts"][0]["limits"]["memory"].as_number() == 40 * kMiB);
  CHECK(hog["attempts"][0]["exceeded_memory"].as_bool());
  CHECK(hog["attempts"][0]["usage"]["oom_killed"].as_bool());
}
