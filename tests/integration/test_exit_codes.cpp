// Exit status of `wp run`: 0 all ok, 1 a job failed, 2 usage or manifest
// error with nothing started.
#include <sys/wait.h>

#include <cstdlib>
#include <regex>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "mini_json.h"
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
  CHECK(contains(r.err, "--no-such-flag"));
  CHECK(contains(r.err, "Run 'wp run --help' for usage."));
  CHECK_FALSE(fs::exists(dir / "touched"));
}

TEST_CASE("usage error: a number out of its range says what it must be, and which help to read",
          "[integration]") {
  struct Case {
    std::vector<std::string> args;
    std::string said;
  };
  for (const Case& c : std::vector<Case>{
           {{"run", "--keep", "0", "jobs.toml"},
            "wp: --keep: '0' is not a whole number from 1 to 1000000\n"
            "Run 'wp run --help' for usage.\n"},
           {{"plan", "--width", "abc", "jobs.toml"},
            "wp: --width: 'abc' is not a whole number from 20 to 10000\n"
            "Run 'wp plan --help' for usage.\n"},
           {{"run", "--regression-threshold", "-1", "jobs.toml"},
            "wp: --regression-threshold: '-1' is not a number from 0 to 100000\n"
            "Run 'wp run --help' for usage.\n"},
           {{"profile", "history", "--limit", "1.5", "a"},
            "wp: --limit: '1.5' is not a whole number from 1 to 1000000000\n"
            "Run 'wp profile history --help' for usage.\n"},
       }) {
    RunResult r = run_wp(c.args);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(r.err == c.said);
  }
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

TEST_CASE("usage error: an unknown command is named; exec without a command", "[integration]") {
  RunResult unknown = run_wp({"bogus", "jobs.toml"});
  CHECK(unknown.exit_code == 2);
  CHECK(contains(unknown.err, "unknown command 'bogus'"));
  CHECK(contains(unknown.err, "profile, exec"));
  RunResult no_command = run_wp({"exec", "--cpu", "1"});
  CHECK(no_command.exit_code == 2);
  CHECK(contains(no_command.err, "command is required"));
}

TEST_CASE("usage error: negative or fractional --iops and tiny --cpus are refused",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"x\"\nargv = " + job_argv({"--touch", dir.str("ran")}) + "\n");
  for (const std::vector<std::string>& flag :
       std::vector<std::vector<std::string>>{{"--iops=-1"},
                                             {"--iops", "1.5"},
                                             {"--cpus", "0.0001"},
                                             {"--cpus", "abc"},
                                             {"--cpus", "1e300"}}) {
    std::vector<std::string> args{"run"};
    args.insert(args.end(), flag.begin(), flag.end());
    args.push_back(dir.str("jobs.toml"));
    RunResult r = run_wp(args);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "wp: --"));
  }
  CHECK_FALSE(fs::exists(dir / "ran"));
}

TEST_CASE("run: JSON that cannot be written to stdout fails the run", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"x\"\ncommand = \"true\"\n");
  std::string command = std::string(WP_BINARY) + " run --json --run-dir " + dir.str("run") + " " +
                        dir.str("jobs.toml") + " > /dev/full 2> " + dir.str("err");
  int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(contains(read_file(dir / "err"), "cannot write JSON to standard output"));
}

TEST_CASE("run and plan: JSON for a closed stdout fails as it does on a full disk",
          "[integration]") {
  // wp keeps a descriptor on a closed fd 1 (no pipe may land there), but
  // one a write fails on: the document is not thrown away with status 0.
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"x\"\ncommand = \"true\"\n");
  const std::string wp = WP_BINARY;
  for (const std::string& args :
       {" run --json --db " + dir.str("wp.db") + " --run-dir " + dir.str("run"),
        " plan --json --db " + dir.str("none.db")}) {
    CAPTURE(args);
    std::string command = wp + args + " " + dir.str("jobs.toml") + " >&- 2> " + dir.str("err");
    int status = std::system(command.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(contains(read_file(dir / "err"),
                   "cannot write JSON to standard output: Bad file descriptor"));
  }
  CHECK(fs::exists(dir / "run"));  // the run itself went ahead
}

TEST_CASE("plan: a reader that stops reading gets status 1, without a word", "[integration]") {
  TempDir dir;
  // 2,000 jobs: a plan in JSON far larger than a pipe holds, so wp is still
  // writing when head has had its 10 bytes and gone.
  std::string jobs;
  for (int i = 0; i < 2000; ++i)
    jobs += fmt::format("[[job]]\nname = \"j{}\"\ncommand = \"true\"\ntimeout = \"5s\"\n", i);
  write_file(dir / "jobs.toml", jobs);
  std::string command = "{ " + std::string(WP_BINARY) + " plan --json --db " + dir.str("none.db") +
                        " " + dir.str("jobs.toml") + " 2> " + dir.str("err") + "; echo $? > " +
                        dir.str("status") + "; } | head -c 10 > /dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(read_file(dir / "status") == "1\n");  // not 141: no death by SIGPIPE
  std::string err = read_file(dir / "err");
  INFO(err);
  CHECK_FALSE(contains(err, "cannot write"));
}

TEST_CASE("validate: a read error is a diagnostic, and so is a verdict not written",
          "[integration]") {
  // Reading /proc/self/mem from its start fails with EIO, as a failing disk
  // does: a stream read threw it out of wp (status 134).
  RunResult r = run_wp({"validate", "/proc/self/mem"});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "/proc/self/mem: error: cannot read the manifest: Input/output error"));

  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"x\"\ncommand = \"true\"\n");
  std::string command = std::string(WP_BINARY) + " validate " + dir.str("jobs.toml") +
                        " > /dev/full 2> " + dir.str("err");
  int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(contains(read_file(dir / "err"), "cannot write the verdict to standard output"));
}

TEST_CASE("run --json on a bad manifest prints the validation document", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"x\"\ncomand = \"true\"\n");
  RunResult r = run_wp({"run", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  Json doc = parse_json(r.out);
  CHECK_FALSE(doc["valid"].as_bool());
  CHECK(doc["errors"].size() == 1);
}

TEST_CASE("a job that cannot start says why in its log and its reason", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"ghost\"\nargv = [\"/nonexistent/prog\"]\n");
  RunResult r = run_wp({"run", "--json", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  Json doc = parse_json(r.out);
  CHECK(contains(doc["jobs"][0]["reason"].as_string(), "/nonexistent/prog"));
  CHECK(contains(read_file(dir / "run" / "ghost.1.err"), "/nonexistent/prog"));
}

TEST_CASE("a run directory is never shared by two runs", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"x\"\ncommand = \"true\"\n");
  RunResult first = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  CHECK(first.exit_code == 0);
  RunResult second = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  CHECK(second.exit_code == 2);
  CHECK(contains(second.err, "already holds another run's logs"));
}
