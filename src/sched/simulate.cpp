#include "sched/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <queue>

namespace wp::sched {
namespace {

// (work time, job): when the job ends on the clock of work done at full
// speed, which runs slower than the wall clock while the CPU is overcommitted.
using Ending = std::pair<double, size_t>;
using Endings = std::priority_queue<Ending, std::vector<Ending>, std::greater<>>;

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

// Starts every job the scheduler admits at the current time, timing each
// decision, including the last one that admits nothing.
void admit_all(Scheduler& scheduler, const std::vector<double>& durations, double work,
               std::vector<Slot>& slots, Endings& endings, std::vector<double>& micros) {
  using Clock = std::chrono::steady_clock;
  while (true) {
    Clock::time_point before = Clock::now();
    std::optional<size_t> job = scheduler.admit_next();
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
    if (!job) return;
    slots[*job].start = scheduler.now();
    endings.push({work + durations[*job], *job});
  }
}

// How fast running jobs progress: at full speed while their declared CPU
// fits the cores, else each gets its share of them (the kernel shares CPU
// time fairly), so an overcommitted plan pays for it in its makespan.
double speed(const Resources& in_use, const Resources& capacity) {
  double declared = seconds_of(in_use.cpu), cores = seconds_of(capacity.cpu);
  return declared > cores && cores > 0 ? cores / declared : 1.0;
}

}  // namespace

Simulation simulate(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                    const Resources& capacity, const Policy& policy) {
  Simulation out;
  out.policy = policy;
  out.slots.resize(jobs.size());
  Scheduler scheduler(jobs, capacity, policy);
  Endings endings;
  std::vector<double> micros;
  // Every running job progresses at the same speed, so one clock of work
  // done tells when each ends; the wall clock advances by it over the speed.
  double now = 0, work = 0;
  admit_all(scheduler, durations, work, out.slots, endings, micros);
  out.usage.push_back({0, scheduler.tracker().in_use()});
  while (!endings.empty()) {
    double next = endings.top().first;
    now += (next - work) / speed(scheduler.tracker().in_use(), capacity);
    work = next;
    scheduler.set_now(now);
    // Every job ending at this instant frees its share before the next
    // decision, as the runner's event loop reaps all exits of one wakeup.
    while (!endings.empty() && endings.top().first == work) {
      out.slots[endings.top().second].end = now;
      scheduler.finished(endings.top().second, true);
      endings.pop();
    }
    admit_all(scheduler, durations, work, out.slots, endings, micros);
    out.usage.push_back({now, scheduler.tracker().in_use()});
    out.makespan = now;
  }
  for (const Slot& slot : out.slots) {
    if (slot.start < 0) ++out.never_started;
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
  std::vector<double> path(jobs.size(), 0);
  // Manifest order lists a job after what it depends on only by chance, so
  // the path takes repeated passes until nothing changes (the graph is
  // acyclic: at most its depth + 1 passes, usually one or two).
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Resources& d = jobs[i].demand;
    double t = durations[i];
    cpu_area += seconds_of(d.cpu) * t;
    memory_area += static_cast<double>(d.memory) * t;
    iops_area += static_cast<double>(d.iops) * t;
    gpu_area += static_cast<double>(d.gpu) * t;
    bound.longest = std::max(bound.longest, t);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < jobs.size(); ++i) {
      double start = 0;
      for (size_t dep : jobs[i].after)
        start = std::max(start, path[dep]);
      if (start + durations[i] > path[i]) path[i] = start + durations[i], changed = true;
    }
  }
  for (double p : path)
    bound.path = std::max(bound.path, p);
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
  return out;
}

}  // namespace wp::sched
