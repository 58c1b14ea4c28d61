#include "sched/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <queue>

namespace wp::sched {
namespace {

// (work time, job): when the job ends on the clock of work done at full
// speed, which runs slower than the wall clock while the CPU is overcommitted.
// The same with wall time: when a job's timeout would stop it.
using Ending = std::pair<double, size_t>;
using Endings = std::priority_queue<Ending, std::vector<Ending>, std::greater<>>;

// The two clocks, and the running jobs' ends on each.
struct Clocks {
  double now = 0;      // wall
  double work = 0;     // work done at full speed
  size_t started = 0;  // jobs started so far
  Endings endings;     // on the work clock
  Endings timeouts;    // on the wall clock
};

double seconds_of(Cores cores) {
  return cores.as_double();
}

DecisionTimes summarise(std::vector<double> micros) {
  DecisionTimes out;
  out.count = micros.size();
  if (micros.empty()) return out;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(micros.size()))) - 1;
    return micros[std::min(i, micros.size() - 1)];
  };
  out.median_us = at(0.5);
  out.p99_us = at(0.99);
  out.max_us = micros.back();
  return out;
}

// What each job takes at full speed, and its timeout (see simulate).
struct Inputs {
  const std::vector<double>& durations;
  const std::vector<double>& timeouts;
};

// Starts every job the scheduler admits at the current time, timing each
// decision, including the last one that admits nothing.
void admit_all(Scheduler& scheduler, const Inputs& in, Clocks& clocks, std::vector<Slot>& slots,
               std::vector<double>& micros) {
  using Clock = std::chrono::steady_clock;
  while (true) {
    Clock::time_point before = Clock::now();
    std::optional<size_t> job = scheduler.admit_next();
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
    if (!job) return;
    slots[*job].start = scheduler.now();
    slots[*job].sequence = clocks.started++;
    clocks.endings.push({clocks.work + in.durations[*job], *job});
    if (*job < in.timeouts.size() && std::isfinite(in.timeouts[*job])) {
      clocks.timeouts.push({clocks.now + in.timeouts[*job], *job});
    }
  }
}

// Drops the ends of jobs that have already ended (by the other clock).
void drop_ended(Endings& endings, const std::vector<Slot>& slots) {
  while (!endings.empty() && slots[endings.top().second].end >= 0)
    endings.pop();
}

// Ends every job of `endings` due at `at` (on its clock), at wall time now.
// `cut`: by their timeouts, before their work was done.
void end_due(Endings& endings, double at, Scheduler& scheduler, const Inputs& in,
             std::vector<Slot>& slots, double now, bool cut) {
  while (!endings.empty() && endings.top().first == at) {
    size_t job = endings.top().second;
    endings.pop();
    if (slots[job].end >= 0) continue;
    slots[job].end = now;
    // A duration that is the timeout itself is a bound, not a measure: the
    // job takes at most that, and ending there says nothing of a failure.
    // (Only a cut job has a timeout: `timeouts` may be empty.)
    bool bound = cut && in.durations[job] == in.timeouts[job];
    slots[job].timed_out = cut && !bound;
    slots[job].cut_short = bound;
    scheduler.finished(job, true);
  }
}

// How fast running jobs progress: at full speed while their declared CPU
// fits the cores, else each gets its share of them (the kernel shares CPU
// time fairly), so an overcommitted plan pays for it in its makespan.
double speed(const Resources& in_use, const Resources& capacity) {
  double declared = seconds_of(in_use.cpu), cores = seconds_of(capacity.cpu);
  return declared > cores && cores > 0 ? cores / declared : 1.0;
}

// The longest chain of dependencies, in one pass over the jobs in an order
// where each comes after what it depends on (Kahn's): manifest order is that
// only by chance, and a chain written dependents first took a pass a link.
// Jobs on a cycle (which validation refuses) are left out.
double longest_chain(const std::vector<JobDemand>& jobs, const std::vector<double>& durations) {
  std::vector<std::vector<size_t>> dependents(jobs.size());
  std::vector<size_t> unmet(jobs.size(), 0);
  std::vector<size_t> order;
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (size_t dep : jobs[i].after)
      dependents[dep].push_back(i);
    unmet[i] = jobs[i].after.size();
    if (unmet[i] == 0) order.push_back(i);
  }
  std::vector<double> start(jobs.size(), 0);
  double longest = 0;
  for (size_t next = 0; next < order.size(); ++next) {
    size_t job = order[next];
    double end = start[job] + durations[job];
    longest = std::max(longest, end);
    for (size_t dependent : dependents[job]) {
      start[dependent] = std::max(start[dependent], end);
      if (--unmet[dependent] == 0) order.push_back(dependent);
    }
  }
  return longest;
}

}  // namespace

Simulation simulate(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                    const Resources& capacity, const Policy& policy,
                    const std::vector<double>& timeouts) {
  Simulation out;
  out.policy = policy;
  out.slots.resize(jobs.size());
  Scheduler scheduler(jobs, capacity, policy);
  Clocks clocks;
  Inputs in{durations, timeouts};
  std::vector<double> micros;
  // Every running job progresses at the same speed, so one clock of work
  // done tells when each ends; the wall clock advances by it over the speed.
  admit_all(scheduler, in, clocks, out.slots, micros);
  out.usage.push_back({0, scheduler.tracker().in_use()});
  while (!clocks.endings.empty()) {
    double pace = speed(scheduler.tracker().in_use(), capacity);
    double next = clocks.endings.top().first;
    double next_wall = clocks.now + (next - clocks.work) / pace;
    // Every job ending at this instant frees its share before the next
    // decision, as the runner's event loop reaps all exits of one wakeup.
    // A timeout within rounding of the work's end is no timeout: a job whose
    // duration is its timeout ends by the work clock when nothing slows it.
    double tolerance = 1e-9 * std::max(1.0, next_wall);
    if (!clocks.timeouts.empty() && clocks.timeouts.top().first < next_wall - tolerance) {
      double at = clocks.timeouts.top().first;
      clocks.work += (at - clocks.now) * pace;
      clocks.now = at;
      scheduler.set_now(clocks.now);
      end_due(clocks.timeouts, at, scheduler, in, out.slots, clocks.now, true);
    } else {
      clocks.now = next_wall;
      clocks.work = next;
      scheduler.set_now(clocks.now);
      end_due(clocks.endings, next, scheduler, in, out.slots, clocks.now, false);
    }
    admit_all(scheduler, in, clocks, out.slots, micros);
    out.usage.push_back({clocks.now, scheduler.tracker().in_use()});
    out.makespan = clocks.now;
    drop_ended(clocks.endings, out.slots);
    drop_ended(clocks.timeouts, out.slots);
  }
  for (const Slot& slot : out.slots) {
    if (slot.start < 0) ++out.never_started;
    if (slot.timed_out) ++out.timed_out;
    if (slot.cut_short) ++out.cut_short;
  }
  out.decisions = summarise(std::move(micros));
  return out;
}

double LowerBound::value() const {
  return std::max({cpu, memory, iops, gpu, longest, path});
}

LowerBound lower_bound(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                       const Resources& capacity) {
  LowerBound bound;
  double cpu_area = 0, memory_area = 0, iops_area = 0, gpu_area = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Resources& d = jobs[i].demand;
    double t = durations[i];
    cpu_area += seconds_of(d.cpu) * t;
    memory_area += static_cast<double>(d.memory) * t;
    iops_area += static_cast<double>(d.iops) * t;
    gpu_area += static_cast<double>(d.gpu) * t;
    bound.longest = std::max(bound.longest, t);
  }
  bound.path = longest_chain(jobs, durations);
  if (capacity.cpu.millis() > 0) bound.cpu = cpu_area / seconds_of(capacity.cpu);
  if (capacity.memory > 0) bound.memory = memory_area / static_cast<double>(capacity.memory);
  if (capacity.iops > 0 && capacity.iops != Resources::kUnlimited) {
    bound.iops = iops_area / static_cast<double>(capacity.iops);
  }
  if (capacity.gpu > 0) bound.gpu = gpu_area / capacity.gpu;
  return bound;
}

std::vector<Shares> utilisation(const Simulation& simulation, const Resources& capacity,
                                size_t buckets) {
  std::vector<Shares> out(buckets, Shares{});
  if (buckets == 0 || !(simulation.makespan > 0)) return out;
  double width = simulation.makespan / static_cast<double>(buckets);
  auto shares_of = [&](const Resources& used) {
    auto share = [](double part, double total) { return total > 0 ? part / total : 0.0; };
    double iops_total = capacity.iops == Resources::kUnlimited ? 0 : double(capacity.iops);
    // Declared CPU beyond the cores (overcommit) still keeps them only busy.
    return Shares{std::min(1.0, share(seconds_of(used.cpu), seconds_of(capacity.cpu))),
                  share(double(used.memory), double(capacity.memory)),
                  share(double(used.iops), iops_total), share(double(used.gpu), capacity.gpu)};
  };
  const std::vector<UsageStep>& steps = simulation.usage;
  for (size_t s = 0; s < steps.size(); ++s) {
    double from = steps[s].at;
    double to = s + 1 < steps.size() ? steps[s + 1].at : simulation.makespan;
    if (!(to > from)) continue;
    Shares shares = shares_of(steps[s].in_use);
    // Spread the step over the buckets it overlaps, weighted by overlap.
    size_t first = std::min(buckets - 1, static_cast<size_t>(from / width));
    for (size_t b = first; b < buckets; ++b) {
      double lo = std::max(from, width * double(b));
      double hi = std::min(to, width * double(b + 1));
      if (hi <= lo) {
        if (width * double(b) >= to) break;
        continue;
      }
      for (size_t r = 0; r < shares.size(); ++r)
        out[b][r] += shares[r] * (hi - lo) / width;
    }
  }
  // A full bucket summed from several steps can round to 1.0000000000000009.
  for (Shares& bucket : out) {
    for (double& share : bucket)
      share = std::clamp(share, 0.0, 1.0);
  }
  return out;
}

}  // namespace wp::sched
