// The schedule a manifest would get, without running anything: the same
// Scheduler, driven by a clock that jumps from one job's end to the next.
// `wp plan` shows it; the tests check strategies with it, deterministically.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "resources/quantity.h"
#include "sched/policy.h"
#include "sched/scheduler.h"

namespace wp::sched {

struct Slot {
  double start = -1;  // -1: never started (it cannot fit, or a dependency never ran)
  double end = -1;
  // Its timeout came before its work was done (overcommitted CPU slowed
  // it, or its duration is longer): a run would stop it there, and fail it.
  bool timed_out = false;
  // Its duration is its timeout (a bound on its length), and overcommitted
  // CPU slowed it to that timeout: it ends there with less done than the
  // lower bound counts for it, so a plan can end before its bound.
  bool cut_short = false;
  // Its place in the order the scheduler started jobs (0 first), which at
  // one instant is its decisions' order, not the manifest's.
  size_t sequence = 0;
};

// Wall time of Scheduler::admit_next(), over every call of a simulation.
struct DecisionTimes {
  size_t count = 0;
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Resources in use from `at` until the next step.
struct UsageStep {
  double at = 0;
  Resources in_use;
};

struct Simulation {
  Policy policy;
  std::vector<Slot> slots;  // by job index
  double makespan = 0;
  std::vector<UsageStep> usage;  // in time order, starting at 0
  DecisionTimes decisions;
  size_t never_started = 0;
  size_t timed_out = 0;  // slots with timed_out
  size_t cut_short = 0;  // slots with cut_short
};

// Runs every job once, each taking durations[i] seconds at full speed (what
// it will really take; jobs[i].duration is what the scheduler expects it
// to), and longer while the declared CPU of the running jobs exceeds the
// cores (Policy::cpu_overcommit): then all share the cores fairly. A job
// with a wall-clock limit (timeouts[i], seconds; empty or infinity: none)
// ends there if the slowdown would take it past, as its timeout would
// stop it; it is timed_out unless its duration is that timeout (a bound on
// its length, not a measure of it: cut_short then). Every job succeeds. Jobs that can never fit are
// left unstarted, with their dependents.
Simulation simulate(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                    const Resources& capacity, const Policy& policy,
                    const std::vector<double>& timeouts = {});

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

LowerBound lower_bound(const std::vector<JobDemand>& jobs, const std::vector<double>& durations,
                       const Resources& capacity);

// The share of each resource in use (cpu, memory, iops, gpu; 0..1, 0 where
// capacity has no figure), averaged over `buckets` equal slices of the
// makespan.
using Shares = std::array<double, 4>;
std::vector<Shares> utilisation(const Simulation& simulation, const Resources& capacity,
                                size_t buckets);

}  // namespace wp::sched
