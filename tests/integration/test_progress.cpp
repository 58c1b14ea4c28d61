// The live status area of `wp run`, through the real binary on a
// pseudo-terminal: drawn at the bottom below the jobs' lines, never mixed
// with them, gone at the end; not drawn on a pipe, with TERM=dumb, -q or
// --progress never.
#include <signal.h>

#include <map>
#include <regex>

#include <catch2/catch.hpp>

#include "pty_harness.h"
#include "wp_harness.h"

using namespace wpit;

namespace {

constexpr int kColumns = 100;

RunOptions terminal_env(std::vector<std::pair<std::string, std::string>> extra = {}) {
  RunOptions options;
  options.env = {
      {"TERM", "xterm"}, {"LANG", "C"}, {"LC_ALL", ""}, {"LC_CTYPE", ""}, {"NO_COLOR", ""}};
  for (auto& pair : extra)
    options.env.push_back(std::move(pair));
  return options;
}

std::string sleeper(const std::string& name, int ms, const std::string& extra = "") {
  return "[[job]]\nname = \"" + name + "\"\ncpu = 1\nmemory = \"32MiB\"\nargv = " +
         job_argv({"--stdout", "hello-" + name, "--sleep-ms", std::to_string(ms)}) + "\n" + extra;
}

// Without colours, for checks of the text.
std::string plain_text(const std::string& raw) {
  return std::regex_replace(raw, std::regex("\x1b\\[[0-9;]*m"), "");
}

// The area's first line: the counts.
bool has_area(const std::string& text) {
  return contains(text, " running, ") && contains(text, " queued, ");
}

// The screen a run leaves ends with the summary, and nothing of the area.
void check_clean_end(const std::vector<std::string>& screen) {
  REQUIRE(!screen.empty());
  CHECK(screen.back().rfind("wp: logs in ", 0) == 0);
  for (const std::string& line : screen) {
    INFO("screen line: '" << line << "'");
    CHECK_FALSE(has_area(line));
    CHECK_FALSE(contains(line, "cpu ["));
  }
}

std::string joined(const std::vector<std::string>& screen) {
  std::string text;
  for (const auto& line : screen)
    text += line + "\n";
  return text;
}

std::string describe(const std::vector<std::string>& screen) {
  return "--- screen ---\n" + joined(screen);
}

// The picture drawn last: what follows the last erase of the area.
std::string last_picture(const std::string& raw) {
  size_t erase = raw.rfind("\x1b[J");
  return erase == std::string::npos ? std::string() : raw.substr(erase + 3);
}

}  // namespace

TEST_CASE("progress: on a terminal, counts, bars and running jobs below the output",
          "[integration][progress]") {
  TempDir dir;
  write_file(dir / "jobs.toml", sleeper("a", 1500) + sleeper("b", 1500) + sleeper("c", 300) +
                                    sleeper("d", 300, "after = [\"a\"]\n"));
  TerminalResult r =
      run_wp_on_terminal({"run", "--cpus", "2", "--run-dir", dir.str("run"), dir.str("jobs.toml")},
                         terminal_env(), kColumns);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // At the start two of four run and two wait; the bars show 2 of 2 cores.
  std::string text = plain_text(r.raw);
  CHECK(contains(text, "0 done, 2 running, 2 queued, 0 failed"));
  CHECK(contains(text, "cpu [####################] 2/2"));
  CHECK(std::regex_search(text, std::regex(R"(\n  a +[0-9.]+s)")));
  CHECK(contains(r.raw, "\x1b[J"));
  CHECK_FALSE(contains(r.raw, "\xe2\x96\x88"));  // LANG=C: ASCII only
  std::vector<std::string> screen = screen_of(r.raw, kColumns);
  INFO(describe(screen));
  check_clean_end(screen);
  for (const char* name : {"a", "b", "c", "d"})
    CHECK(has_line(joined(screen), std::string("[") + name + "] hello-" + name));
}

TEST_CASE("progress: job lines never mix with the area", "[integration][progress]") {
  TempDir dir;
  constexpr int kLines = 1500;
  std::string manifest;
  for (const char* name : {"a", "b"}) {
    manifest += "[[job]]\nname = \"" + std::string(name) +
                "\"\ncpu = 0.5\nmemory = \"16MiB\"\nargv = " +
                job_argv({"--lines", std::to_string(kLines), "--chunk", "7"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  TerminalResult r = run_wp_on_terminal({"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")},
                                        terminal_env(), kColumns);
  INFO(r.describe().substr(0, 3000));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.raw, "\x1b[J"));
  std::vector<std::string> screen = screen_of(r.raw, kColumns);
  check_clean_end(screen);
  const std::regex job_line(R"(\[(a|b)\] (a|b)-line-([0-9]+))");
  std::map<std::string, int> next = {{"a", 1}, {"b", 1}};
  int bad_lines = 0;
  for (const auto& line : screen) {
    if (line.rfind("wp: ", 0) == 0) continue;
    std::smatch m;
    if (!std::regex_match(line, m, job_line) || m[1] != m[2] || std::stoi(m[3]) != next[m[1]]) {
      if (++bad_lines <= 5) UNSCOPED_INFO("mixed, foreign or out of order: '" << line << "'");
      continue;
    }
    next[m[1]] = std::stoi(m[3]) + 1;
  }
  CHECK(bad_lines == 0);
  CHECK(next["a"] == kLines + 1);
  CHECK(next["b"] == kLines + 1);
}

TEST_CASE("progress: no area on a pipe, with TERM=dumb, -q or --progress never",
          "[integration][progress]") {
  TempDir dir;
  write_file(dir / "jobs.toml", sleeper("a", 300));
  std::vector<std::string> run = {"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")};

  SECTION("a pipe") {
    RunResult r = run_wp(run, terminal_env());
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(contains(r.err, "\x1b"));
    CHECK_FALSE(has_area(r.err));
    CHECK(has_line(r.out, "[a] hello-a"));
  }
  SECTION("TERM=dumb") {
    TerminalResult r = run_wp_on_terminal(run, terminal_env({{"TERM", "dumb"}}));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(contains(r.raw, "\x1b"));
    CHECK_FALSE(has_area(r.raw));
    CHECK(contains(r.raw, "[a] hello-a\r\n"));
  }
  SECTION("--progress never") {
    std::vector<std::string> never = run;
    never.insert(never.begin() + 1, {"--progress", "never"});
    TerminalResult r = run_wp_on_terminal(never, terminal_env({{"NO_COLOR", "1"}}));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(contains(r.raw, "\x1b"));
    CHECK(contains(r.raw, "[a] hello-a\r\n"));
  }
  SECTION("NO_COLOR: no escape sequences at all") {
    TerminalResult r = run_wp_on_terminal(run, terminal_env({{"NO_COLOR", "1"}}));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(contains(r.raw, "\x1b"));
    CHECK_FALSE(has_area(r.raw));
    CHECK(contains(r.raw, "[a] hello-a\r\n"));
  }
  SECTION("-q") {
    std::vector<std::string> quiet = run;
    quiet.insert(quiet.begin() + 1, "-q");
    TerminalResult r = run_wp_on_terminal(quiet, terminal_env());
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK(r.raw.empty());
  }
  SECTION("--progress always draws it even on a pipe") {
    std::vector<std::string> always = run;
    always.insert(always.begin() + 1, {"--progress", "always"});
    RunResult r = run_wp(always, terminal_env({{"TERM", "dumb"}}));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK(has_area(r.err));
    CHECK(contains(r.err, "\x1b[J"));
  }
}

TEST_CASE("progress: colours unless NO_COLOR (then only with --progress always); UTF-8 blocks",
          "[integration][progress]") {
  TempDir dir;
  write_file(dir / "jobs.toml", sleeper("a", 400) + sleeper("b", 400));
  std::vector<std::string> run = {"run",       "--cpus",       "4",
                                  "--run-dir", dir.str("run"), dir.str("jobs.toml")};
  TerminalResult colored = run_wp_on_terminal(run, terminal_env({{"LANG", "C.UTF-8"}}));
  INFO(colored.describe());
  REQUIRE(colored.exit_code == 0);
  CHECK(contains(colored.raw, "\x1b[36m"));      // the bars' colour
  CHECK(contains(colored.raw, "\xe2\x96\x88"));  // a full block: 2 of 4 cores
  check_clean_end(screen_of(colored.raw, kColumns));

  run[4] = dir.str("run2");
  run.insert(run.begin() + 1, {"--progress", "always"});
  TerminalResult plain = run_wp_on_terminal(run, terminal_env({{"NO_COLOR", "1"}}));
  INFO(plain.describe());
  REQUIRE(plain.exit_code == 0);
  CHECK(has_area(plain.raw));
  CHECK(contains(plain.raw, "\x1b[J"));
  CHECK_FALSE(std::regex_search(plain.raw, std::regex("\x1b\\[[0-9;]*m")));
  check_clean_end(screen_of(plain.raw, kColumns));
}

TEST_CASE("progress: Ctrl-C leaves the terminal clean", "[integration][progress]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             sleeper("long", 60'000) + sleeper("next", 100, "after = [\"long\"]\n"));
  PtyProcess wp({"run", "--grace", "2s", "--run-dir", dir.str("run"), dir.str("jobs.toml")},
                terminal_env(), kColumns, 30);
  REQUIRE(wp.wait_for([](const std::string& raw) { return contains(raw, "\n  long "); },
                      milliseconds(20'000)));
  wp.send(SIGINT);
  TerminalResult r = wp.finish(milliseconds(20'000));
  INFO(r.describe());
  CHECK(r.exit_code == 130);
  std::vector<std::string> screen = screen_of(r.raw, kColumns);
  INFO(describe(screen));
  check_clean_end(screen);
  CHECK(contains(joined(screen), "interrupted"));
}

TEST_CASE("progress: elapsed against predicted time, and an ETA, once there is history",
          "[integration][progress]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             sleeper("eta-first", 500) + sleeper("eta-then", 500, "after = [\"eta-first\"]\n"));
  std::vector<std::string> run = {"run", "--run-dir", dir.str("run"), dir.str("jobs.toml")};
  TerminalResult fresh = run_wp_on_terminal(run, terminal_env());
  INFO(fresh.describe());
  REQUIRE(fresh.exit_code == 0);
  CHECK_FALSE(contains(fresh.raw, " / ~"));  // no history: elapsed only
  CHECK_FALSE(contains(fresh.raw, "ETA"));
  for (int i = 0; i < 3; ++i)
    REQUIRE(run_wp({"run", "--progress", "never", dir.str("jobs.toml")}).exit_code == 0);
  run[2] = dir.str("run2");
  TerminalResult learned = run_wp_on_terminal(run, terminal_env());
  INFO(learned.describe());
  REQUIRE(learned.exit_code == 0);
  std::string text = plain_text(learned.raw);
  CHECK(std::regex_search(text, std::regex(R"(\n  eta-first +[0-9.]+s / ~[0-9.]+s)")));
  CHECK(contains(text, "ETA "));
  check_clean_end(screen_of(learned.raw, kColumns));
}

TEST_CASE("progress: the area follows the terminal's width", "[integration][progress]") {
  TempDir dir;
  std::string manifest;
  for (const char* name : {"a-job-with-a-rather-long-name", "b"})
    manifest += sleeper(name, 60'000);
  write_file(dir / "jobs.toml", manifest);
  PtyProcess wp({"run", "--grace", "2s", "--run-dir", dir.str("run"), dir.str("jobs.toml")},
                terminal_env(), 200, 30);
  auto has_jobs = [](const std::string& picture) {
    return contains(picture, "\n  a-job") && contains(picture, "\n  b ");
  };
  REQUIRE(wp.wait_for([&](const std::string& raw) { return has_jobs(last_picture(raw)); },
                      milliseconds(20'000)));
  CHECK(contains(plain_text(last_picture(wp.raw())), "cpu [####################]"));  // wide
  size_t before = wp.raw().size();
  wp.resize(40, 30);
  auto narrow = [&](const std::string& raw) {
    std::string picture = plain_text(last_picture(raw.substr(before)));
    if (!contains(picture, "\n  a-job")) return false;
    for (std::string line : split_lines(picture)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // the pty's ONLCR
      if (line.size() > 39) return false;
    }
    return true;
  };
  bool fitted = wp.wait_for(narrow, milliseconds(20'000));
  INFO("the last picture: " << last_picture(wp.raw()));
  CHECK(fitted);
  wp.send(SIGTERM);
  TerminalResult r = wp.finish(milliseconds(20'000));
  INFO(r.describe());
  CHECK(r.exit_code == 143);
  // Emulated at the first width: this emulator does not reflow on a resize.
  check_clean_end(screen_of(r.raw, 200));
}
