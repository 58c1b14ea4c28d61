// The ledger of a user's wp processes and `wp exec`: several sharing one
// capacity, a killed wp's leases reclaimed, make's jobserver, and the status
// and stdio of wp exec.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

// Records are named "<anything>@<millicores>": the most millicores running
// at any instant. Ends come before starts at the same instant.
int64_t peak_millicores(const std::vector<Record>& records) {
  std::vector<std::pair<long long, int64_t>> events;
  for (const Record& r : records) {
    int64_t millis = std::stoll(r.name.substr(r.name.find('@') + 1));
    events.emplace_back(r.start_ns, millis);
    events.emplace_back(r.end_ns, -millis);
  }
  std::sort(events.begin(), events.end());
  int64_t running = 0, peak = 0;
  for (const auto& [when, change] : events) {
    running += change;
    peak = std::max(peak, running);
  }
  return peak;
}

std::string job_block(const std::string& name, double cpu, const fs::path& records, int sleep_ms) {
  return "[[job]]\nname = \"" + name + "\"\ncpu = " + std::to_string(cpu) + "\nargv = " +
         job_argv({"--name", name + "@" + std::to_string(static_cast<int>(cpu * 1000)), "--record",
                   records.string(), "--sleep-ms", std::to_string(sleep_ms)}) +
         "\n";
}

RunOptions shared(const TempDir& dir) {
  RunOptions options;
  options.env = {{"WP_RUNTIME_DIR", dir.str("runtime")}};
  options.timeout = milliseconds(60'000);
  return options;
}

// A shell command's exit status and what it printed on both streams.
std::pair<int, std::string> shell(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0)
    out.append(buffer, n);
  int status = ::pclose(pipe.release());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("wp run and wp exec processes never together exceed the capacity",
          "[integration][ledger]") {
  TempDir dir;
  fs::path records = dir / "records";
  std::string a, b;
  for (int i = 0; i < 4; ++i)
    a += job_block("a" + std::to_string(i), 1, records, 300);
  for (int i = 0; i < 2; ++i)
    b += job_block("b" + std::to_string(i), 1, records, 300);
  b += job_block("b-wide", 2, records, 300);
  write_file(dir / "a.toml", a);
  write_file(dir / "b.toml", b);
  std::vector<std::string> caps = {"--cpus", "2", "--cpu-overcommit", "1"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, caps.begin(), caps.end());
    return args;
  };
  std::vector<std::unique_ptr<WpProcess>> wps;
  wps.push_back(std::make_unique<WpProcess>(with({"run", dir.str("a.toml")}), shared(dir)));
  wps.push_back(std::make_unique<WpProcess>(with({"run", dir.str("b.toml")}), shared(dir)));
  for (int i = 0; i < 4; ++i) {
    std::string cpu = i % 2 == 0 ? "1" : "0.5";
    std::string name = "x" + std::to_string(i) + "@" + (i % 2 == 0 ? "1000" : "500");
    wps.push_back(
        std::make_unique<WpProcess>(with({"exec", "--cpu", cpu, "--", testjob(), "--name", name,
                                          "--record", records.string(), "--sleep-ms", "300"}),
                                    shared(dir)));
  }
  for (auto& wp : wps) {
    RunResult r = wp->finish(milliseconds(60'000));
    INFO(r.describe());
    CHECK(r.exit_code == 0);
  }
  std::vector<Record> ran = read_records(records);
  CHECK(ran.size() == 11);  // every job ran, once
  CHECK(peak_millicores(ran) <= 2000);
  CHECK(peak_millicores(ran) >= 1000);
}

TEST_CASE("a run with nothing running that waits for other wp processes says so, once",
          "[integration][ledger]") {
  TempDir dir;
  write_file(dir / "hog.toml", "[[job]]\nname = \"hog\"\ncpu = 2\nargv = " +
                                   job_argv({"--touch", dir.str("hog.pid"), "--sleep-ms", "1500"}) +
                                   "\n");
  write_file(dir / "wide.toml",
             "[[job]]\nname = \"wide\"\ncpu = 2\nargv = " + job_argv({"--sleep-ms", "10"}) +
                 "\n[[job]]\nname = \"wider\"\ncpu = 2\nargv = " + job_argv({"--sleep-ms", "10"}) +
                 "\n");
  std::vector<std::string> caps = {"--cpus", "2", "--cpu-overcommit", "1"};
  WpProcess hog({"run", caps[0], caps[1], caps[2], caps[3], dir.str("hog.toml")}, shared(dir));
  REQUIRE(wait_for_file(dir / "hog.pid", milliseconds(20'000)));
  RunResult waiter =
      run_wp({"run", caps[0], caps[1], caps[2], caps[3], dir.str("wide.toml")}, shared(dir));
  INFO(waiter.describe());
  CHECK(waiter.exit_code == 0);
  const std::string said =
      "wide waits for room that other wp processes of this user hold (see LEDGER in wp-run(1))";
  CHECK(contains(waiter.err, said));
  // Once: not again for each look while it waits, nor for `wider`, which
  // waits only for `wide`, this run's own job.
  CHECK(waiter.err.find(said) == waiter.err.rfind(said));
  CHECK_FALSE(contains(waiter.err, "wider waits"));
  RunResult first = hog.finish(milliseconds(20'000));
  CHECK(first.exit_code == 0);
  CHECK_FALSE(contains(first.err, "waits for room"));
}

TEST_CASE("a SIGKILLed wp's leases are reclaimed", "[integration][ledger]") {
  TempDir dir;
  write_file(dir / "hog.toml",
             "[[job]]\nname = \"hog\"\ncpu = 2\nargv = " +
                 job_argv({"--touch", dir.str("hog.pid"), "--sleep-ms", "60000"}) + "\n");
  WpProcess hog({"run", "--cpus", "2", "--cpu-overcommit", "1", dir.str("hog.toml")}, shared(dir));
  REQUIRE(wait_for_file(dir / "hog.pid", milliseconds(20'000)));
  // While the hog holds both cores, another wp waits for them.
  WpProcess waiter({"exec", "--cpus", "2", "--cpu-overcommit", "1", "--cpu", "2", "--", testjob(),
                    "--touch", dir.str("waiter.pid")},
                   shared(dir));
  CHECK_FALSE(
      waiter.wait_until([&] { return fs::exists(dir / "waiter.pid"); }, milliseconds(1000)));
  hog.send(SIGKILL);
  RunResult r = waiter.finish(milliseconds(30'000));
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(dir / "waiter.pid"));
}

TEST_CASE("wp exec exits with the command's status", "[integration][exec]") {
  TempDir dir;
  RunResult three = run_wp({"exec", "--", testjob(), "--exit", "3"});
  INFO(three.describe());
  CHECK(three.exit_code == 3);
  RunResult term = run_wp({"exec", "--", "sh", "-c", "kill -TERM $$"});
  INFO(term.describe());
  CHECK(term.exit_code == 143);
  RunResult missing = run_wp({"exec", "--", "wpit-no-such-program"});
  INFO(missing.describe());
  CHECK(missing.exit_code == 127);
  CHECK(contains(missing.err, "wpit-no-such-program"));
  RunResult too_big = run_wp({"exec", "--cpus", "1", "--cpu", "2", "--", "true"});
  CHECK(too_big.exit_code == 2);
  CHECK(contains(too_big.err, "more than the capacity"));
}

TEST_CASE("wp exec passes stdio through and records history under --name", "[integration][exec]") {
  TempDir dir;
  write_file(dir / "input", "first line\nsecond line\n");
  RunOptions options;
  options.cwd = dir.path();
  RunResult r = run_wp(
      {"exec", "--name", "copy-input", "--", "sh", "-c", "cat < /dev/stdin; echo to-stderr >&2"},
      options);
  // run_wp gives wp /dev/null as stdin; a shell gives it the file.
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.err == "to-stderr\n");
  std::string wp = wp_binary();
  auto [status, out] =
      shell("cd " + dir.str("") + " && WP_RUNTIME_DIR=" + dir.str("rt") +
            " WP_DB=" + dir.str("db.sqlite") + " " + wp + " exec --name copy-input -- cat < input");
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "first line\nsecond line\n");
  auto [history_status, history] =
      shell("WP_DB=" + dir.str("db.sqlite") + " " + wp + " profile history copy-input --csv");
  INFO(history);
  CHECK(history_status == 0);
  CHECK(split_lines(history).size() == 2);  // the header and the one attempt
}

TEST_CASE("wp exec: no control character in a profile name, given or derived",
          "[integration][exec]") {
  TempDir dir;
  RunOptions options;
  options.cwd = dir.path();
  options.env = {{"WP_DB", dir.str("db.sqlite")}};
  RunResult refused = run_wp({"exec", "--name", "two\nlines", "--", "touch", "ran"}, options);
  INFO(refused.describe());
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.err, "--name: a profile name may not hold the control character U+000A"));
  CHECK_FALSE(fs::exists(dir / "ran"));
  // Derived from the command line, a tab in an argument is written out.
  RunResult derived = run_wp({"exec", "--", "sh", "-c", "exit 0", "a\tb"}, options);
  INFO(derived.describe());
  CHECK(derived.exit_code == 0);
  auto [status, list] =
      shell("WP_DB=" + dir.str("db.sqlite") + " " + wp_binary() + " profile list --json");
  INFO(list);
  CHECK(status == 0);
  CHECK(contains(list, "\"sh -c exit 0 a\\\\u0009b\""));  // in JSON, the \\ escaped
}

TEST_CASE("make -j4 with wp exec recipes: at most 4 jobs, tokens returned, statuses kept",
          "[integration][exec][make]") {
  TempDir dir;
  fs::path records = dir / "records";
  std::string job = testjob() + " --record " + records.string() + " --sleep-ms 300 --name";
  std::string manifest;
  for (int i = 0; i < 6; ++i)
    manifest += job_block("m" + std::to_string(i), 0.1, records, 300);
  write_file(dir / "inner.toml", manifest);
  std::string makefile = "WP ?= wp\nE := $(WP) exec --cpu 0.1 --\n\nall: e1 e2 e3 e4 e5 e6 inner\n";
  for (int i = 1; i <= 6; ++i) {
    makefile += "e" + std::to_string(i) + ":\n\t$(E) " + job + " e" + std::to_string(i) + "@100\n";
  }
  // `+`: make 4.3 passes its jobserver only to such recipes.
  makefile += "inner:\n\t+$(WP) run --cpus 4 " + dir.str("inner.toml") + "\nfail:\n\t$(E) " +
              testjob() + " --exit 3\n.PHONY: all fail\n";
  write_file(dir / "Makefile", makefile);
  std::string env = "WP_RUNTIME_DIR=" + dir.str("rt") + " WP_DB=" + dir.str("db.sqlite") + " ";
  std::string make = env + "make -C " + dir.str("") + " WP=" + wp_binary();
  auto [status, out] = shell(make + " -j4 all");
  INFO(out);
  CHECK(status == 0);
  CHECK_FALSE(contains(out, "jobserver"));  // make 4.3 warns of tokens not given back
  std::vector<Record> ran = read_records(records);
  CHECK(ran.size() == 12);
  CHECK(peak_millicores(ran) <= 400);  // four jobs of 0.1 cores
  auto [failed, failed_out] = shell(make + " -j4 fail");
  INFO(failed_out);
  CHECK(failed == 2);
  CHECK(contains(failed_out, "Error 3"));
}

TEST_CASE("examples/Makefile builds with make -j4 and wp exec", "[integration][exec][make]") {
  TempDir dir;
  std::string env = "WP_RUNTIME_DIR=" + dir.str("rt") + " WP_DB=" + dir.str("db.sqlite") + " ";
  auto [status, out] = shell(env + "make -j4 -C " + dir.str("") + " -f " +
                             std::string(WP_SOURCE_DIR) + "/examples/Makefile WP=" + wp_binary());
  INFO(out);
  CHECK(status == 0);
  CHECK_FALSE(contains(out, "jobserver"));
  CHECK(contains(read_file(dir / "build-example" / "program"), "object stdlib"));
}
