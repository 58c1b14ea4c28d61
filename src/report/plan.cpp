#include "report/plan.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wp::report {
namespace {

// Shares of a resource from idle to full, one character each: ASCII reads on
// every terminal and in every CI log.
constexpr std::string_view kRamp = " .:-=+*#%@";
// By sched::Share.
constexpr std::array<std::string_view, std::tuple_size_v<sched::Shares>> kShareNames{
    "cpu", "memory", "iops", "gpu", "cpu used"};

std::string duration_text(double seconds) {
  auto millis = static_cast<int64_t>(std::llround(seconds * 1000));
  return format_duration(std::chrono::milliseconds(millis));
}

std::string plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// A hair: a column's share is a sum of time-weighted parts, and a steady
// 6/9 comes out a little over or under it from column to column.
constexpr double kRounding = 1e-9;

// The last character is for a full resource alone; the eight before it
// part the rest in eighths.
char ramp(double share) {
  if (!(share > 0)) return kRamp[0];
  if (share >= 1 - kRounding) return kRamp.back();
  auto level = static_cast<size_t>(std::ceil(share * 8 - kRounding));
  return kRamp[std::clamp<size_t>(level, 1, kRamp.size() - 2)];
}

// Only a full resource reads 100%: 99.7% of the cores is not all of them.
std::string percent(double share) {
  double shown = std::round(share * 100);
  if (shown >= 100 && share < 1 - kRounding) shown = 99;
  return fmt::format("{:.0f}%", shown);
}

// Whether the cores kept busy would draw otherwise than the CPU held: jobs
// predicted to use less than they hold, or --cpus below the machine's
// cores, make them differ; else a second strip would repeat the first.
bool busy_differs(const std::vector<sched::Shares>& buckets, const sched::Shares& average) {
  auto differs = [](const sched::Shares& s) {
    return ramp(s[sched::kCpuShare]) != ramp(s[sched::kBusyShare]);
  };
  return std::any_of(buckets.begin(), buckets.end(), differs) ||
         percent(average[sched::kCpuShare]) != percent(average[sched::kBusyShare]);
}

// Which shares a plan shows: cpu and memory always, the cores kept busy
// when they differ from the CPU held, IOPS and GPUs only when the capacity
// limits them and some job asks for them.
std::vector<size_t> shown_shares(const PlanJobs& jobs, bool busy) {
  std::vector<size_t> shown{sched::kCpuShare};
  if (busy) shown.push_back(sched::kBusyShare);
  shown.push_back(sched::kMemoryShare);
  if (jobs.bound.iops > 0) shown.push_back(sched::kIopsShare);
  if (jobs.bound.gpu > 0) shown.push_back(sched::kGpuShare);
  return shown;
}

// The average share of each resource over the whole makespan.
sched::Shares average_shares(const std::vector<sched::Shares>& buckets) {
  sched::Shares sum{};
  for (const sched::Shares& b : buckets) {
    for (size_t r = 0; r < sum.size(); ++r)
      sum[r] += b[r];
  }
  if (!buckets.empty()) {
    for (double& s : sum)
      s /= static_cast<double>(buckets.size());
  }
  return sum;
}

sched::Shares average_use(const PlanJobs& jobs, const sched::Simulation& simulation) {
  return average_shares(sched::utilisation(simulation, jobs.capacity, 200));
}

std::string trim_right(std::string text) {
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

std::string bound_text(const PlanJobs& jobs) {
  const sched::LowerBound& b = jobs.bound;
  std::string terms = fmt::format("cpu {}, memory {}", seconds_text(b.cpu), seconds_text(b.memory));
  if (b.iops > 0) terms += fmt::format(", iops {}", seconds_text(b.iops));
  if (b.gpu > 0) terms += fmt::format(", gpu {}", seconds_text(b.gpu));
  terms += fmt::format(", longest job {}, critical path {}", seconds_text(b.longest),
                       seconds_text(b.path));
  return fmt::format("{} ({})", seconds_text(b.value()), terms);
}

std::string ratio_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  double bound = jobs.bound.value();
  if (!(bound > 0)) return "-";
  return fmt::format("{:.2f}", simulation.makespan / bound);
}

// The ratio line: a plan that leaves jobs out can end below the bound,
// which counts every job.
std::string ratio_line(const PlanJobs& jobs, const sched::Simulation& simulation) {
  std::string out = fmt::format("{} x the lower bound", ratio_text(jobs, simulation));
  size_t missing = simulation.never_started;
  if (missing == 1) out += ", which counts the job that never starts";
  if (missing > 1) out += fmt::format(", which counts the {} jobs that never start", missing);
  return out;
}

std::string durations_text(const PlanJobs& jobs) {
  std::array<size_t, 3> count{};
  for (DurationSource source : jobs.sources)
    ++count[static_cast<size_t>(source)];
  return fmt::format("{} predicted, {} from timeouts, {} assumed", count[0], count[1], count[2]);
}

std::string header(const PlanJobs& jobs) {
  std::string out =
      fmt::format("wp plan: {}, {} on {}\n", jobs.manifest,
                  plural(jobs.demands.size(), "job", "jobs"), format_capacity(jobs.capacity));
  out += fmt::format("{:<14}{}\n", "lower bound", bound_text(jobs));
  out += fmt::format("{:<14}{}\n", "durations", durations_text(jobs));
  if (std::string note = default_note(jobs); !note.empty())
    out += fmt::format("{:<14}{}\n", "", note);
  return out;
}

// "a, b, c, d, e and 3 more": the jobs `pick` chooses by index.
template <typename Pick>
std::string some_names(const PlanJobs& jobs, const sched::Simulation& simulation, Pick pick) {
  std::vector<std::string> names;
  for (size_t i = 0; i < simulation.slots.size(); ++i) {
    if (pick(i)) names.push_back(jobs.demands[i].name);
  }
  constexpr size_t kNamed = 5;
  std::string list = fmt::format(
      "{}", fmt::join(names.begin(), names.begin() + std::min(names.size(), kNamed), ", "));
  if (names.size() > kNamed) list += fmt::format(" and {} more", names.size() - kNamed);
  return list;
}

// "<n> job(s) <what>: <names>", one colon, before the names; `what` is
// worded for `count` (singular or plural).
template <typename Pick>
std::string jobs_line(const PlanJobs& jobs, const sched::Simulation& simulation, size_t count,
                      std::string_view what, Pick pick) {
  return fmt::format("{} {}: {}", plural(count, "job", "jobs"), what,
                     some_names(jobs, simulation, pick));
}

// Never started and not skipped: what no schedule could start.
std::string never_started_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  size_t count = simulation.never_started - simulation.skipped;
  return jobs_line(jobs, simulation, count,
                   count == 1 ? "(it cannot fit, or waits for one that cannot)"
                              : "(they cannot fit, or wait for one that cannot)",
                   [&](size_t i) {
                     return simulation.slots[i].start < 0 && simulation.slots[i].skipped.empty();
                   });
}

std::string retried_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  auto retried = [&](size_t i) { return !sched::retried_attempts(simulation, i).empty(); };
  size_t count = 0;
  for (size_t i = 0; i < simulation.slots.size(); ++i)
    count += retried(i) ? 1 : 0;
  std::string what = fmt::format("({} in all, after a timeout; --retry-backoff {}, doubling)",
                                 plural(simulation.retried.size(), "retry", "retries"),
                                 format_duration(jobs.rules.retry_backoff));
  return jobs_line(jobs, simulation, count, what, retried);
}

std::string failed_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  return jobs_line(jobs, simulation, simulation.failed, "(timed out with no retry left)",
                   [&](size_t i) { return simulation.slots[i].failed; });
}

// Each skipped job's own reason is in the chart and the JSON.
std::string skipped_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  std::string what =
      fmt::format("(a job {} fails{})", simulation.skipped == 1 ? "it needs" : "they need",
                  jobs.rules.keep_going ? "" : ", or the run stops at a failure: see --keep-going");
  return jobs_line(jobs, simulation, simulation.skipped, what,
                   [&](size_t i) { return !simulation.slots[i].skipped.empty(); });
}

// A run time predicted longer than the timeout, or one CPU overcommit slows
// past it: either way the timeout comes first.
std::string timed_out_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  bool one = simulation.timed_out == 1;
  std::string what = fmt::format(
      "whose timeout comes before {} run time is over (predicted longer, or slowed by CPU "
      "overcommit), where a run would stop {}",
      one ? "its" : "their", one ? "it" : "them");
  return jobs_line(jobs, simulation, simulation.timed_out, what,
                   [&](size_t i) { return simulation.slots[i].timed_out; });
}

std::string cut_short_text(const PlanJobs& jobs, const sched::Simulation& simulation) {
  std::string_view their = simulation.cut_short == 1 ? "its" : "their";
  std::string what = fmt::format(
      "slowed by CPU overcommit to {} timeout, {} assumed run time, ending with less done "
      "than the lower bound counts",
      their, their);
  return jobs_line(jobs, simulation, simulation.cut_short, what,
                   [&](size_t i) { return simulation.slots[i].cut_short; });
}

std::string decisions_text(const sched::DecisionTimes& d) {
  return fmt::format("{} taken, median {:.1f}us, p99 {:.1f}us, max {:.1f}us", d.count, d.median_us,
                     d.p99_us, d.max_us);
}

// A line per resource, `width` columns in all: a strip of one character per
// slice of the makespan, then the average. With a "cpu used" line, the cpu
// line is "cpu held".
std::string utilisation_text(const PlanJobs& jobs, const sched::Simulation& simulation,
                             size_t width) {
  constexpr size_t kLabel = 12;  // "  cpu used  "
  constexpr size_t kAfter = 7;   // "[" before the strip, "] 100%" after it
  size_t buckets = width > kLabel + kAfter ? width - kLabel - kAfter : 1;
  std::vector<sched::Shares> shares = sched::utilisation(simulation, jobs.capacity, buckets);
  sched::Shares average = average_use(jobs, simulation);
  bool busy = busy_differs(shares, average);
  std::string out = fmt::format("{:<14}each column {}\n", "utilisation",
                                seconds_text(simulation.makespan / static_cast<double>(buckets)));
  for (size_t r : shown_shares(jobs, busy)) {
    std::string strip;
    for (const sched::Shares& bucket : shares)
      strip += ramp(bucket[r]);
    std::string_view name = busy && r == sched::kCpuShare ? "cpu held" : kShareNames[r];
    out += fmt::format("  {:<{}}[{}] {:>4}\n", name, kLabel - 2, strip, percent(average[r]));
  }
  return out;
}

}  // namespace

std::string seconds_text(double seconds) {
  return seconds > 0 ? format_seconds(seconds) : std::string("0s");
}

std::string_view to_string(DurationSource source) {
  switch (source) {
    case DurationSource::Predicted:
      return "predicted";
    case DurationSource::Timeout:
      return "timeout";
    case DurationSource::Default:
      return "default";
  }
  return "default";
}

std::string default_note(const PlanJobs& jobs) {
  auto assumed = static_cast<size_t>(
      std::count(jobs.sources.begin(), jobs.sources.end(), DurationSource::Default));
  if (assumed == 0) return {};
  return fmt::format("{} of {} {} no prediction or timeout: {} assumed", assumed,
                     plural(jobs.sources.size(), "job", "jobs"), assumed == 1 ? "has" : "have",
                     duration_text(jobs.default_duration));
}

std::string plan_text(const PlanJobs& jobs, const sched::Simulation& simulation,
                      const PlanView& view) {
  const sched::Policy& policy = simulation.policy;
  std::string out = header(jobs);
  out += fmt::format("{:<14}{} (aging {}, window {}, cpu overcommit {:g})\n", "strategy",
                     to_string(policy.strategy),
                     policy.aging > 0 ? duration_text(policy.aging) : "off", policy.window,
                     policy.cpu_overcommit);
  out += fmt::format("{:<14}{}\n", "makespan", seconds_text(simulation.makespan));
  out += fmt::format("{:<14}{}\n", "ratio", ratio_line(jobs, simulation));
  if (simulation.never_started > simulation.skipped) {
    out += fmt::format("{:<14}{}\n", "never started", never_started_text(jobs, simulation));
  }
  if (simulation.timed_out > 0) {
    out += fmt::format("{:<14}{}\n", "timed out", timed_out_text(jobs, simulation));
  }
  if (!simulation.retried.empty()) {
    out += fmt::format("{:<14}{}\n", "retried", retried_text(jobs, simulation));
  }
  if (simulation.failed > 0) {
    out += fmt::format("{:<14}{}\n", "failed", failed_text(jobs, simulation));
  }
  if (simulation.skipped > 0) {
    out += fmt::format("{:<14}{}\n", "skipped", skipped_text(jobs, simulation));
  }
  if (simulation.cut_short > 0) {
    out += fmt::format("{:<14}{}\n", "cut short", cut_short_text(jobs, simulation));
  }
  out += fmt::format("{:<14}{}\n", "decisions", decisions_text(simulation.decisions));
  out += utilisation_text(jobs, simulation, view.width);
  if (view.gantt && !jobs.demands.empty()) out += "\n" + gantt_chart(jobs, simulation, view.width);
  return out;
}

size_t best_of(const std::vector<sched::Simulation>& simulations) {
  auto better = [](const sched::Simulation& a, const sched::Simulation& b) {
    if (a.never_started != b.never_started) return a.never_started < b.never_started;
    if (a.failed != b.failed) return a.failed < b.failed;
    if (a.timed_out != b.timed_out) return a.timed_out < b.timed_out;
    return a.makespan < b.makespan - 1e-9;
  };
  size_t best = 0;
  for (size_t i = 1; i < simulations.size(); ++i) {
    const sched::Simulation& s = simulations[i];
    bool tie = !better(s, simulations[best]) && !better(simulations[best], s);
    bool preferred = s.policy.strategy == sched::Policy{}.strategy;
    if (better(s, simulations[best]) || (tie && preferred)) best = i;
  }
  return best;
}

std::string comparison_text(const PlanJobs& jobs, const std::vector<sched::Simulation>& simulations,
                            size_t best, const PlanView& view) {
  std::vector<sched::Shares> averages;
  for (const sched::Simulation& s : simulations)
    averages.push_back(average_use(jobs, s));
  // As the strips of one plan: a "cpu used" column where some strategy's
  // cores kept busy read otherwise than the CPU it holds.
  bool busy = std::any_of(averages.begin(), averages.end(), [](const sched::Shares& a) {
    return percent(a[sched::kCpuShare]) != percent(a[sched::kBusyShare]);
  });
  auto cpu_cells = [busy](std::string_view held, std::string_view used) {
    // Two blanks between headings, as between the others.
    return busy ? fmt::format("{:>9} {:>9}", held, used) : fmt::format("{:>5}", held);
  };
  std::string out = header(jobs) + "\n";
  out += fmt::format("  {:<12} {:>10} {:>8} {} {:>7} {:>10}\n", "strategy", "makespan", "x bound",
                     cpu_cells(busy ? "cpu held" : "cpu", "cpu used"), "memory", "decision");
  for (size_t i = 0; i < simulations.size(); ++i) {
    const sched::Simulation& s = simulations[i];
    const sched::Shares& average = averages[i];
    std::string marks;
    if (i == best) marks += "best";
    if (s.policy.strategy == sched::Policy{}.strategy)
      marks += marks.empty() ? "default" : ", default";
    if (s.never_started > 0) {
      marks += fmt::format("{}{} never started", marks.empty() ? "" : ", ", s.never_started);
    }
    if (s.timed_out > 0) {
      marks += fmt::format("{}{} timed out", marks.empty() ? "" : ", ", s.timed_out);
    }
    if (s.failed > 0) marks += fmt::format("{}{} failed", marks.empty() ? "" : ", ", s.failed);
    if (s.cut_short > 0) {
      marks += fmt::format("{}{} cut short", marks.empty() ? "" : ", ", s.cut_short);
    }
    std::string row = fmt::format(
        "{} {:<12} {:>10} {:>8} {} {:>7} {:>8.1f}us  {}", i == best ? '*' : ' ',
        to_string(s.policy.strategy), seconds_text(s.makespan), ratio_text(jobs, s),
        cpu_cells(percent(average[sched::kCpuShare]), percent(average[sched::kBusyShare])),
        percent(average[sched::kMemoryShare]), s.decisions.median_us, marks);
    out += trim_right(row) + "\n";
  }
  out += "(decision: the median time of one scheduling decision)\n";
  if (view.gantt && !simulations.empty() && !jobs.demands.empty()) {
    out += fmt::format("\n{}:\n", to_string(simulations[best].policy.strategy));
    out += gantt_chart(jobs, simulations[best], view.width);
  }
  return out;
}

}  // namespace wp::report
