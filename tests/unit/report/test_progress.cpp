// The live status area as text: fixed snapshots in, lines out.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "report/progress.h"
#include "util/text_width.h"

using namespace wp;
using namespace wp::report;
using wp::text::display_width;

namespace {

constexpr Bytes kGiB = 1ull << 30;

ProgressSnapshot machine(double cpu_used, Bytes memory_used) {
  ProgressSnapshot s;
  s.capacity = Resources{Cores::from_double(4), 8 * kGiB, Resources::kUnlimited, 0};
  s.in_use = Resources{Cores::from_double(cpu_used), memory_used, 0, 0};
  return s;
}

ProgressStyle ascii(int width = 80, int height = 24) {
  return ProgressStyle{width, height, false, false};
}

// What is between "LABEL [" and the next "]" on the bars line.
std::string bar_of(const std::vector<std::string>& lines, const std::string& label) {
  REQUIRE(lines.size() >= 2);
  const std::string& line = lines[1];
  size_t open = line.find(label + " [");
  REQUIRE(open != std::string::npos);
  open += label.size() + 2;
  size_t close = line.find(']', open);
  REQUIRE(close != std::string::npos);
  return line.substr(open, close - open);
}

size_t count_of(const std::string& text, char c) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), c));
}

bool all_ascii(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    for (char c : line) {
      if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
  }
  return true;
}

ProgressJob job(std::string name, double elapsed, std::optional<double> predicted = {}) {
  return ProgressJob{std::move(name), elapsed, predicted, false};
}

}  // namespace

TEST_CASE("progress: the counts line", "[progress]") {
  ProgressSnapshot s = machine(1, kGiB);
  s.done = 5;
  s.running = 2;
  s.queued = 10;
  s.failed = 1;
  s.elapsed = 65;
  auto lines = render_progress(s, ascii());
  REQUIRE(!lines.empty());
  CHECK(lines[0] == "[1m05s] 5 done, 2 running, 10 queued, 1 failed");
  s.skipped = 3;
  s.eta = 125;
  lines = render_progress(s, ascii());
  CHECK(lines[0] == "[1m05s] 5 done, 2 running, 10 queued, 1 failed, 3 skipped  ETA 2m05s");
}

TEST_CASE("progress: bars at nothing, part and all of the capacity", "[progress]") {
  SECTION("nothing in use: empty bars") {
    auto lines = render_progress(machine(0, 0), ascii());
    std::string cpu = bar_of(lines, "cpu");
    CHECK(cpu.size() >= 4);
    CHECK(count_of(cpu, '#') == 0);
    CHECK(count_of(bar_of(lines, "mem"), '#') == 0);
    CHECK(lines[1].find("0/4") != std::string::npos);
  }
  SECTION("half in use: half the cells") {
    auto lines = render_progress(machine(2, 4 * kGiB), ascii());
    std::string cpu = bar_of(lines, "cpu");
    CHECK(count_of(cpu, '#') == cpu.size() / 2);
    CHECK(count_of(cpu, '-') == cpu.size() - cpu.size() / 2);
    std::string mem = bar_of(lines, "mem");
    CHECK(count_of(mem, '#') == mem.size() / 2);
    CHECK(lines[1].find("2/4") != std::string::npos);
    CHECK(lines[1].find("4 GiB/8 GiB") != std::string::npos);
  }
  SECTION("all in use, or more (CPU overcommit): full bars") {
    for (double cpu : {4.0, 5.0}) {
      auto lines = render_progress(machine(cpu, 8 * kGiB), ascii());
      std::string bar = bar_of(lines, "cpu");
      CHECK(count_of(bar, '#') == bar.size());
      CHECK(count_of(bar_of(lines, "mem"), '-') == 0);
    }
  }
  SECTION("a sliver shows, and nearly full is not full") {
    auto lines = render_progress(machine(0.001, 8 * kGiB - 1), ascii());
    std::string cpu = bar_of(lines, "cpu");
    CHECK(count_of(cpu, '#') == 1);
    std::string mem = bar_of(lines, "mem");
    CHECK(count_of(mem, '-') == 1);
  }
  SECTION("unicode: block characters, a partial cell") {
    ProgressStyle style = ascii();
    style.unicode = true;
    auto lines = render_progress(machine(1.1, 0), style);
    std::string cpu = bar_of(lines, "cpu");
    CHECK(cpu.find("\u2588") != std::string::npos);
    CHECK(display_width(cpu) == bar_of(render_progress(machine(1.1, 0), ascii()), "cpu").size());
    bool partial = false;
    for (const char* eighth :
         {"\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"}) {
      partial = partial || cpu.find(eighth) != std::string::npos;
    }
    CHECK(partial);
  }
}

TEST_CASE("progress: IOPS and GPUs get bars only when capacity has a figure", "[progress]") {
  ProgressSnapshot s = machine(1, kGiB);
  s.in_use.iops = 300;
  auto lines = render_progress(s, ascii());
  CHECK(lines[1].find("iops 300") != std::string::npos);
  CHECK(lines[1].find("iops [") == std::string::npos);
  CHECK(lines[1].find("gpu") == std::string::npos);
  s.capacity.iops = 1200;
  s.capacity.gpu = 2;
  s.in_use.gpu = 2;
  lines = render_progress(s, ascii(160));
  CHECK(lines[1].find("300/1200") != std::string::npos);
  CHECK(count_of(bar_of(lines, "iops"), '#') == bar_of(lines, "iops").size() / 4);
  CHECK(count_of(bar_of(lines, "gpu"), '-') == 0);
}

TEST_CASE("progress: running jobs with elapsed against predicted time", "[progress]") {
  ProgressSnapshot s = machine(2, kGiB);
  s.running = 3;
  s.jobs = {job("build", 12, 40.0), job("test", 75), job("slow", 50, 30.0)};
  s.jobs[1].paused = true;
  auto lines = render_progress(s, ascii(60));
  REQUIRE(lines.size() == 5);
  CHECK(lines[2].rfind("  build", 0) == 0);
  CHECK(lines[2].size() == 59);  // the time at the right edge
  CHECK(lines[2].substr(lines[2].size() - 10) == "12s / ~40s");
  CHECK(lines[3].find("1m15s paused") != std::string::npos);
  CHECK(lines[3].find("~") == std::string::npos);  // no prediction: elapsed only
  CHECK(lines[4].find("50s / ~30s") != std::string::npos);
}

TEST_CASE("progress: many running jobs fit the height, with +K more", "[progress]") {
  ProgressSnapshot s = machine(4, kGiB);
  for (int i = 0; i < 40; ++i)
    s.jobs.push_back(job("job-" + std::to_string(i), i));
  s.running = s.jobs.size();
  for (int height : {24, 10, 6, 4, 3, 2}) {
    auto lines = render_progress(s, ascii(80, height));
    INFO("height " << height);
    CHECK(static_cast<int>(lines.size()) <= height / 2);
    if (height >= 6) CHECK(lines.back() == "  +" + std::to_string(40 - (height / 2 - 3)) + " more");
    if (height >= 8) CHECK(lines[2].find("job-0 ") != std::string::npos);
  }
  CHECK(render_progress(s, ascii(80, 1)).empty());
  s.jobs.resize(2);
  auto lines = render_progress(s, ascii(80, 8));  // room for 2 jobs: no "more"
  CHECK(lines.size() == 4);
  CHECK(lines.back().find("more") == std::string::npos);
}

TEST_CASE("progress: every line fits narrow terminals", "[progress]") {
  ProgressSnapshot s = machine(3.5, 5 * kGiB);
  s.done = 123456;
  s.running = 2;
  s.queued = 99999;
  s.failed = 7;
  s.skipped = 3;
  s.elapsed = 4000;
  s.eta = 7200;
  s.capacity.iops = 5000;
  s.in_use.iops = 2500;
  s.jobs = {job(std::string(200, 'x'), 5, 600.0), job("short", 1)};
  for (bool unicode : {false, true}) {
    for (int width = 1; width <= 130; ++width) {
      ProgressStyle style{width, 40, unicode, true};
      auto lines = render_progress(s, style);
      INFO("width " << width << (unicode ? " unicode" : " ascii"));
      if (width < 12) {
        CHECK(lines.empty());
        continue;
      }
      REQUIRE(lines.size() == 4);
      for (const std::string& line : lines) {
        CHECK(display_width(line) <= static_cast<size_t>(width - 1));
        CHECK(line.find('\n') == std::string::npos);
      }
      if (!unicode) CHECK(all_ascii(lines));
    }
  }
  // Wide enough for all of it, nothing is cut.
  auto lines = render_progress(s, ascii(200));
  CHECK(lines[0].find("ETA 2h00m") != std::string::npos);
  CHECK(lines[2].find("5.0s / ~10m00s") != std::string::npos);
  CHECK(lines[2].find("...") != std::string::npos);  // the long name is cut, not the time
  // Narrow: the time of the run goes first, then the ETA, then the counts are cut.
  lines = render_progress(s, ascii(70));
  CHECK(lines[0].rfind("123456 done", 0) == 0);
  lines = render_progress(s, ascii(30));
  CHECK(lines[0].size() == 29);
  CHECK(lines[0].substr(26) == "...");
}

TEST_CASE("progress: wide names take two columns a character", "[progress]") {
  ProgressSnapshot s = machine(1, kGiB);
  std::string nihongo;
  for (int i = 0; i < 20; ++i)
    nihongo += "\u65e5\u672c\u8a9e";  // 日本語, sixty wide characters in all
  s.jobs = {job(nihongo, 5, 600.0), job("\u65e5\u672c", 5, 600.0), job("ab", 5, 600.0)};
  for (int width : {12, 13, 30, 41, 80}) {
    INFO("width " << width);
    auto lines = render_progress(s, ascii(width, 40));
    REQUIRE(lines.size() == 5);
    for (const std::string& line : lines)
      CHECK(display_width(line) <= static_cast<size_t>(width - 1));
    if (width < 30) continue;
    // The times end at the same column whatever the names.
    CHECK(display_width(lines[2]) == display_width(lines[4]));
    CHECK(display_width(lines[3]) == display_width(lines[4]));
    CHECK(lines[2].find("...") != std::string::npos);
  }
}

TEST_CASE("progress: colours only when asked, names cannot move the cursor", "[progress]") {
  ProgressSnapshot s = machine(1, kGiB);
  s.failed = 2;
  s.jobs = {job("evil\x1b[2J\rname", 3)};
  auto plain = render_progress(s, ascii());
  for (const std::string& line : plain)
    CHECK(line.find('\x1b') == std::string::npos);
  CHECK(plain[2].find("evil?[2J?name") != std::string::npos);
  ProgressStyle color = ascii();
  color.color = true;
  auto colored = render_progress(s, color);
  CHECK(colored[0].find("\x1b[31m2 failed\x1b[0m") != std::string::npos);
  CHECK(display_width(colored[0]) == plain[0].size());
}

TEST_CASE("progress: clock text", "[progress]") {
  CHECK(clock_text(0) == "0.0s");
  CHECK(clock_text(0.68) == "0.6s");
  CHECK(clock_text(9.99) == "9.9s");
  CHECK(clock_text(10) == "10s");
  CHECK(clock_text(59.9) == "59s");
  CHECK(clock_text(60) == "1m00s");
  CHECK(clock_text(3599) == "59m59s");
  CHECK(clock_text(3600 * 26 + 60 * 3) == "26h03m");
  CHECK(clock_text(-5) == "0.0s");
}
