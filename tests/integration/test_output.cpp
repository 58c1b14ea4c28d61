// Job output: whole lines prefixed with the job name on the terminal, raw in
// the run directory's logs; --quiet and --json change where it goes.
#include <map>
#include <regex>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

TEST_CASE("output: lines of concurrent jobs are prefixed, whole and in order", "[integration]") {
  TempDir dir;
  constexpr int kLines = 2000;
  std::string manifest;
  for (const char* name : {"a", "b"}) {
    // Odd-sized chunks with pauses: most lines straddle two writes.
    manifest += "[[job]]\nname = \"" + std::string(name) +
                "\"\ncpu = 0.5\nmemory = \"16MiB\"\nargv = " +
                job_argv({"--lines", std::to_string(kLines), "--chunk", "7"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);

  const std::regex job_line(R"(\[(a|b)\] (a|b)-line-([0-9]+))");
  std::map<std::string, int> next = {{"a", 1}, {"b", 1}};
  int bad_lines = 0;
  for (const auto& line : split_lines(r.out)) {
    std::smatch m;
    if (!std::regex_match(line, m, job_line) || m[1] != m[2]) {
      if (++bad_lines <= 5) UNSCOPED_INFO("mixed or foreign line on stdout: '" << line << "'");
      continue;
    }
    int number = std::stoi(m[3]);
    if (number != next[m[1]]) {
      if (++bad_lines <= 5) UNSCOPED_INFO("out of order: '" << line << "'");
    }
    next[m[1]] = number + 1;
  }
  CHECK(bad_lines == 0);
  CHECK(next["a"] == kLines + 1);
  CHECK(next["b"] == kLines + 1);

  // The logs hold the raw output, without prefixes.
  for (const char* name : {"a", "b"}) {
    fs::path log = dir / "run" / (std::string(name) + ".1.out");
    INFO(log);
    REQUIRE(fs::exists(log));
    std::string expected;
    for (int i = 1; i <= kLines; ++i)
      expected += std::string(name) + "-line-" + std::to_string(i) + "\n";
    CHECK(read_file(log) == expected);
  }
}

TEST_CASE("output: job stderr goes to wp's stderr, prefixed, and to the .err log",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"talker\"\nargv = " +
                                    job_argv({"--stdout", "to-out", "--stderr", "to-err"}) + "\n");
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[talker] to-out"));
  CHECK(has_line(r.err, "[talker] to-err"));
  CHECK_FALSE(contains(r.out, "to-err"));
  CHECK_FALSE(contains(r.err, "to-out"));
  CHECK(read_file(dir / "run" / "talker.1.out") == "to-out\n");
  CHECK(read_file(dir / "run" / "talker.1.err") == "to-err\n");
}

TEST_CASE("output: a last line without a newline is still shown", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"partial\"\nargv = " +
                                    job_argv({"--stdout", "first", "--stdout-raw", "unfinished"}) +
                                    "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, "[partial] first"));
  CHECK(has_line(r.out, "[partial] unfinished"));
}

TEST_CASE("quiet: hides the output of ok jobs and shows the tail of a failure", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"fine\"\nargv = " +
                 job_argv({"--stdout", "fine-secret", "--stderr", "fine-secret-err"}) + "\n" +
                 "[[job]]\nname = \"broken\"\nargv = " +
                 job_argv({"--stdout", "broken-stdout", "--stderr-lines", "30", "--exit", "1"}) +
                 "\n");
  RunResult r = run_wp({"run", "--quiet", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_FALSE(contains(r.out + r.err, "fine-secret"));
  // The last 20 lines of the failed job's stderr, and nothing before them.
  const std::string all = r.out + "\n" + r.err;
  for (int i = 11; i <= 30; ++i) {
    INFO("broken-err-" << i);
    CHECK(std::regex_search(all, std::regex("broken-err-" + std::to_string(i) + "(\n|$)")));
  }
  for (int i = 1; i <= 10; ++i) {
    INFO("broken-err-" << i);
    CHECK_FALSE(std::regex_search(all, std::regex("broken-err-" + std::to_string(i) + "(\n|$)")));
  }
}

TEST_CASE("json: exactly one JSON document on stdout and job output on stderr", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"a\"\nargv = " + job_argv({"--stdout", "hello-from-a"}) + "\n" +
                 "[[job]]\nname = \"b\"\ncpu = 0.5\nmemory = \"64MiB\"\nargv = " +
                 job_argv({"--stdout", "hello-from-b"}) + "\n");
  RunResult r = run_wp({"run", "--json", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, "hello-from"));
  CHECK(has_line(r.err, "[a] hello-from-a"));
  CHECK(has_line(r.err, "[b] hello-from-b"));

  Json summary = parse_json(r.out);
  INFO(summary.dump());
  CHECK(summary["exit_code"].as_int() == 0);
  CHECK(summary["interrupted_by"].is_null());
  CHECK(summary["counts"]["total"].as_int() == 2);
  CHECK(summary["counts"]["ok"].as_int() == 2);
  REQUIRE(summary["jobs"].size() == 2);
  for (const auto& job : summary["jobs"].as_array()) {
    CHECK(job["status"].as_string() == "ok");
    CHECK(job["exit_code"].as_int() == 0);
    CHECK(job["attempts"].size() == 1);
  }
  const Json& b = job_named(summary, "b");
  CHECK(b["request"]["cpu"].as_number() == 0.5);
  CHECK(b["request"]["memory"].as_int() == 64L * 1024 * 1024);
  CHECK(std::regex_match(summary["run_id"].as_string(), std::regex(R"([0-9]{8}-[0-9]{6}-[0-9]+)")));

  // The run directory keeps the same summary.
  fs::path saved = dir / "run" / "summary.json";
  REQUIRE(fs::exists(saved));
  Json kept = parse_json(read_file(saved));
  CHECK(kept["run_id"].as_string() == summary["run_id"].as_string());
}

TEST_CASE("the summary line counts jobs by status", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"ok-1\"\ncommand = \"true\"\n"
             "[[job]]\nname = \"ok-2\"\ncommand = \"true\"\n"
             "[[job]]\nname = \"no\"\ncommand = \"false\"\n"
             "[[job]]\nname = \"dep\"\ncommand = \"true\"\nafter = [\"no\"]\n");
  RunResult r = run_wp({"run", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(
      std::regex_search(r.err, std::regex(R"(wp: 4 jobs in [0-9.]+s: 2 ok, 1 failed, 1 skipped)")));
}

TEST_CASE("output: a 300 KB line is neither lost nor mixed", "[integration]") {
  TempDir dir;
  constexpr size_t kLength = 300'000;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"long\"\ncpu = 0.5\nargv = " +
                                    job_argv({"--stdout", "before", "--stdout", "after",
                                              "--long-line", std::to_string(kLength)}) +
                                    "\n[[job]]\nname = \"other\"\ncpu = 0.5\nargv = " +
                                    job_argv({"--lines", "500", "--chunk", "5"}) + "\n");
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe().substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  // wp may cut a huge line into several prefixed pieces, but every byte must
  // arrive, in one job's lines, and nothing may be glued to another job's text.
  size_t xs = 0;
  int other_lines = 0;
  for (const auto& line : split_lines(r.out)) {
    if (line.rfind("[other] other-line-", 0) == 0) {
      ++other_lines;
      continue;
    }
    REQUIRE(line.rfind("[long] ", 0) == 0);
    std::string text = line.substr(7);
    if (text == "before" || text == "after") continue;
    REQUIRE(text.find_first_not_of('x') == std::string::npos);
    xs += text.size();
  }
  CHECK(xs == kLength);
  CHECK(other_lines == 500);
  // Compared as a bool: Catch would print both 300 KB strings on failure.
  const std::string log = read_file(dir / "run" / "long.1.out");
  INFO("log size " << log.size());
  const bool log_is_raw = log == "before\nafter\n" + std::string(kLength, 'x') + "\n";
  CHECK(log_is_raw);
}

TEST_CASE("quiet: a chatty ok job still runs to the end and its log is complete", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"chatty\"\nargv = " + job_argv({"--lines", "50000"}) + "\n");
  RunResult r = run_wp({"run", "--quiet", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(contains(r.out + r.err, "chatty-line-"));
  std::vector<std::string> lines = split_lines(read_file(dir / "run" / "chatty.1.out"));
  REQUIRE(lines.size() == 50000);
  CHECK(lines.back() == "chatty-line-50000");
}

TEST_CASE("log files are created only for streams a job wrote to", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"silent\"\ncommand = \"true\"\n"
             "[[job]]\nname = \"talker\"\nargv = " +
                 job_argv({"--stdout", "hello"}) + "\n");
  RunResult r = run_wp({"run", "--json", "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(fs::exists(dir / "run" / "silent.1.out"));
  CHECK_FALSE(fs::exists(dir / "run" / "silent.1.err"));
  CHECK(read_file(dir / "run" / "talker.1.out") == "hello\n");
  CHECK_FALSE(fs::exists(dir / "run" / "talker.1.err"));
  Json doc = parse_json(r.out);
  const Json& silent = doc["jobs"][0]["attempts"][0];
  CHECK(silent["stdout"].is_null());
  CHECK(silent["stderr"].is_null());
  const Json& talker = doc["jobs"][1]["attempts"][0];
  CHECK(talker["stdout"].as_string() == (dir / "run" / "talker.1.out").string());
  CHECK(talker["stderr"].is_null());
}
