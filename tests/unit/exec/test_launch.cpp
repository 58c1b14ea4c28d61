#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "../platform/scratch_root.h"
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

namespace {

// An executable script `name` in `dir`.
void make_program(const std::filesystem::path& dir, const std::string& name) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << "#!/bin/sh\n";
  std::filesystem::permissions(dir / name, std::filesystem::perms::owner_all);
}

}  // namespace

TEST_CASE("the executable cache finds a name once and looks it up again when it is gone",
          "[exec]") {
  wp::test::ScratchRoot root;
  std::string path_var = root.path("a").string() + ":" + root.path("b").string();
  make_program(root.path("a"), "prog");
  make_program(root.path("b"), "prog");
  wp::exec::ExecutableCache cache;
  auto first = cache.find("prog", path_var, "/");
  REQUIRE(first.ok());
  CHECK(*first == root.path("a/prog"));
  CHECK(cache.find("prog", path_var, "/").value() == root.path("a/prog"));
  CHECK(cache.size() == 1u);

  SECTION("a removed program is searched for again") {
    std::filesystem::remove(root.path("a/prog"));
    CHECK(cache.find("prog", path_var, "/").value() == root.path("b/prog"));
  }
  SECTION("another PATH (a job's env) is a search of its own") {
    auto other = cache.find("prog", root.path("b").string(), "/");
    REQUIRE(other.ok());
    CHECK(*other == root.path("b/prog"));
    CHECK(cache.size() == 2u);
  }
  SECTION("an empty PATH entry is the job's directory, so the directory is part of the key") {
    make_program(root.path("c"), "tool");
    make_program(root.path("d"), "tool");
    CHECK(cache.find("tool", ":", root.path("c").string()).value() == root.path("c/tool"));
    CHECK(cache.find("tool", ":", root.path("d").string()).value() == root.path("d/tool"));
  }
  SECTION("a program that is not found is not remembered") {
    CHECK_FALSE(cache.find("absent", path_var, "/").ok());
    make_program(root.path("b"), "absent");
    CHECK(cache.find("absent", path_var, "/").value() == root.path("b/absent"));
  }
}
