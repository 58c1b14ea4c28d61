// wp_sched_bench [JOBS] [SEED] [OVERCOMMIT]: the cost of one scheduling
// decision with a long queue. Simulates JOBS jobs (default 100000) of mixed
// demands (1 in 4 memory-heavy, a few with IOPS), durations (1 in 5
// unknown), priorities and dependency chains on a 2-core, 6 GiB machine
// with every strategy, at a CPU overcommit (default wp run's), and
// prints per strategy the decisions made, their median, p99 and largest
// wall time, the makespan against its lower bound, and this process's peak
// RSS. Not a test: timing belongs in benchmarks (tests/bench/decisions.sh).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sched/simulate.h"

namespace {

using wp::Cores;
using wp::Resources;
using wp::sched::JobDemand;

constexpr uint64_t kMiB = 1ull << 20;

struct Workload {
  std::vector<JobDemand> jobs;
  std::vector<double> actual;
};

Workload generate(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> kind(0, 99);
  std::uniform_real_distribution<double> seconds(0.5, 60), noise(0.8, 1.2);
  std::uniform_int_distribution<uint64_t> small(16, 512), large(1024, 3072);
  Workload w;
  w.jobs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    int k = kind(random);
    JobDemand job;
    job.name = "job-" + std::to_string(i);
    bool memory_heavy = k < 25;
    job.demand.cpu = Cores::from_double(memory_heavy ? 0.1 : (k < 60 ? 1.0 : 0.5));
    job.demand.memory = (memory_heavy ? large(random) : small(random)) * kMiB;
    job.demand.iops = k >= 95 ? 500 : 0;
    job.priority = k % 10 == 0 ? 1 : 0;
    // Chains of up to 4: pipelines among the batch.
    if (i % 4 != 0 && k < 30) job.after.push_back(i - 1);
    double expected = seconds(random);
    if (k % 5 != 0) job.duration = expected;
    w.actual.push_back(expected * noise(random));
    w.jobs.push_back(std::move(job));
  }
  return w;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  unsigned seed = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)) : 1;
  double overcommit = argc > 3 ? std::strtod(argv[3], nullptr) : wp::sched::Policy{}.cpu_overcommit;
  Workload w = generate(count, seed);
  Resources capacity;
  capacity.cpu = Cores::from_double(2);
  capacity.memory = 6 * 1024 * kMiB;
  capacity.iops = 1000;
  auto bound = wp::sched::lower_bound(w.jobs, w.actual, capacity);
  std::printf("%zu jobs, 2 cores, 6 GiB, 1000 IOPS; lower bound %.0f s\n", count, bound.value());
  std::printf("%-10s %10s %10s %10s %10s %12s %8s %10s\n", "strategy", "decisions", "median_us",
              "p99_us", "max_us", "makespan_s", "x_bound", "rss_MiB");
  for (wp::sched::Strategy strategy : wp::sched::kStrategies) {
    wp::sched::Policy policy;
    policy.strategy = strategy;
    policy.cpu_overcommit = overcommit;
    wp::sched::Simulation sim = wp::sched::simulate(w.jobs, w.actual, capacity, policy);
    std::printf("%-10s %10zu %10.2f %10.2f %10.1f %12.0f %8.3f %10.1f\n",
                std::string(wp::sched::to_string(strategy)).c_str(), sim.decisions.count,
                sim.decisions.median_us, sim.decisions.p99_us, sim.decisions.max_us, sim.makespan,
                sim.makespan / bound.value(), static_cast<double>(peak_rss_kib()) / 1024.0);
  }
  return 0;
}
