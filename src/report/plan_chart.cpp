// The Gantt chart of `wp plan`. Everything is measured in terminal columns,
// not bytes: job names may be in any script, and a CJK name takes two
// columns a character.
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "report/plan.h"
#include "util/text_width.h"

namespace wp::report {
namespace {

// Up to this many rows of the chart; a plan of thousands of jobs is read in
// its JSON, not on a terminal.
constexpr size_t kChartRows = 60;
constexpr size_t kMinName = 4;
constexpr size_t kMaxName = 24;
constexpr size_t kMinBar = 10;  // the name gives up columns down to kMinName for these

// The bar of a job shows where its run time comes from: a prediction is the
// best guess, a timeout only an upper bound, the default a guess.
constexpr std::array<char, 3> kFill{'#', '=', '?'};
constexpr std::array<std::string_view, 3> kFillMeaning{"predicted", "timeout", "assumed"};
// The last column of an attempt its timeout stopped.
constexpr char kTimedOut = '!';

char fill_of(DurationSource source) {
  return kFill[static_cast<size_t>(source)];
}

struct ChartLayout {
  size_t name = 0;  // columns of the name
  size_t bar = 0;   // columns of the time axis
  size_t end = 0;   // columns after the bar: a space and the end time
  double makespan = 0;
  size_t column(double seconds) const {
    if (!(makespan > 0)) return 0;
    double at = std::round(seconds / makespan * static_cast<double>(bar));
    return static_cast<size_t>(std::clamp(at, 0.0, static_cast<double>(bar)));
  }
};

// The widest end time of the rows, and of the axis' last label.
size_t end_columns(const sched::Simulation& simulation, const std::vector<size_t>& rows) {
  size_t widest = seconds_text(simulation.makespan).size();
  for (size_t i : rows) {
    if (simulation.slots[i].start >= 0)
      widest = std::max(widest, seconds_text(simulation.slots[i].end).size());
  }
  return 1 + widest;
}

ChartLayout layout_of(const PlanJobs& jobs, const sched::Simulation& simulation,
                      const std::vector<size_t>& rows, size_t width) {
  size_t longest = kMinName;
  for (size_t i : rows)
    longest = std::max(longest, text::display_width(jobs.demands[i].name));
  ChartLayout layout;
  layout.end = end_columns(simulation, rows);
  layout.makespan = simulation.makespan;
  size_t room = width > layout.end + 1 ? width - layout.end - 1 : 0;  // for the name and bar
  layout.name = std::min({longest, kMaxName, std::max(kMinName, width / 3)});
  if (room >= kMinName + kMinBar) {
    layout.name = std::min(layout.name, room - kMinBar);
  } else {
    layout.name = std::min(layout.name, kMinName);
  }
  layout.bar = room > layout.name ? room - layout.name : 1;
  return layout;
}

// Draws one attempt, from `start` to `end`, on `bar`; returns the column of
// its end.
size_t draw_attempt(const ChartLayout& layout, std::string& bar, double start, double end,
                    char fill) {
  size_t from = std::min(layout.column(start), layout.bar - 1);
  size_t to = std::max(layout.column(end), from + 1);
  std::fill(bar.begin() + static_cast<ptrdiff_t>(from), bar.begin() + static_cast<ptrdiff_t>(to),
            fill);
  return to - 1;
}

// A job's row: every attempt on the time axis (`earlier` ones all timed
// out), or why it never starts, in the columns of the bar and the end time.
std::string chart_row(const ChartLayout& layout, const std::string& name, const sched::Slot& slot,
                      std::span<const sched::RetriedAttempt> earlier, DurationSource source) {
  std::string shown = text::fit_columns(name, layout.name);
  if (slot.start < 0) {
    std::string why = slot.skipped.empty() ? "(never starts)" : "(" + slot.skipped + ")";
    return fmt::format("{} {}\n", shown, text::prefix_columns(why, layout.bar + layout.end));
  }
  std::string bar(layout.bar, ' ');
  // Marks after every bar: a retry starting in the column where the attempt
  // before it timed out must not hide the mark.
  std::vector<size_t> marks;
  for (const sched::RetriedAttempt& attempt : earlier)
    marks.push_back(draw_attempt(layout, bar, attempt.start, attempt.end, fill_of(source)));
  size_t last = draw_attempt(layout, bar, slot.last_start, slot.end, fill_of(source));
  if (slot.failed) marks.push_back(last);
  for (size_t column : marks)
    bar[column] = kTimedOut;
  return fmt::format("{} {} {}\n", shown, bar, seconds_text(slot.end));
}

// "+---------+---------+" under the bars and the time at each tick below it,
// a label only where it fits before the next and within the width.
std::string time_axis(const ChartLayout& layout) {
  size_t intervals = std::max<size_t>(1, layout.bar / 12);
  std::string ticks(layout.bar + 1, '-');
  std::string labels;
  for (size_t i = 0; i <= intervals; ++i) {
    size_t column = i * layout.bar / intervals;
    ticks[column] = '+';
    std::string label = seconds_text(layout.makespan * static_cast<double>(column) /
                                     static_cast<double>(std::max<size_t>(1, layout.bar)));
    if (!labels.empty() && labels.size() + 1 > column) continue;
    if (column + label.size() > layout.bar + layout.end) continue;
    labels += std::string(column - labels.size(), ' ') + label;
  }
  std::string indent(layout.name + 1, ' ');
  return indent + ticks + "\n" + indent + labels + "\n";
}

// "# predicted  = timeout  ? assumed  ! timed out", for the marks the bars
// use, under the axis; wrapped where the width runs out.
std::string legend(const PlanJobs& jobs, const sched::Simulation& simulation,
                   const std::vector<size_t>& rows, const ChartLayout& layout, size_t width) {
  std::vector<std::string> items;
  std::array<bool, kFill.size()> used{};
  bool timed_out = false;
  for (size_t i : rows) {
    if (simulation.slots[i].start >= 0) used[static_cast<size_t>(jobs.sources[i])] = true;
    timed_out = timed_out || simulation.slots[i].timed_out;
  }
  for (size_t s = 0; s < kFill.size(); ++s) {
    if (used[s]) items.push_back(fmt::format("{} {}", kFill[s], kFillMeaning[s]));
  }
  if (timed_out) items.push_back(fmt::format("{} timed out", kTimedOut));
  std::string indent(layout.name + 1, ' ');
  std::string out;
  std::string line = indent;
  for (const std::string& item : items) {
    std::string sep = line.size() > indent.size() ? "  " : "";
    if (!sep.empty() && line.size() + sep.size() + item.size() > width) {
      out += line + "\n";
      line = indent;
      sep.clear();
    }
    line += sep + item;
  }
  if (line.size() > indent.size()) out += line + "\n";
  return out;
}

// Started jobs by start time, at one instant in the order the scheduler
// decided (Slot::sequence), then the others in manifest order.
std::vector<size_t> start_order(const sched::Simulation& simulation) {
  std::vector<size_t> order(simulation.slots.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](size_t i) {
    const sched::Slot& slot = simulation.slots[i];
    return std::pair(slot.start < 0 ? sched::Scheduler::kNever : slot.start, slot.sequence);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  return order;
}

std::string more_rows(size_t hidden, size_t width) {
  std::string text = fmt::format("... {} more {}", hidden, hidden == 1 ? "job" : "jobs");
  return std::string(text::prefix_columns(text, width)) + "\n";
}

}  // namespace

std::string gantt_chart(const PlanJobs& jobs, const sched::Simulation& simulation, size_t width) {
  width = std::max(width, kMinPlanWidth);
  std::vector<size_t> rows = start_order(simulation);
  size_t hidden = rows.size() > kChartRows ? rows.size() - kChartRows : 0;
  rows.resize(rows.size() - hidden);
  ChartLayout layout = layout_of(jobs, simulation, rows, width);
  std::string out;
  for (size_t i : rows) {
    out += chart_row(layout, jobs.demands[i].name, simulation.slots[i],
                     sched::retried_attempts(simulation, i), jobs.sources[i]);
  }
  if (hidden > 0) out += more_rows(hidden, width);
  return out + time_axis(layout) + legend(jobs, simulation, rows, layout, width);
}

}  // namespace wp::report
