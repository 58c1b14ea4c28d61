// Holding jobs to what they were given, through real cgroups (root): a job
// over its memory limit is killed alone; CPU and IOPS limits with
// --enforce all; a double-forked daemon cannot outlive its job's timeout or
// an interrupted run; and no cgroup is left behind, whatever ends the run.
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "cgroup_fixture.h"
#include "mini_json.h"
#include "wp_harness.h"

using namespace wpit;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Running (a zombie is dead: once wp is gone, its adopted processes are
// reaped by the test, so a killed daemon may linger as one for a moment).
bool alive(pid_t pid) {
  std::string text = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// Dead within `timeout` (a SIGKILL takes a moment to land); reaped if it was
// handed to the test.
bool dies(pid_t pid, milliseconds timeout = milliseconds(5000)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (alive(pid) && std::chrono::steady_clock::now() < until)
    ::usleep(20'000);
  bool dead = !alive(pid);
  if (dead) ::waitpid(pid, nullptr, WNOHANG);
  return dead;
}

// A job that leaves a daemon (double-forked, in a session of its own, its
// pid in `pidfile`) and then holds on for a minute.
std::string daemon_job(const std::string& pidfile) {
  return "[[job]]\nname = \"forks\"\nargv = " +
         usejob_argv({"--daemon", pidfile, "--hold-ms", "60000"}) + "\n";
}

// The pid of wp's sentinel: the child of `wp` named wp-sentinel.
pid_t sentinel_of(pid_t wp) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string text = read_proc_file(entry.path() / "stat");
    size_t close = text.rfind(')');
    if (close == std::string::npos || text.find("(wp-sentinel)") == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == wp) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

}  // namespace

TEST_CASE("enforcement: a job over its memory limit is killed alone and reported",
          "[integration][enforcement]") {
  SKIP_WITHOUT_JOB_CGROUPS();
  TempDir dir;
  const std::string rec = dir.str("record");
  // 64 MiB admitted, so an 80 MiB limit; it touches 200 MiB.
  std::string manifest = "[[job]]\nname = \"hog\"\nmemory = \"64MiB\"\nargv = " +
                         usejob_argv({"--memory-mib", "200", "--hold-ms", "500"}) + "\n";
  for (int i = 0; i < 2; ++i) {
    manifest +=
        "[[job]]\nname = \"neighbour-" + std::to_string(i) +
        "\"\nmemory = \"64MiB\"\nargv = " + job_argv({"--record", rec, "--sleep-ms", "1500"}) +
        "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult run = run_wp({"run", "--keep-going", "--json", dir.str("jobs.toml")});
  INFO(run.describe());
  CHECK(run.exit_code == 1);
  Json summary = parse_json(run.out);
  const Json& hog = job_named(summary, "hog");
  CHECK(hog["status"].as_string() == "failed");
  const Json& attempt = hog["attempts"][0];
  CHECK(attempt["exceeded_memory"].as_bool());
  CHECK(attempt["usage"]["oom_killed"].as_bool());
  CHECK(attempt["limits"]["memory"].as_number() == 80 * kMiB);
  CHECK(contains(run.err, "hog failed: exceeded memory: limit 80 MiB, peak "));
  CHECK(contains(run.err, "(OOM)"));
  // The one retry an OOM kill earns, with twice the limit it hit: 160 MiB
  // admitted, a 200 MiB limit, still not enough for 200 MiB and the program.
  REQUIRE(hog["attempts"].size() == 2);
  CHECK(attempt["memory_retry"].as_bool());
  const Json& retry = hog["attempts"][1];
  CHECK(retry["admitted"]["memory"].as_number() == 160 * kMiB);
  CHECK(retry["limits"]["memory"].as_number() == 200 * kMiB);
  CHECK(retry["exceeded_memory"].as_bool());
  CHECK_FALSE(retry["memory_retry"].as_bool());
  CHECK(contains(run.err, "FAILED hog: exceeded memory: limit 200 MiB"));
  // Never another job, never wp.
  CHECK(job_named(summary, "neighbour-0")["status"].as_string() == "ok");
  CHECK(job_named(summary, "neighbour-1")["status"].as_string() == "ok");
  CHECK(read_records(rec).size() == 2);

  SECTION("--enforce none lets it through") {
    RunResult free = run_wp({"run", "--enforce", "none", "--json", dir.str("jobs.toml")});
    INFO(free.describe());
    CHECK(free.exit_code == 0);
    CHECK(parse_json(free.out)["enforcement"].as_string() == "none");
  }
}

TEST_CASE("enforcement: --enforce all holds a job to its declared cores",
          "[integration][enforcement]") {
  SKIP_WITHOUT_JOB_CGROUPS();
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  // Two threads want two cores; half a core is what it declared.
  write_file(dir / "jobs.toml", "[[job]]\nname = \"spin\"\ncpu = 0.5\nargv = " +
                                    usejob_argv({"--threads", "2", "--cpu-ms", "300"}) + "\n");
  RunResult run = run_wp({"run", "--enforce", "all", "--json", dir.str("jobs.toml")});
  INFO(run.describe());
  REQUIRE(run.exit_code == 0);
  Json summary = parse_json(run.out);
  const Json& attempt = job_named(summary, "spin")["attempts"][0];
  CHECK(attempt["limits"]["cpu"].as_number() == 0.5);
  CHECK(attempt["wall_seconds"].as_number() >= 1.0);  // 0.6 CPU-seconds at 0.5 cores
  CHECK(attempt["usage"]["average_cores"].as_number() <= 0.6);
}

TEST_CASE("enforcement: --enforce all holds a job to its declared IOPS",
          "[integration][enforcement]") {
  SKIP_WITHOUT_JOB_CGROUPS();
  TempDir dir;
  struct stat st {};
  REQUIRE(::stat(dir.path().c_str(), &st) == 0);
  if (major(st.st_dev) == 0) {
    WARN("skipped: no block device behind " << dir.path());
    return;
  }
  {
    std::ofstream data(dir / "data");
    data << std::string(100 * 4096, 'x');
  }
  ::sync();
  // 100 direct reads at 50 per second: two seconds, where unthrottled takes
  // a fraction of one.
  write_file(dir / "jobs.toml", "[[job]]\nname = \"reader\"\niops = 50\nargv = " +
                                    usejob_argv({"--read-ops", "100", "--file", dir.str("data")}) +
                                    "\n");
  RunResult run = run_wp({"run", "--enforce", "all", "--iops", "1000", "--run-dir", dir.str("run"),
                          "--json", dir.str("jobs.toml")});
  INFO(run.describe());
  REQUIRE(run.exit_code == 0);
  Json summary = parse_json(run.out);
  const Json& attempt = job_named(summary, "reader")["attempts"][0];
  if (attempt["limits"]["iops"].is_null()) {
    WARN("IOPS not enforced here: " << summary["enforcement"].as_string());
    return;
  }
  CHECK(attempt["limits"]["iops"].as_number() == 50);
  CHECK(attempt["wall_seconds"].as_number() >= 1.5);
}

TEST_CASE("enforcement: a double-forked daemon does not survive its job's timeout",
          "[integration][enforcement]") {
  TempDir dir;
  const std::string pidfile = dir.str("daemon.pid");
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"forks\"\ntimeout = \"1s\"\nargv = " +
                 usejob_argv({"--daemon", pidfile, "--hold-ms", "60000"}) +
                 "\n[[job]]\nname = \"slow\"\nargv = " + job_argv({"--sleep-ms", "4000"}) + "\n");
  for (std::string mode : {"auto", "off"}) {
    if (mode == "auto" && !job_cgroups_unavailable().empty()) continue;
    DYNAMIC_SECTION("--cgroup " << mode) {
      fs::remove(pidfile);
      WpProcess wp(
          {"run", "--keep-going", "--grace", "200ms", "--cgroup", mode, dir.str("jobs.toml")});
      REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
      pid_t daemon = pid_from_file(pidfile);
      REQUIRE(alive(daemon));
      if (mode == "auto") {
        // Its cgroup is killed with the job, while the run goes on.
        CHECK(wp.wait_until([&] { return !alive(daemon); }, milliseconds(2500)));
      }
      RunResult run = wp.finish(milliseconds(20'000));
      INFO(run.describe());
      CHECK(run.exit_code == 1);
      CHECK(contains(run.err, "forks: timed out"));
      // Without a cgroup, a daemon that left the tree before a sample saw
      // it is found by the subreaper at the end of the run.
      CHECK(dies(daemon));
    }
  }
}

TEST_CASE("enforcement: a daemon left by a job that exited is killed then, while the run goes on",
          "[integration][enforcement]") {
  // The daemon left the job's process group (setsid): wp finds it among its
  // own children (it is their subreaper), and its job's cgroup is killed.
  SKIP_WITHOUT_JOB_CGROUPS();
  TempDir dir;
  const std::string pidfile = dir.str("daemon.pid");
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"forks\"\ncpu = 1\nargv = " + usejob_argv({"--daemon", pidfile}) +
                 "\n[[job]]\nname = \"slow\"\ncpu = 1\nargv = " + job_argv({"--sleep-ms", "5000"}) +
                 "\n");
  WpProcess wp({"run", "--cpus", "2", dir.str("jobs.toml")});
  REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
  pid_t daemon = pid_from_file(pidfile);
  CHECK(wp.wait_until([&] { return !alive(daemon); }, milliseconds(3000)));
  RunResult run = wp.finish(milliseconds(20'000));
  INFO(run.describe());
  CHECK(run.exit_code == 0);
  CHECK(dies(daemon));
}

TEST_CASE("enforcement: an interrupted run leaves no daemon and no cgroup",
          "[integration][enforcement]") {
  TempDir dir;
  const std::string pidfile = dir.str("daemon.pid");
  write_file(dir / "jobs.toml", daemon_job(pidfile));
  WpProcess wp({"run", "--grace", "200ms", dir.str("jobs.toml")});
  REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
  pid_t daemon = pid_from_file(pidfile);
  wp.send(SIGINT);
  RunResult run = wp.finish(milliseconds(20'000));
  INFO(run.describe());
  CHECK(run.exit_code == 130);
  CHECK(dies(daemon));
  CHECK(wp_cgroup_dirs_of(wp.pid()).empty());
}

TEST_CASE(
    "enforcement: without cgroups, a kill -9 of wp: its sentinel finds the daemon by the "
    "run's id",
    "[integration][enforcement]") {
  // Out of its job's process group and, once its job ended, a child of
  // init: only the WP_RUN_ID in its environment still ties it to the run.
  TempDir dir;
  const std::string pidfile = dir.str("daemon.pid");
  write_file(dir / "jobs.toml", daemon_job(pidfile));
  WpProcess wp({"run", "--cgroup", "off", "--grace", "200ms", dir.str("jobs.toml")});
  REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
  pid_t daemon = pid_from_file(pidfile);
  REQUIRE(alive(daemon));
  wp.send(SIGKILL);
  wp.finish(milliseconds(5'000));
  CHECK(dies(daemon, milliseconds(10'000)));
}

TEST_CASE("enforcement: no cgroup is left behind after a run or a kill -9 of wp",
          "[integration][enforcement]") {
  SKIP_WITHOUT_JOB_CGROUPS();
  TempDir dir;
  const std::string pidfile = dir.str("daemon.pid");
  write_file(dir / "quick.toml",
             "[[job]]\nname = \"a\"\nargv = " + job_argv({"--sleep-ms", "100"}) +
                 "\n[[job]]\nname = \"b\"\nargv = " + job_argv({"--exit", "3"}) + "\n");
  write_file(dir / "long.toml", daemon_job(pidfile));

  SECTION("a run that ends") {
    WpProcess wp({"run", "--keep-going", dir.str("quick.toml")});
    RunResult run = wp.finish(milliseconds(20'000));
    INFO(run.describe());
    CHECK(run.exit_code == 1);
    CHECK(wp_cgroup_dirs_of(wp.pid()).empty());
  }

  SECTION("kill -9 of wp: its sentinel kills the daemon and removes the cgroups") {
    WpProcess wp({"run", "--grace", "200ms", dir.str("long.toml")});
    REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
    pid_t daemon = pid_from_file(pidfile);
    REQUIRE_FALSE(wp_cgroup_dirs_of(wp.pid()).empty());
    wp.send(SIGKILL);
    wp.finish(milliseconds(5'000));
    CHECK(dies(daemon, milliseconds(10'000)));
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = wp_cgroup_dirs_of(wp.pid()).empty();
      if (!gone) ::usleep(50'000);
    }
    CHECK(gone);
  }

  SECTION("kill -9 of wp and its sentinel: the next run cleans up") {
    WpProcess wp({"run", "--grace", "200ms", dir.str("long.toml")});
    REQUIRE(wait_for_file(pidfile, milliseconds(10'000)));
    pid_t daemon = pid_from_file(pidfile);
    pid_t sentinel = sentinel_of(wp.pid());
    REQUIRE(sentinel > 0);
    ::kill(sentinel, SIGKILL);
    wp.send(SIGKILL);
    wp.finish(milliseconds(5'000));
    std::vector<fs::path> stale = wp_cgroup_dirs_of(wp.pid());
    REQUIRE_FALSE(stale.empty());  // nobody was left to clean them
    RunResult next = run_wp({"run", dir.str("quick.toml"), "--keep-going"});
    INFO(next.describe());
    CHECK(contains(next.err, "removed the cgroups of 1 earlier wp run"));
    CHECK(wp_cgroup_dirs_of(wp.pid()).empty());
    CHECK(dies(daemon));
    ::waitpid(sentinel, nullptr, WNOHANG);
  }
}
