#include <catch2/catch.hpp>

#include "exec/launch.h"

using wp::exec::needs_shell;

TEST_CASE("commands with shell syntax go through /bin/sh", "[exec]") {
  CHECK(needs_shell("echo a | tr a b"));
  CHECK(needs_shell("make > log"));
  CHECK(needs_shell("echo $HOME"));
  CHECK(needs_shell("echo 'quoted words'"));
  CHECK(needs_shell("FOO=1 make"));
  CHECK(needs_shell("cd src && make"));
  CHECK(needs_shell("ls *.txt"));
  CHECK(needs_shell("cd src"));
  CHECK(needs_shell("exit 3"));
  CHECK(needs_shell(""));
}

TEST_CASE("plain commands are exec'd directly", "[exec]") {
  CHECK_FALSE(needs_shell("make -C src -j4"));
  CHECK_FALSE(needs_shell("sleep 1"));
  CHECK_FALSE(needs_shell("  gzip   -9 data.csv "));
  CHECK_FALSE(needs_shell("/usr/bin/env true"));
}

TEST_CASE("a direct command is split on blanks and found on PATH", "[exec]") {
  wp::manifest::Job job;
  job.command = "  sleep   1 ";
  job.cwd = "/";
  auto plan = wp::exec::plan_launch(job, "/nonexistent:/usr/bin:/bin");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->through_shell);
  CHECK(plan->argv == std::vector<std::string>{"sleep", "1"});
  CHECK(plan->executable.filename() == "sleep");
}

TEST_CASE("a missing program is an error that names it", "[exec]") {
  wp::manifest::Job job;
  job.argv = {"no-such-program-wp", "x"};
  job.cwd = "/";
  auto plan = wp::exec::plan_launch(job, "/usr/bin:/bin");
  REQUIRE_FALSE(plan.ok());
  CHECK_THAT(plan.error().message, Catch::Contains("no-such-program-wp"));
}

TEST_CASE("the job's env and WP_ variables override the inherited environment", "[exec]") {
  wp::manifest::Job job;
  job.env = {{"A", "job"}, {"B", "job"}};
  auto env =
      wp::exec::job_environment({{"A", "inherited"}, {"C", "inherited"}}, job, {{"B", "wp"}});
  CHECK(env == std::vector<std::string>{"A=job", "B=wp", "C=inherited"});
}
