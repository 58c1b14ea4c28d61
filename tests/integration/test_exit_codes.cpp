// Exit status of `wp run`: 0 all ok, 1 a job failed, 2 usage or manifest
// error with nothing started.
#include <regex>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

TEST_CASE("run exits 0 when every job succeeds", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n"
             "[[job]]\n"
             "name = \"one\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("one")}) +
                 "\n"
                 "[[job]]\n"
                 "name = \"two\"\n"
                 "command = \"true\"\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(dir / "one"));
}

TEST_CASE("run exits 1 when one job fails and names it in the summary", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\n"
             "name = \"good\"\n"
             "argv = " +
                 job_argv({}) +
                 "\n"
                 "[[job]]\n"
                 "name = \"bad-job\"\n"
                 "argv = " +
                 job_argv({"--exit", "3"}) + "\n");
  RunResult r = run_wp({"run", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "1 failed"));
  CHECK(contains(r.err, "bad-job"));
}

TEST_CASE("manifest error exits 2 with file:line:column and starts nothing", "[integration]") {
  TempDir dir;
  // Line 5 has a misspelled key; the touch job comes first so a runner that
  // starts jobs before validating everything would be caught.
  write_file(dir / "jobs.toml",
             "version = 1\n"
             "[[job]]\n"
             "name = \"first\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("touched")}) +
                 "\n"
                 "memroy = \"1GiB\"\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:5:[0-9]+: error: )")));
  CHECK_FALSE(fs::exists(dir / "touched"));
}

TEST_CASE("a job whose declared memory can never fit is a manifest error", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\n"
             "name = \"small\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("touched")}) +
                 "\n"
                 "[[job]]\n"
                 "name = \"big\"\n"
                 "command = \"true\"\n"
                 "memory = \"2GiB\"\n");
  RunResult r = run_wp({"run", "--memory", "1GiB", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "big"));
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:[0-9]+:[0-9]+: error: )")));
  CHECK_FALSE(fs::exists(dir / "touched"));
}

TEST_CASE("a dependency cycle is a manifest error and starts nothing", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\n"
             "name = \"free\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("touched")}) +
                 "\n"
                 "[[job]]\n"
                 "name = \"a\"\n"
                 "command = \"true\"\n"
                 "after = [\"b\"]\n"
                 "[[job]]\n"
                 "name = \"b\"\n"
                 "command = \"true\"\n"
                 "after = [\"a\"]\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "dependency cycle"));
  CHECK_FALSE(fs::exists(dir / "touched"));
}

TEST_CASE("usage error: an unknown flag exits 2 and starts nothing", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\n"
             "name = \"one\"\n"
             "argv = " +
                 job_argv({"--touch", dir.str("touched")}) + "\n");
  RunResult r = run_wp({"run", "--no-such-flag", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_FALSE(r.err.empty());
  CHECK_FALSE(fs::exists(dir / "touched"));
}

TEST_CASE("usage error: a missing manifest file exits 2 naming the file", "[integration]") {
  TempDir dir;
  RunResult r = run_wp({"run", dir.str("does-not-exist.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "does-not-exist.toml"));
}

TEST_CASE("usage error: run without a manifest argument exits 2", "[integration]") {
  RunResult r = run_wp({"run"});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
}

TEST_CASE("usage error: a bad --cpus value exits 2", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"one\"\ncommand = \"true\"\n");
  RunResult r = run_wp({"run", "--cpus", "0", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
}

TEST_CASE("wp --version prints the version and exits 0", "[integration]") {
  RunResult r = run_wp({"--version"});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.out + r.err, std::regex(R"([0-9]+\.[0-9]+\.[0-9]+)")));
}
