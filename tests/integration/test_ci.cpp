// wp in CI: the JUnit report (checked against a JUnit schema with xmllint and
// read back with XPath), GitHub Actions groups and annotations, GitLab
// sections, and no escape sequences where colour is not wanted.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

const std::string kSchema = std::string(WP_TEST_DATA_DIR) + "/junit.xsd";

// Single quotes for /bin/sh.
std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Shell {
  int status = -1;
  std::string out;  // stdout and stderr
};

Shell run_shell(const std::string& command) {
  Shell result;
  FILE* pipe = ::popen(("timeout 120 sh -c " + shell_quote(command) + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    result.out.append(buffer, n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// xmllint's verdict on `file` against the JUnit schema; its messages on failure.
Shell validate(const fs::path& file) {
  return run_shell("xmllint --noout --schema " + shell_quote(kSchema) + " " +
                   shell_quote(file.string()));
}

// The string value of an XPath expression on `file`.
std::string xpath(const fs::path& file, const std::string& expression) {
  Shell result = run_shell("xmllint --xpath " + shell_quote("string(" + expression + ")") + " " +
                           shell_quote(file.string()));
  INFO(expression << ": " << result.out);
  REQUIRE(result.status == 0);
  // xmllint ends what it prints with a newline of its own.
  if (!result.out.empty() && result.out.back() == '\n') result.out.pop_back();
  return result.out;
}

std::string testcase(const std::string& name) {
  return "/testsuites/testsuite/testcase[@name='" + name + "']";
}

// A job of the test manifest, as a [[job]] table.
std::string job(const std::string& name, const std::string& rest) {
  return "[[job]]\nname = \"" + name + "\"\ncpu = 0.5\nmemory = \"16MiB\"\n" + rest + "\n";
}

}  // namespace

TEST_CASE("junit: one testcase per job, valid against the JUnit schema", "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n" + job("fine", "argv = " + job_argv({"--stdout", "all good"})) +
                 job("broken", "argv = " + job_argv({"--stderr-lines", "60", "--exit", "3"})) +
                 job("slow", "timeout = \"500ms\"\nargv = " + job_argv({"--sleep-ms", "30000"})) +
                 job("after-broken", "after = [\"broken\"]\ncommand = \"true\"") +
                 // Bytes XML does not take as they are: markup, the end of a
                 // CDATA section, a byte that is not UTF-8, a control character.
                 job("hostile",
                     "command = \"printf 'a<b & c]]>d \\\\377 \\\\001 e\\\\n' >&2; "
                     "exit 4\"") +
                 job("no-program", "argv = [\"/nonexistent/wp-no-such-program\"]"));
  RunResult r = run_wp({"run", "-k", "--run-dir", dir.str("run"), "--junit", dir.str("report.xml"),
                        dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  fs::path report = dir / "report.xml";
  REQUIRE(fs::exists(report));
  INFO(read_file(report));
  Shell valid = validate(report);
  INFO(valid.out);
  CHECK(valid.status == 0);

  for (const char* element : {"/testsuites", "/testsuites/testsuite"}) {
    std::string at = element;
    CHECK(xpath(report, at + "/@tests") == "6");
    CHECK(xpath(report, at + "/@failures") == "3");  // broken, slow, hostile
    CHECK(xpath(report, at + "/@errors") == "1");    // no-program
    CHECK(xpath(report, at + "/@skipped") == "1");   // after-broken
  }
  CHECK(xpath(report, "count(//testcase)") == "6");
  CHECK(xpath(report, "/testsuites/testsuite/@name") == dir.str("jobs.toml"));
  CHECK(xpath(report, "/testsuites/testsuite/@hostname") != "");
  CHECK(xpath(report, testcase("fine") + "/@classname") == "jobs");
  CHECK(xpath(report, "count(" + testcase("fine") + "/*)") == "0");

  // The failure says how the job ended and carries its stderr's last 50 lines.
  CHECK(xpath(report, testcase("broken") + "/failure/@type") == "exit");
  CHECK(contains(xpath(report, testcase("broken") + "/failure/@message"), "exit 3"));
  std::string tail = xpath(report, testcase("broken") + "/failure");
  CHECK(contains(tail, "broken-err-60\n"));
  CHECK(contains(tail, "broken-err-11\n"));
  CHECK_FALSE(contains(tail, "broken-err-10\n"));

  CHECK(xpath(report, testcase("slow") + "/failure/@type") == "timeout");
  CHECK(std::stod(xpath(report, testcase("slow") + "/@time")) >= 0.5);
  CHECK(contains(xpath(report, testcase("after-broken") + "/skipped/@message"),
                 "dependency 'broken' failed"));
  CHECK(xpath(report, testcase("no-program") + "/error/@type") == "spawn");
  CHECK(contains(xpath(report, testcase("no-program") + "/error/@message"), "wp-no-such-program"));

  // What the hostile job wrote reads back as it was, the bytes XML cannot
  // hold as U+FFFD.
  std::string hostile = xpath(report, testcase("hostile") + "/failure");
  CHECK(contains(hostile, "a<b & c]]>d \xEF\xBF\xBD \xEF\xBF\xBD e"));
  // The temporary file was renamed, not left beside the report.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 3);  // jobs.toml, run, report.xml
}

TEST_CASE("junit: an interrupted run still writes its report", "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             job("sleeper", "argv = " + job_argv({"--touch", dir.str("started"), "--stderr",
                                                  "sleeping now", "--sleep-ms", "60000"})) +
                 job("later", "after = [\"sleeper\"]\ncommand = \"true\""));
  WpProcess wp(
      {"run", "--run-dir", dir.str("run"), "--junit", dir.str("report.xml"), dir.str("jobs.toml")});
  REQUIRE(wp.wait_until([&] { return fs::exists(dir / "started"); }, milliseconds(20'000)));
  wp.send(SIGINT);
  RunResult r = wp.finish(milliseconds(30'000));
  INFO(r.describe());
  CHECK(r.exit_code == 130);
  fs::path report = dir / "report.xml";
  REQUIRE(fs::exists(report));
  INFO(read_file(report));
  CHECK(validate(report).status == 0);
  CHECK(xpath(report, testcase("sleeper") + "/error/@type") == "interrupted");
  CHECK(contains(xpath(report, testcase("sleeper") + "/error/@message"), "SIGINT"));
  CHECK(contains(xpath(report, testcase("sleeper") + "/error"), "sleeping now"));
  CHECK(contains(xpath(report, testcase("later") + "/skipped/@message"), "interrupted"));
  CHECK(xpath(report, "/testsuites/@errors") == "1");
  CHECK(xpath(report, "/testsuites/@skipped") == "1");
}

TEST_CASE("junit: a report that cannot be written stops the run before it starts",
          "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml", job("marker", "argv = " + job_argv({"--touch", dir.str("ran")})));
  for (const std::string& target : {dir.str("missing-dir/report.xml"), dir.str("")}) {
    RunResult r =
        run_wp({"run", "--run-dir", dir.str("run"), "--junit", target, dir.str("jobs.toml")});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "wp: --junit: "));
    CHECK(contains(r.err, target));
    CHECK_FALSE(fs::exists(dir / "ran"));
  }
}

namespace {

// Each job's block of output: the lines between its ::group:: line and the
// next ::endgroup::, by the job's name (the title up to its first ':').
std::map<std::string, std::vector<std::string>> github_groups(const std::string& out,
                                                              int& malformed) {
  std::map<std::string, std::vector<std::string>> groups;
  std::vector<std::string>* open = nullptr;
  for (const std::string& line : split_lines(out)) {
    if (line.rfind("::group::", 0) == 0) {
      if (open != nullptr) ++malformed;  // groups do not nest
      std::string title = line.substr(9);
      open = &groups[title.substr(0, title.find(':'))];
    } else if (line == "::endgroup::") {
      if (open == nullptr) ++malformed;
      open = nullptr;
    } else if (open != nullptr) {
      open->push_back(line);
    }
  }
  if (open != nullptr) ++malformed;
  return groups;
}

}  // namespace

TEST_CASE("github: each job's output in a group of its own, failures annotated",
          "[integration][ci]") {
  TempDir dir;
  constexpr int kLines = 300;
  // The failing template's [[job]] header is indented: column 3.
  std::string manifest =
      "version = 1\n" +
      job("a", "argv = " + job_argv({"--lines", std::to_string(kLines), "--chunk", "7"})) +
      "\n  [[job]]\nname = \"shard-{n}\"\nmatrix = { n = [1, 2] }\n"
      "cpu = 0.5\nmemory = \"16MiB\"\nargv = " +
      job_argv({"--lines", std::to_string(kLines), "--chunk", "7", "--stderr",
                "shard failed: 50% done, a:b,c", "--exit", "2"}) +
      "\n";
  write_file(dir / "jobs.toml", manifest);
  std::string header_line = std::to_string(
      std::count(manifest.begin(), manifest.begin() + manifest.find("  [[job]]"), '\n') + 1);
  // Started elsewhere, with the manifest in the workspace: annotations name
  // it as the repository does.
  RunOptions options;
  options.cwd = "/";
  options.env = {{"GITHUB_ACTIONS", "true"}, {"GITHUB_WORKSPACE", dir.path().string()}};
  RunResult r = run_wp({"run", "-k", "--run-dir", dir.str("run"), dir.str("jobs.toml")}, options);
  INFO(r.describe());
  CHECK(r.exit_code == 1);

  int malformed = 0;
  auto groups = github_groups(r.out, malformed);
  CHECK(malformed == 0);
  REQUIRE(groups.size() == 3);
  for (const char* name : {"a", "shard-1", "shard-2"}) {
    INFO(name);
    const std::vector<std::string>& lines = groups[name];
    // The whole of the job's output, in order, and nothing else: no prefixes,
    // no line of the job that ran beside it.
    std::vector<std::string> expected;
    for (int i = 1; i <= kLines; ++i)
      expected.push_back(std::string(name) + "-line-" + std::to_string(i));
    if (name != std::string("a")) expected.push_back("shard failed: 50% done, a:b,c");
    CHECK(lines == expected);
  }
  CHECK_FALSE(contains(r.out + r.err, "] a-line-1"));

  // One annotation for each failed member, at the template, escaped.
  std::vector<std::string> errors;
  for (const std::string& line : split_lines(r.out)) {
    if (line.rfind("::error ", 0) == 0) errors.push_back(line);
  }
  REQUIRE(errors.size() == 2);
  for (const char* name : {"shard-1", "shard-2"}) {
    INFO(name);
    std::string prefix = "::error file=jobs.toml,line=" + header_line + ",col=3,title=wp%3A job " +
                         std::string(name) + " failed::exit 2 after ";
    bool found = false;
    for (const std::string& line : errors)
      found = found ||
              (line.rfind(prefix, 0) == 0 && contains(line, "%0Ashard failed: 50%25 done, a:b,c"));
    CHECK(found);
  }
}

TEST_CASE("github: --ci-format overrides the environment both ways", "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml", job("talker", "argv = " + job_argv({"--stdout", "said"})));
  RunOptions in_actions;
  in_actions.env = {{"GITHUB_ACTIONS", "true"}};
  RunResult plain = run_wp({"run", "--ci-format", "plain", dir.str("jobs.toml")}, in_actions);
  INFO(plain.describe());
  CHECK(has_line(plain.out, "[talker] said"));
  CHECK_FALSE(contains(plain.out, "::group::"));

  RunResult forced = run_wp({"run", "--ci-format", "github", dir.str("jobs.toml")});
  INFO(forced.describe());
  CHECK(contains(forced.out, "::group::talker: ok in "));
  CHECK(has_line(forced.out, "said"));

  RunResult bad = run_wp({"run", "--ci-format", "jenkins", dir.str("jobs.toml")});
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "--ci-format"));
}

TEST_CASE("gitlab: each job's output in a collapsed section", "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             job("build step/1",
                 "argv = " + job_argv({"--stdout", "compiling", "--stderr", "warning: unused"})) +
                 job("test", "after = [\"build step/1\"]\nargv = " +
                                 job_argv({"--stdout", "testing", "--exit", "1"})));
  RunOptions options;
  options.env = {{"GITLAB_CI", "true"}};
  RunResult r = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")}, options);
  INFO(r.describe());
  CHECK(r.exit_code == 1);

  const std::regex start(
      "\x1b\\[0Ksection_start:([0-9]+):([A-Za-z0-9_.-]+)\\[collapsed=true\\]"
      "\r\x1b\\[0K(.*)");
  const std::regex end("\x1b\\[0Ksection_end:([0-9]+):([A-Za-z0-9_.-]+)\r\x1b\\[0K");
  std::vector<std::string> headers;
  std::map<std::string, std::vector<std::string>> content;
  std::string open;
  long long opened_at = 0;
  int malformed = 0;
  for (const std::string& line : split_lines(r.out)) {
    std::smatch m;
    if (std::regex_match(line, m, start)) {
      if (!open.empty()) ++malformed;
      open = m[2];
      opened_at = std::stoll(m[1]);
      headers.push_back(m[3]);
    } else if (std::regex_match(line, m, end)) {
      if (m[2] != open || std::stoll(m[1]) < opened_at) ++malformed;
      open.clear();
    } else if (!open.empty()) {
      content[open].push_back(line);
    } else if (contains(line, "\x1b")) {
      ++malformed;  // a marker that is not well formed
    }
  }
  CHECK(malformed == 0);
  CHECK(open.empty());
  REQUIRE(headers.size() == 2);
  CHECK(headers[0].rfind("build step/1: ok in ", 0) == 0);
  CHECK(headers[1].rfind("test: exit 1 after ", 0) == 0);
  CHECK(content["wp_build_step_1_1"] == std::vector<std::string>{"compiling", "warning: unused"});
  CHECK(content["wp_test_1"] == std::vector<std::string>{"testing"});
  CHECK_FALSE(contains(r.out, "::error"));
}

namespace {

// wp run under a pseudo-terminal (script(1)), with `env` (VAR=value words,
// or -u VAR) for wp; everything the terminal showed.
Shell run_on_terminal(const TempDir& dir, const std::string& env) {
  std::string wp = shell_quote(wp_binary()) + " run --db " + shell_quote(dir.str("wp.db")) +
                   " --run-dir " + shell_quote(dir.str("run")) + " " +
                   shell_quote(dir.str("jobs.toml"));
  return run_shell("env -u GITHUB_ACTIONS -u GITLAB_CI " + env + " script -qec " + shell_quote(wp) +
                   " /dev/null");
}

}  // namespace

TEST_CASE("colour: only on a terminal, never with NO_COLOR or TERM=dumb", "[integration][ci]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             job("talker", "argv = " + job_argv({"--stdout", "said", "--exit", "1"})));
  // On a terminal that wants colour, the failure is in red: the check below
  // that there is none would otherwise prove nothing.
  Shell coloured = run_on_terminal(dir, "-u NO_COLOR TERM=xterm");
  INFO(coloured.out);
  CHECK(contains(coloured.out, "\x1b[1;31mwp: FAILED talker"));
  fs::remove_all(dir / "run");

  for (const char* env : {"NO_COLOR=1 TERM=xterm", "-u NO_COLOR TERM=dumb"}) {
    Shell plain = run_on_terminal(dir, env);
    INFO(env << "\n" << plain.out);
    CHECK(contains(plain.out, "wp: FAILED talker"));
    CHECK_FALSE(contains(plain.out, "\x1b"));
    fs::remove_all(dir / "run");
  }

  // Not a terminal: plain, whatever TERM says.
  RunOptions options;
  options.env = {{"TERM", "xterm"}};
  RunResult piped = run_wp({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")}, options);
  INFO(piped.describe());
  CHECK(contains(piped.err, "wp: FAILED talker"));
  CHECK_FALSE(contains(piped.out + piped.err, "\x1b"));
}
