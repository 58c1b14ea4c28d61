// How the scheduler chooses among ready jobs: the packing strategy and the
// knobs of aging. Shared by `wp run`, `wp plan` and the tests.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace wp::sched {

// Which of the ready jobs that fit is started. Every strategy looks at the
// same jobs (see Policy::window) and keeps priorities and the reservation of
// the job at the head of the queue; they differ only in which one they take.
enum class Strategy {
  FirstFit,   // the first in queue order
  BestFit,    // the one that leaves the least free, summed over dimensions
  WorstFit,   // the one that leaves the most free
  Alignment,  // the one whose demand points most the way the free resources do
};

inline constexpr std::array<Strategy, 4> kStrategies{Strategy::FirstFit, Strategy::BestFit,
                                                     Strategy::WorstFit, Strategy::Alignment};

// "first-fit", "best-fit", "worst-fit", "alignment".
std::string_view to_string(Strategy strategy);
std::optional<Strategy> parse_strategy(std::string_view text);

struct Policy {
  // First-fit in queue order (critical path first) packs best on mixed
  // workloads: see tests/bench/decisions.sh and wp-run(1).
  Strategy strategy = Strategy::FirstFit;
  // How many queued jobs one decision looks at, from the head of the queue:
  // a decision costs O(window), whatever the length of the queue.
  size_t window = 64;
  // Seconds of waiting worth one step of priority to the ready jobs of a
  // priority that start none (see scheduler.h). A job at the head of the
  // queue for this long also claims what it waits for, which no backfill
  // takes then. 0 turns both off.
  double aging = 300;
  // How far the declared CPU of the running jobs may exceed the cores, as a
  // factor (1: never). CPU is shared in time: too much of it slows the jobs
  // that share it, by at most this factor, where too much memory kills them.
  // It lets jobs that mostly wait (declared at a fraction of a core) start
  // beside jobs that fill the cores. Memory, IOPS and GPUs are never
  // overcommitted. See wp-run(1) SCHEDULING for how the default was chosen.
  double cpu_overcommit = 1.25;
};

}  // namespace wp::sched
