// The sampler's own cost: reads every metric every 250 ms, as a run loop
// would, for N seconds (default 30), then prints this process's CPU time
// (getrusage user + system) as a percentage of one core over the wall time.
// Not a test: run through tests/bench/sampler_overhead.sh.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "platform/sampler.h"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono;
  const double duration_s = argc > 1 ? std::atof(argv[1]) : 30.0;
  const auto period = milliseconds(250);

  wp::platform::Sampler sampler;
  uint64_t samples = 0;
  const double cpu_before = cpu_seconds();
  const auto start = steady_clock::now();
  auto next = start;
  while (duration<double>(steady_clock::now() - start).count() < duration_s) {
    wp::platform::Utilisation now = sampler.sample();
    (void)now;
    ++samples;
    next += period;
    std::this_thread::sleep_until(next);
  }
  const double wall = duration<double>(steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_before;
  std::printf("samples %llu every %lld ms, file reads %llu\n",
              static_cast<unsigned long long>(samples), static_cast<long long>(period.count()),
              static_cast<unsigned long long>(sampler.reads()));
  std::printf("cpu %.4f s over %.1f s wall: %.4f%% of one core (goal < 0.1%%)\n", cpu, wall,
              100.0 * cpu / wall);
  return 0;
}
