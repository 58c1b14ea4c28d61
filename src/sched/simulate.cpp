#include "sched/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <queue>
#include <tuple>

namespace wp::sched {
namespace {

// When an attempt ends on the clock of work done at full speed, which runs
// slower than the wall clock while the CPU is overcommitted; or, on the wall
// clock, when its timeout would stop it; or, for a job waiting to be
// retried, when it is queued again (attempt unused).
struct Ending {
  double at = 0;
  size_t job = 0;
  int attempt = 0;  // the job's attempts when this one started
  bool operator>(const Ending& other) const {
    return std::tie(at, job, attempt) > std::tie(other.at, other.job, other.attempt);
  }
};
using Endings = std::priority_queue<Ending, std::vector<Ending>, std::greater<>>;

// The two clocks, and the running jobs' ends on each.
struct Clocks {
  double now = 0;      // wall
  double work = 0;     // work done at full speed
  size_t started = 0;  // jobs started so far
  Endings endings;     // on the work clock
  Endings timeouts;    // on the wall clock
  Endings requeues;    // on the wall clock
  double busy = 0;     // cores the running attempts use (RunModel::cpu_use)
  size_t running = 0;  // attempts running
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

// What each job takes at full speed, and what happens when it runs out of
// time (see simulate).
struct Inputs {
  const std::vector<JobDemand>& jobs;
  const std::vector<double>& durations;
  const RunModel& rules;
  double cores;  // that the jobs share

  // No job keeps more cores busy than there are: a prediction above them
  // was measured elsewhere, or is noise.
  double cpu_use(size_t job) const { return std::min(rules.cpu_use_of(job, jobs[job]), cores); }
  double timeout(size_t job) const { return rules.timeout_of(job); }
  int retries(size_t job) const { return rules.retries_of(job); }
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
    Slot& slot = slots[*job];
    if (slot.attempts == 0) {
      slot.start = scheduler.now();
      slot.sequence = clocks.started++;
    }
    int attempt = ++slot.attempts;
    slot.last_start = clocks.now;
    clocks.busy += in.cpu_use(*job);
    ++clocks.running;
    clocks.endings.push({clocks.work + in.durations[*job], *job, attempt});
    if (std::isfinite(in.timeout(*job))) {
      clocks.timeouts.push({clocks.now + in.timeout(*job), *job, attempt});
    }
  }
}

// An ending of an attempt that has already ended (by the other clock).
bool stale(const Ending& ending, const Scheduler& scheduler, const std::vector<Slot>& slots) {
  return scheduler.state(ending.job) != JobState::Running ||
         slots[ending.job].attempts != ending.attempt;
}

void drop_stale(Endings& endings, const Scheduler& scheduler, const std::vector<Slot>& slots) {
  while (!endings.empty() && stale(endings.top(), scheduler, slots))
    endings.pop();
}

// An attempt ends: its cores are free.
void stop_using(size_t job, const Inputs& in, Clocks& clocks) {
  clocks.busy -= in.cpu_use(job);
  // Sums and differences of doubles drift: nothing running uses nothing.
  if (--clocks.running == 0) clocks.busy = 0;
}

// A timed-out attempt, as `wp run` takes it: the job waits out a backoff
// and goes back in the queue while it has retries left; else it fails, its
// dependents are skipped, and without keep_going the run stops starting jobs.
void time_out(size_t job, Scheduler& scheduler, const Inputs& in, Clocks& clocks, Simulation& out) {
  Slot& slot = out.slots[job];
  slot.timed_out = true;
  stop_using(job, in, clocks);
  if (slot.attempts <= in.retries(job)) {
    out.retried.push_back({job, slot.last_start, clocks.now});
    scheduler.retry_later(job);
    std::chrono::duration<double> delay = retry_delay(in.rules.retry_backoff, slot.attempts);
    clocks.requeues.push({clocks.now + delay.count(), job, slot.attempts});
    return;
  }
  slot.end = clocks.now;
  slot.failed = true;
  scheduler.finished(job, false);
  if (!in.rules.keep_going && !scheduler.stopped()) {
    scheduler.stop(Scheduler::failure_stop_reason(in.jobs[job].name), false);
  }
}

// Ends every attempt of `endings` due at `at` (on its clock), at wall time
// now. `cut`: by their timeouts, before their work was done.
void end_due(Endings& endings, double at, Scheduler& scheduler, const Inputs& in, Clocks& clocks,
             Simulation& out, bool cut) {
  while (!endings.empty() && endings.top().at == at) {
    Ending ending = endings.top();
    endings.pop();
    if (stale(ending, scheduler, out.slots)) continue;
    size_t job = ending.job;
    // A duration that is the timeout itself is a bound, not a measure: the
    // job takes at most that, and ending there says nothing of a failure.
    if (cut && in.durations[job] != in.timeout(job)) {
      time_out(job, scheduler, in, clocks, out);
      continue;
    }
    out.slots[job].end = clocks.now;
    out.slots[job].cut_short = cut;
    stop_using(job, in, clocks);
    scheduler.finished(job, true);
  }
}

// Queues again every job whose backoff ends by now.
void requeue_due(Clocks& clocks, Scheduler& scheduler) {
  while (!clocks.requeues.empty() && clocks.requeues.top().at <= clocks.now) {
    scheduler.requeue(clocks.requeues.top().job);
    clocks.requeues.pop();
  }
}

// How fast running jobs progress: at full speed while the CPU they use fits
// the cores, else each gets its share of them (the kernel shares CPU time
// fairly), so an overcommitted plan pays for it in its makespan.
double speed(double busy, double cores) {
  return busy > cores && cores > 0 ? cores / busy : 1.0;
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

// Moves both clocks to wall time `at`, the work clock at `pace`.
void advance(Clocks& clocks, Scheduler& scheduler, double at, double pace) {
  clocks.work += (at - clocks.now) * pace;
  clocks.now = at;
  scheduler.set_now(at);
}

// The next thing to happen: the earliest of the next attempt to end, the
// next timeout and the next requeue, each handled as the runner's event loop
// would: every attempt ending at one instant frees its share before the next
// decision, as the runner reaps all exits of one wakeup.
void next_event(Scheduler& scheduler, const Inputs& in, Clocks& clocks, Simulation& out) {
  constexpr double kNone = std::numeric_limits<double>::infinity();
  double pace = speed(clocks.busy, in.cores);
  double work_end = clocks.endings.empty() ? kNone : clocks.endings.top().at;
  double end_wall = clocks.endings.empty() ? kNone : clocks.now + (work_end - clocks.work) / pace;
  double timeout = clocks.timeouts.empty() ? kNone : clocks.timeouts.top().at;
  double requeue = clocks.requeues.empty() ? kNone : clocks.requeues.top().at;
  // A timeout within rounding of the work's end is no timeout: a job whose
  // duration is its timeout ends by the work clock when nothing slows it.
  // Rounding is a few units in the last place of the clock's reading, so
  // relative to it, but far finer than any timeout: at 1e-9 of the clock,
  // a plan 3e8 s long took a 0.3 s overrun for none.
  double tolerance = 1e-12 * std::max(1.0, std::isfinite(end_wall) ? end_wall : timeout);
  if (timeout < end_wall - tolerance && timeout <= requeue) {
    advance(clocks, scheduler, timeout, pace);
    end_due(clocks.timeouts, timeout, scheduler, in, clocks, out, true);
  } else if (end_wall <= requeue) {
    advance(clocks, scheduler, end_wall, pace);
    clocks.work = work_end;  // exactly, for the other attempts due with it
    end_due(clocks.endings, work_end, scheduler, in, clocks, out, false);
  } else {
    advance(clocks, scheduler, requeue, pace);
  }
  requeue_due(clocks, scheduler);
}

void count(Simulation& out, const Scheduler& scheduler) {
  for (size_t job = 0; job < out.slots.size(); ++job) {
    Slot& slot = out.slots[job];
    if (slot.start < 0) ++out.never_started;
    if (slot.start < 0 && scheduler.state(job) == JobState::Skipped) {
      slot.skipped = scheduler.reason(job);
      ++out.skipped;
    }
    if (slot.timed_out) ++out.timed_out;
    if (slot.failed) ++out.failed;
    if (slot.cut_short) ++out.cut_short;
  }
}

}  // namespace

Simulation simulate(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                    const Resources& capacity, const Policy& policy, const RunModel& rules) {
  Simulation out;
  out.policy = policy;
  out.slots.resize(jobs.size());
  Scheduler scheduler(jobs, capacity, policy);
  Clocks clocks;
  Inputs in{jobs, durations, rules, rules.cores > 0 ? rules.cores : seconds_of(capacity.cpu)};
  std::vector<double> micros;
  // Every running job progresses at the same speed, so one clock of work
  // done tells when each ends; the wall clock advances by it over the speed.
  admit_all(scheduler, in, clocks, out.slots, micros);
  out.cores = in.cores;
  out.usage.push_back({0, scheduler.tracker().in_use(), clocks.busy});
  while (!clocks.endings.empty() || !clocks.requeues.empty()) {
    next_event(scheduler, in, clocks, out);
    admit_all(scheduler, in, clocks, out.slots, micros);
    out.usage.push_back({clocks.now, scheduler.tracker().in_use(), clocks.busy});
    out.makespan = clocks.now;
    drop_stale(clocks.endings, scheduler, out.slots);
    drop_stale(clocks.timeouts, scheduler, out.slots);
  }
  count(out, scheduler);
  // By job, for retried_attempts(); each job's stay in the order they ended.
  std::stable_sort(out.retried.begin(), out.retried.end(),
                   [](const RetriedAttempt& a, const RetriedAttempt& b) { return a.job < b.job; });
  out.decisions = summarise(std::move(micros));
  return out;
}

double LowerBound::value() const {
  return std::max({cpu, memory, iops, gpu, longest, path});
}

std::span<const RetriedAttempt> retried_attempts(const Simulation& simulation, size_t job) {
  auto [first, last] = std::equal_range(
      simulation.retried.begin(), simulation.retried.end(), RetriedAttempt{job, 0, 0},
      [](const RetriedAttempt& a, const RetriedAttempt& b) { return a.job < b.job; });
  return {first, last};
}

LowerBound lower_bound(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                       const Resources& capacity, double cpu_overcommit, const RunModel& model) {
  LowerBound bound;
  double cpu_area = 0, used_area = 0, memory_area = 0, iops_area = 0, gpu_area = 0;
  double cores = model.cores > 0 ? model.cores : seconds_of(capacity.cpu);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Resources& d = jobs[i].demand;
    double t = durations[i];
    cpu_area += seconds_of(d.cpu) * t;
    used_area += std::min(model.cpu_use_of(i, jobs[i]), cores) * t;  // as Inputs::cpu_use
    memory_area += static_cast<double>(d.memory) * t;
    iops_area += static_cast<double>(d.iops) * t;
    gpu_area += static_cast<double>(d.gpu) * t;
    bound.longest = std::max(bound.longest, t);
  }
  bound.path = longest_chain(jobs, durations);
  if (capacity.cpu.millis() > 0) {
    double admitted = seconds_of(capacity.cpu) * std::max(1.0, cpu_overcommit);
    bound.cpu = std::max(used_area / cores, cpu_area / admitted);
  }
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
  double cores = simulation.cores > 0 ? simulation.cores : seconds_of(capacity.cpu);
  auto shares_of = [&](const UsageStep& step) {
    auto share = [](double part, double total) { return total > 0 ? part / total : 0.0; };
    const Resources& used = step.in_use;
    double iops_total = capacity.iops == Resources::kUnlimited ? 0 : double(capacity.iops);
    // Declared CPU beyond the cores (overcommit) still keeps them only busy.
    return Shares{std::min(1.0, share(seconds_of(used.cpu), seconds_of(capacity.cpu))),
                  share(double(used.memory), double(capacity.memory)),
                  share(double(used.iops), iops_total), share(double(used.gpu), capacity.gpu),
                  std::min(1.0, share(step.busy, cores))};
  };
  const std::vector<UsageStep>& steps = simulation.usage;
  for (size_t s = 0; s < steps.size(); ++s) {
    double from = steps[s].at;
    double to = s + 1 < steps.size() ? steps[s + 1].at : simulation.makespan;
    if (!(to > from)) continue;
    Shares shares = shares_of(steps[s]);
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
