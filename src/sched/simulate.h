// The schedule a manifest would get, without running anything: the same
// Scheduler, driven by a clock that jumps from one job's end to the next.
// `wp plan` shows it; the tests check strategies with it, deterministically.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "resources/quantity.h"
#include "sched/policy.h"
#include "sched/scheduler.h"

namespace wp::sched {

struct Slot {
  // Its first attempt's start; -1: never started (it cannot fit, waits for
  // one that cannot, or is `skipped`).
  double start = -1;
  double last_start = -1;  // its last attempt's start: `start` unless retried
  double end = -1;         // its last attempt's end
  int attempts = 0;        // started, retries included
  // An attempt's timeout came before its work was done (overcommitted CPU
  // slowed it, or its duration is longer): a run stops it there and fails
  // the attempt, and retries the job while it has retries left.
  bool timed_out = false;
  // Its last attempt timed out with no retry left: a run fails the job,
  // skips what depends on it and, without keep_going, starts nothing new.
  bool failed = false;
  // Its duration is its timeout (a bound on its length), and overcommitted
  // CPU slowed it to that timeout: it ends there with less done than the
  // lower bound counts for it, so a plan can end before its bound.
  bool cut_short = false;
  // Its place in the order the scheduler started jobs (0 first), which at
  // one instant is its decisions' order, not the manifest's.
  size_t sequence = 0;
  // Why a run would skip it, in the run's words (Scheduler::reason): a job
  // it depends on failed, or the run stopped at a failure. Empty for every
  // other job.
  std::string skipped;
};

// An attempt that timed out and was retried: every attempt of a job but its
// last, which its Slot holds.
struct RetriedAttempt {
  size_t job = 0;
  double start = 0;
  double end = 0;
};

// Wall time of Scheduler::admit_next(), over every call of a simulation.
struct DecisionTimes {
  size_t count = 0;
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Resources in use from `at` until the next step, and the cores the running
// attempts keep busy meanwhile (RunModel::cpu_use: what they are predicted
// to use, where in_use.cpu is what they were admitted with).
struct UsageStep {
  double at = 0;
  Resources in_use;
  double busy = 0;
};

struct Simulation {
  Policy policy;
  std::vector<Slot> slots;  // by job index
  double makespan = 0;
  std::vector<UsageStep> usage;  // in time order, starting at 0
  double cores = 0;              // that the jobs share (RunModel::cores, else the capacity's)
  DecisionTimes decisions;
  std::vector<RetriedAttempt> retried;  // by job; a job's in the order they ended
  size_t never_started = 0;             // slots never started, `skipped` ones included
  size_t skipped = 0;                   // slots with a `skipped` reason
  size_t timed_out = 0;                 // slots with timed_out
  size_t failed = 0;                    // slots with failed
  size_t cut_short = 0;                 // slots with cut_short
};

// How the run goes beyond what the scheduler decides: how much CPU each job
// keeps busy, on how many cores, and what the run does about an attempt
// that runs out of time (the only way a job fails in a simulation).
struct RunModel {
  // By job, the cores it keeps busy while it runs; empty: its demand's cpu.
  // What it admits is not what it uses: history measures a `sleep` at
  // 0.003 cores where admission holds 0.1.
  std::vector<double> cpu_use;
  // The cores the jobs share; 0: the capacity's. More where a run's cap is
  // below the machine: the cap limits what starts, not the cores they use.
  double cores = 0;
  std::vector<double> timeouts;  // by job, in seconds; empty or infinity: none
  std::vector<int> retries;      // by job: attempts allowed after the first; empty: none
  std::chrono::milliseconds retry_backoff{1000};  // before a first retry (see retry_delay)
  bool keep_going = false;  // after a job fails, keep starting what does not need it

  double cpu_use_of(size_t job, const JobDemand& demand) const {
    return job < cpu_use.size() ? cpu_use[job] : demand.demand.cpu.as_double();
  }
  double timeout_of(size_t job) const {
    return job < timeouts.size() ? timeouts[job] : std::numeric_limits<double>::infinity();
  }
  int retries_of(size_t job) const { return job < retries.size() ? retries[job] : 0; }
};

// The retried attempts of `job` (Simulation::retried), in the order they ended.
std::span<const RetriedAttempt> retried_attempts(const Simulation& simulation, size_t job);

// Runs every job, each taking durations[i] seconds at full speed (what it
// will really take; jobs[i].duration is what the scheduler expects it to),
// and longer while the CPU the running jobs use (rules.cpu_use) exceeds the
// cores (as Policy::cpu_overcommit lets declarations do): then all share the
// cores fairly. A job with a
// wall-clock limit (rules.timeouts) ends there if it would run past it, as
// its timeout would stop it. Such an attempt is timed_out, unless the
// job's duration is that timeout (a bound on its length, not a measure of
// it: cut_short then, and it succeeds). As in a run, a timed-out job is
// retried after a backoff while it has retries left, and otherwise fails:
// what depends on it is skipped, and without keep_going nothing new starts.
// Every other attempt succeeds. Jobs that can never fit are left
// unstarted, with their dependents.
Simulation simulate(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                    const Resources& capacity, const Policy& policy, const RunModel& rules = {});

// No schedule can end sooner than any of these.
struct LowerBound {
  double cpu = 0;      // CPU-seconds / cores
  double memory = 0;   // memory x seconds / memory
  double iops = 0;     // the same for IOPS, when capacity has a figure
  double gpu = 0;      // and for GPUs, when there are any
  double longest = 0;  // the longest job
  double path = 0;     // the longest chain of dependencies
  double value() const;
};

// `cpu` is the larger of the CPU the jobs use (model.cpu_use) over the cores
// they run on (model.cores), and the CPU they declare over what admission
// lets them declare at once (the capacity's cores times `cpu_overcommit`).
LowerBound lower_bound(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                       const Resources& capacity, double cpu_overcommit = 1,
                       const RunModel& model = {});

// The share of each resource in use (cpu, memory, iops, gpu; 0..1, 0 where
// capacity has no figure), then of the cores kept busy (UsageStep::busy
// over Simulation::cores), averaged over `buckets` equal slices of the
// makespan. cpu is held, busy used: they differ where predictions say jobs
// use less CPU than they are admitted with.
enum Share : size_t { kCpuShare, kMemoryShare, kIopsShare, kGpuShare, kBusyShare };
using Shares = std::array<double, 5>;
std::vector<Shares> utilisation(const Simulation& simulation, const Resources& capacity,
                                size_t buckets);

}  // namespace wp::sched
