// How a job is started: file descriptors, stdin, direct exec or /bin/sh.
#include <set>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

TEST_CASE("a job sees only fds 0, 1 and 2, with stdin from /dev/null", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"fds\"\nargv = " + job_argv({"--count-fds", dir.str("fds")}) + "\n" +
                 "[[job]]\nname = \"fds-sh\"\ncommand = " +
                 toml_string(testjob() + " --count-fds " + dir.str("fds-sh") + " && true") + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  for (const char* file : {"fds", "fds-sh"}) {
    std::string listing = read_file(dir / file);
    INFO(file << ":\n" << listing);
    std::set<int> open_fds;
    for (const auto& line : split_lines(listing))
      open_fds.insert(std::stoi(line));
    CHECK(open_fds == std::set<int>{0, 1, 2});
    CHECK(has_line(listing, "0 /dev/null"));
  }
}

TEST_CASE("a command with shell syntax runs through /bin/sh", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"pipe\"\ncommand = \"echo abc | tr a x\"\n"
             "[[job]]\nname = \"vars\"\ncommand = \"echo name=$WP_JOB_NAME && echo second\"\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "[pipe] xbc"));
  CHECK(has_line(r.out, "[vars] name=vars"));
  CHECK(has_line(r.out, "[vars] second"));
}

TEST_CASE("a command without shell syntax runs, found on PATH or by path", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"direct\"\ncommand = " +
                 job_command({"--stdout", "direct-ok", "--touch", dir.str("direct")}) + "\n" +
                 "[[job]]\nname = \"on-path\"\ncommand = \"echo on-path-ok\"\n"
                 "[[job]]\nname = \"quoted\"\ncommand = " +
                 toml_string(testjob() + " --stdout 'two words'") + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(dir / "direct"));
  CHECK(has_line(r.out, "[direct] direct-ok"));
  CHECK(has_line(r.out, "[on-path] on-path-ok"));
  CHECK(has_line(r.out, "[quoted] two words"));
}

TEST_CASE("argv runs the program without a shell", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"literal\"\nargv = " + job_argv({"--stdout", "a | b $HOME"}) + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "[literal] a | b $HOME"));
}

TEST_CASE("a missing program fails the job with a clear message", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"ghost\"\ncommand = \"wpit-no-such-program --flag\"\n"
             "[[job]]\nname = \"ghost-argv\"\nargv = [\"/nonexistent/wpit-missing\"]\n"
             "[[job]]\nname = \"fine\"\ncommand = \"true\"\n");
  RunResult r = run_wp({"run", "--keep-going", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "wpit-no-such-program"));
  CHECK(contains(r.err, "/nonexistent/wpit-missing"));
  const bool explained = contains(r.err, "not found") || contains(r.err, "No such file");
  CHECK(explained);
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "ghost")["status"].as_string() == "failed");
  CHECK(job_named(summary, "ghost-argv")["status"].as_string() == "failed");
  CHECK(job_named(summary, "fine")["status"].as_string() == "ok");
}

TEST_CASE("a job killed by a signal is failed and the signal is reported", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"killed\"\ncommand = \"kill -KILL $$\"\n");
  RunResult r = run_wp({"run", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "killed");
  CHECK(job["status"].as_string() == "failed");
  REQUIRE(job["signal"].is_string());
  CHECK(job["signal"].as_string() == "SIGKILL");
}

TEST_CASE("a job that cannot be started gives its resources back", "[integration]") {
  TempDir dir;
  // One core: "after-ghost" can only run if the failed spawn released its core.
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"ghost\"\ncpu = 1\ncommand = \"wpit-no-such-program\"\n"
             "[[job]]\nname = \"after-ghost\"\ncpu = 1\nargv = " +
                 job_argv({"--touch", dir.str("ran")}) + "\n");
  RunResult r = run_wp({"run", "--cpus", "1", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(fs::exists(dir / "ran"));
}
