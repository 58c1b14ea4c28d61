// The text of `wp plan` from hand-made simulations: the chart's rows and
// axis, the note on assumed durations, and which strategy is best.
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "report/plan.h"
#include "util/text_width.h"

using wp::report::DurationSource;
using wp::report::PlanJobs;
using wp::sched::Simulation;
using wp::sched::Slot;
using wp::text::display_width;

namespace {

PlanJobs jobs_of(const std::vector<std::string>& names) {
  PlanJobs jobs;
  jobs.manifest = "jobs.toml";
  jobs.capacity.cpu = wp::Cores::from_double(2);
  jobs.capacity.memory = 1ull << 30;
  for (const std::string& name : names) {
    wp::sched::JobDemand demand;
    demand.name = name;
    demand.demand.cpu = wp::Cores::from_double(1);
    jobs.demands.push_back(demand);
    jobs.durations.push_back(10);
    jobs.sources.push_back(DurationSource::Predicted);
  }
  return jobs;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t from = 0;
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', from)) {
    lines.push_back(text.substr(from, at - from));
    from = at + 1;
  }
  return lines;
}

// One attempt a job, from start to end ({-1, -1}: never started).
Simulation simulation_of(const std::vector<std::pair<double, double>>& spans, double makespan) {
  Simulation simulation;
  for (auto [start, end] : spans) {
    Slot slot;
    slot.start = slot.last_start = start;
    slot.end = end;
    slot.attempts = start < 0 ? 0 : 1;
    simulation.slots.push_back(slot);
    if (start < 0) ++simulation.never_started;
  }
  simulation.makespan = makespan;
  return simulation;
}

}  // namespace

TEST_CASE("plan chart: a row per job in start order, bars scaled to the width", "[report][plan]") {
  PlanJobs jobs = jobs_of({"late", "early", "never-fits"});
  Simulation simulation = simulation_of({{10, 20}, {0, 10}, {-1, -1}}, 20);
  std::vector<std::string> lines = lines_of(wp::report::gantt_chart(jobs, simulation, 60));
  REQUIRE(lines.size() == 6);  // three rows, the axis, its labels and the legend
  CHECK(lines[0].rfind("early", 0) == 0);
  CHECK(lines[1].rfind("late", 0) == 0);
  CHECK(lines[2].rfind("never-fits", 0) == 0);
  CHECK(lines[2].find("(never starts)") != std::string::npos);
  // Half the axis each: the bars meet in the middle and do not overlap.
  size_t early_end = lines[0].rfind('#');
  size_t late_start = lines[1].find('#');
  CHECK(late_start == early_end + 1);
  for (const std::string& line : lines)
    CHECK(line.size() <= 60);
  CHECK(lines[3].find("+--") != std::string::npos);
  CHECK(lines[4].find("0s ") != std::string::npos);
  CHECK(lines[4].find("20.0s") != std::string::npos);
  CHECK(lines[5] == std::string(11, ' ') + "# predicted");
}

TEST_CASE("plan chart: at most 60 rows", "[report][plan]") {
  std::vector<std::string> names;
  std::vector<std::pair<double, double>> slots;
  for (int i = 0; i < 75; ++i) {
    names.push_back("job-" + std::to_string(i));
    slots.push_back({static_cast<double>(i), static_cast<double>(i + 1)});
  }
  std::string chart = wp::report::gantt_chart(jobs_of(names), simulation_of(slots, 75), 80);
  CHECK(chart.find("job-59 ") != std::string::npos);
  CHECK(chart.find("job-60 ") == std::string::npos);
  CHECK(chart.find("... 15 more jobs") != std::string::npos);
}

TEST_CASE("plan: the note on jobs with an assumed duration", "[report][plan]") {
  PlanJobs jobs = jobs_of({"a", "b", "c"});
  CHECK(wp::report::default_note(jobs).empty());
  jobs.sources[1] = DurationSource::Default;
  jobs.default_duration = 90;
  CHECK(wp::report::default_note(jobs) ==
        "1 of 3 jobs has no prediction or timeout: 1m30s assumed");
}

TEST_CASE("plan: the best strategy starts the most jobs, then ends soonest", "[report][plan]") {
  auto with = [](wp::sched::Strategy strategy, double makespan, size_t never) {
    Simulation s;
    s.policy.strategy = strategy;
    s.makespan = makespan;
    s.never_started = never;
    return s;
  };
  using wp::sched::Strategy;
  CHECK(wp::report::best_of({with(Strategy::FirstFit, 30, 0), with(Strategy::BestFit, 20, 0)}) ==
        1);
  CHECK(wp::report::best_of({with(Strategy::FirstFit, 30, 0), with(Strategy::BestFit, 20, 1)}) ==
        0);
  // A tie goes to the default strategy.
  Strategy fallback =
      wp::sched::Policy{}.strategy == Strategy::FirstFit ? Strategy::BestFit : Strategy::FirstFit;
  CHECK(wp::report::best_of({with(fallback, 20, 0), with(wp::sched::Policy{}.strategy, 20, 0)}) ==
        1);
}

namespace {

// The chart's rows of started jobs: the lines with a bar and an end time.
std::vector<std::string> bar_rows(const std::vector<std::string>& lines) {
  std::vector<std::string> rows;
  for (const std::string& line : lines) {
    if (line.find_first_of("#=?") != std::string::npos && line.back() == 's') rows.push_back(line);
  }
  return rows;
}

std::string repeated(const std::string& text, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i)
    out += text;
  return out;
}

}  // namespace

TEST_CASE("plan chart: names are measured in terminal columns, not bytes", "[report][plan]") {
  const std::string nihongo = repeated("\u65e5\u672c\u8a9e", 8);  // 日本語 x 8: 48 columns
  PlanJobs jobs = jobs_of({nihongo, "ab", "cafe\u0301", "\U0001F680go"});
  Simulation simulation = simulation_of({{0, 10}, {0, 10}, {0, 10}, {0, 10}}, 10);
  std::vector<std::string> rows = bar_rows(lines_of(wp::report::gantt_chart(jobs, simulation, 40)));
  REQUIRE(rows.size() == 4);
  // The same start and end: every bar starts at the same column, and every
  // row is as wide.
  for (const std::string& row : rows) {
    INFO(row);
    CHECK(display_width(row.substr(0, row.find('#'))) == 40 / 3 + 1);  // the name's column
    CHECK(display_width(row) == display_width(rows[1]));
    CHECK(display_width(row) <= 40);
  }
  // The long name is cut between characters: what is left is whole ones.
  std::string shown = rows[0].substr(0, rows[0].find(' '));
  CHECK(nihongo.rfind(shown, 0) == 0);
  CHECK(display_width(shown) == 12);
  CHECK(rows[2].rfind("cafe\u0301 ", 0) == 0);
  CHECK(rows[3].rfind("\U0001F680go ", 0) == 0);
}

TEST_CASE("plan: no line of the chart or the utilisation strips is wider than the width",
          "[report][plan]") {
  PlanJobs jobs = jobs_of({repeated("\u65e5\u672c\u8a9e", 8), "ab", std::string(40, 'x'),
                           repeated("e\u0301", 30), "never", repeated("\U0001F680", 20)});
  for (double makespan : {0.5, 20.0, 400000.0}) {
    Simulation simulation = simulation_of({{0, makespan / 2},
                                           {makespan / 4, makespan},
                                           {0, makespan / 3},
                                           {makespan / 2, makespan},
                                           {-1, -1},
                                           {0, makespan}},
                                          makespan);
    for (size_t width = wp::report::kMinPlanWidth; width <= 130; ++width) {
      INFO("makespan " << makespan << ", width " << width);
      std::string text = wp::report::plan_text(jobs, simulation, {true, width});
      std::vector<std::string> lines = lines_of(text.substr(text.find("\nutilisation ") + 1));
      REQUIRE(lines.size() >= 13);  // header, 2 strips, a blank, 6 rows, axis, labels, legend
      for (size_t i = 1; i < lines.size(); ++i) {
        INFO(lines[i]);
        CHECK(display_width(lines[i]) <= width);
      }
      CHECK(bar_rows(lines).size() == 5);
    }
  }
}

TEST_CASE("plan: a cpu used strip only where predictions of use differ from the CPU held",
          "[report][plan]") {
  PlanJobs jobs = jobs_of({"a", "b"});
  Simulation simulation = simulation_of({{0, 10}, {0, 10}}, 10);
  simulation.cores = 2;
  // Both jobs hold a core each for 10 s, and keep `busy` cores busy.
  auto strips = [&](double busy) {
    simulation.usage = {{0, jobs.capacity, busy}};
    std::string text = wp::report::plan_text(jobs, simulation, {false, 60});
    std::vector<std::string> lines = lines_of(text.substr(text.find("\nutilisation ") + 1));
    std::vector<std::string> out;
    for (size_t i = 1; i < lines.size() && lines[i].rfind("  ", 0) == 0; ++i)
      out.push_back(lines[i]);
    return out;
  };
  std::vector<std::string> same = strips(2);
  REQUIRE(same.size() == 2);
  CHECK(same[0].rfind("  cpu       [@", 0) == 0);
  CHECK(same[0].substr(same[0].size() - 6) == "] 100%");
  CHECK(same[1].rfind("  memory    [@", 0) == 0);
  std::vector<std::string> light = strips(0.5);
  REQUIRE(light.size() == 3);
  CHECK(light[0].rfind("  cpu held  [@", 0) == 0);
  CHECK(light[1].rfind("  cpu used  [:", 0) == 0);  // a quarter of the cores: 2 eighths, ':'
  CHECK(light[1].substr(light[1].size() - 6) == "]  25%");
  CHECK(light[2].rfind("  memory    [", 0) == 0);
  for (const std::string& line : light)
    CHECK(display_width(line) <= 60);
}

TEST_CASE("plan: strategies compared with a cpu used column only where it differs",
          "[report][plan]") {
  PlanJobs jobs = jobs_of({"a", "b"});
  // Two strategies, each a 10 s plan of two jobs holding a core each.
  auto table = [&](double busy_first, double busy_second) {
    std::vector<Simulation> simulations;
    for (auto [strategy, busy] : {std::pair{wp::sched::Strategy::FirstFit, busy_first},
                                  std::pair{wp::sched::Strategy::BestFit, busy_second}}) {
      Simulation s = simulation_of({{0, 10}, {0, 10}}, 10);
      s.policy.strategy = strategy;
      s.cores = 2;
      s.usage = {{0, jobs.capacity, busy}};
      simulations.push_back(s);
    }
    std::string text = wp::report::comparison_text(jobs, simulations, 0, {false, 80});
    std::vector<std::string> lines = lines_of(text.substr(text.find("\n  strategy ") + 1));
    lines.resize(3);  // the heading and a row a strategy
    return lines;
  };
  std::vector<std::string> same = table(2, 2);
  CHECK(same[0].find(" cpu  memory ") != std::string::npos);
  CHECK(same[0].find("cpu used") == std::string::npos);
  CHECK(same[1].find(" 100%    100% ") != std::string::npos);  // cpu, memory
  // One strategy's jobs keep half a core busy between them: every row gets
  // the column, the other's showing the same as its CPU held.
  std::vector<std::string> light = table(2, 0.5);
  CHECK(light[0].find(" x bound  cpu held  cpu used  memory ") != std::string::npos);
  CHECK(light[1].find("      100%      100%    100% ") != std::string::npos);
  CHECK(light[2].find("      100%       25%    100% ") != std::string::npos);
}

TEST_CASE("plan chart: each bar shows where its job's run time comes from", "[report][plan]") {
  PlanJobs jobs = jobs_of({"history", "bounded", "guessed", "stuck"});
  jobs.sources = {DurationSource::Predicted, DurationSource::Timeout, DurationSource::Default,
                  DurationSource::Default};
  Simulation simulation = simulation_of({{0, 10}, {0, 20}, {10, 20}, {-1, -1}}, 20);
  std::vector<std::string> lines = lines_of(wp::report::gantt_chart(jobs, simulation, 60));
  REQUIRE(lines.size() == 7);  // four rows, the axis, its labels and the legend
  auto bar_of = [](const std::string& row) { return row.substr(8, 40); };
  CHECK(bar_of(lines[0]).find_first_not_of("# ") == std::string::npos);
  CHECK(bar_of(lines[1]).find_first_not_of("= ") == std::string::npos);
  CHECK(bar_of(lines[2]).find_first_not_of("? ") == std::string::npos);
  CHECK(lines[3].find("(never starts)") != std::string::npos);
  CHECK(lines[6] == std::string(8, ' ') + "# predicted  = timeout  ? assumed");

  // Only the marks the bars use, wrapped at the width.
  jobs.sources = {DurationSource::Timeout, DurationSource::Timeout, DurationSource::Timeout,
                  DurationSource::Predicted};
  lines = lines_of(wp::report::gantt_chart(jobs, simulation, 60));
  CHECK(lines.back() == std::string(8, ' ') + "= timeout");
  jobs.sources = {DurationSource::Predicted, DurationSource::Timeout, DurationSource::Default,
                  DurationSource::Default};
  lines = lines_of(wp::report::gantt_chart(jobs, simulation, 30));
  REQUIRE(lines.size() == 8);
  CHECK(lines[6] == std::string(8, ' ') + "# predicted  = timeout");
  CHECK(lines[7] == std::string(8, ' ') + "? assumed");
}

TEST_CASE("plan: only a full resource draws its strip full and reads 100%", "[report][plan]") {
  PlanJobs jobs = jobs_of({"a"});
  jobs.capacity.cpu = wp::Cores::from_double(10);
  for (auto [cores, mark, shown] : {std::tuple{8.9, '%', "89%"}, std::tuple{9.99, '%', "99%"},
                                    std::tuple{10.0, '@', "100%"}, std::tuple{0.5, '.', "5%"}}) {
    CAPTURE(cores);
    Simulation simulation = simulation_of({{0, 10}}, 10);
    simulation.cores = 10;
    wp::Resources held = jobs.capacity;
    held.cpu = wp::Cores::from_double(cores);
    simulation.usage = {{0, held, cores}};
    std::string text = wp::report::plan_text(jobs, simulation, {false, 80});
    std::string line = text.substr(text.find("  cpu "));
    line = line.substr(0, line.find('\n'));
    std::string strip = line.substr(line.find('[') + 1);
    strip = strip.substr(0, strip.find(']'));
    CHECK(strip.find_first_not_of(mark) == std::string::npos);
    CHECK_THAT(line, Catch::EndsWith(std::string(" ") + shown));
  }
}

TEST_CASE("plan: a steady load draws one character all along its strip", "[report][plan]") {
  // Two of three cores held for the whole plan: two thirds in every column,
  // which floating point makes a hair more or less than 6/9 from one column
  // to the next; each must still draw the same character.
  PlanJobs jobs = jobs_of({"a", "b"});
  jobs.capacity.cpu = wp::Cores::from_double(3);
  for (double makespan : {7.0, 10.0, 13.0, 99.0}) {
    CAPTURE(makespan);
    Simulation simulation = simulation_of({{0, makespan}, {0, makespan}}, makespan);
    simulation.cores = 3;
    wp::Resources held = jobs.capacity;
    held.cpu = wp::Cores::from_double(2);
    simulation.usage = {{0, held, 2}};
    std::string text = wp::report::plan_text(jobs, simulation, {false, 80});
    std::string strip = text.substr(text.find("  cpu "));
    strip = strip.substr(strip.find('[') + 1);
    strip = strip.substr(0, strip.find(']'));
    REQUIRE(strip.size() > 10);
    CHECK(strip.find_first_not_of(strip[0]) == std::string::npos);
  }
}
