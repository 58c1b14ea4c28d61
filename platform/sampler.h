// How busy the machine is right now: CPU use, available memory, memory
// pressure, disk operations and network traffic. Implemented per platform
// (platform/linux/sampler.cpp); the core asks, it never reads /proc itself.
//
// Every metric is cached with its own time to live, so many readers within
// that time cost one read of the kernel's file. A read that fails (missing
// file, garbage, a kernel without PSI) gives "unknown" (nullopt) and is not
// retried before a back-off that doubles with each failure up to a ceiling:
// the sampler never throws and never stops a run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "platform/host.h"
#include "resources/quantity.h"

namespace wp::platform {

using SamplerClock = std::chrono::steady_clock;
// Where the sampler gets the time; tests pass a hand-moved clock.
using SamplerNow = std::function<SamplerClock::time_point()>;

struct SamplerIntervals {
  std::chrono::milliseconds cpu{1000};
  std::chrono::milliseconds memory{250};
  std::chrono::milliseconds pressure{1000};
  std::chrono::milliseconds disk{1000};
  std::chrono::milliseconds network{1000};
  // A failing metric is retried after twice its interval, then four times...
  // up to this.
  std::chrono::milliseconds max_backoff{30000};
};

// PSI "avg10" figures: the percentage of the last 10 seconds in which some
// (or all) non-idle tasks were stalled waiting for memory.
struct Pressure {
  double some_avg10 = 0;
  double full_avg10 = 0;
};

// One reading of every metric; nullopt is "unknown".
struct Utilisation {
  // Share of all the machine's CPUs that were busy since the previous read,
  // 0..1. Needs two reads: unknown on the first.
  std::optional<double> cpu_use;
  std::optional<Bytes> memory_available;           // the machine's MemAvailable
  std::optional<Pressure> memory_pressure;         // the machine's PSI
  std::optional<Pressure> cgroup_memory_pressure;  // this process's cgroup (v2 only)
  // The tightest limit minus usage (less inactive page cache, which the
  // kernel drops before it would OOM) over this process's memory cgroup and
  // its ancestors; nothing when none of them has a limit.
  std::optional<Bytes> cgroup_memory_headroom;
  // Reads plus writes completed per second on whole disks; two reads needed.
  std::optional<double> disk_ops_per_second;
  // Bytes received plus sent per second on every interface but loopback;
  // two reads needed.
  std::optional<double> network_bytes_per_second;
};

class Sampler {
 public:
  explicit Sampler(HostRoots roots = {}, SamplerIntervals intervals = {}, SamplerNow now = {});
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  std::optional<double> cpu_use();
  std::optional<Bytes> memory_available();
  std::optional<Pressure> memory_pressure();
  std::optional<Pressure> cgroup_memory_pressure();
  // Reads cgroup_memory_pressure() from this cgroup v2 directory instead of
  // this process's own: a run's cgroup holds every job, which wp's own
  // cgroup may not (wp in "<run>/supervisor", or beside the run).
  void use_pressure_of(std::filesystem::path cgroup_dir);
  std::optional<Bytes> cgroup_memory_headroom();  // cached with the memory interval
  std::optional<double> disk_ops_per_second();
  std::optional<double> network_bytes_per_second();
  Utilisation sample();  // all of the above

  // Files read so far (attempts, failed ones included): what the caches save.
  uint64_t reads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Two samples `window` apart with no caching, so that rates cover the window:
// what `wp info` shows. Sleeps for the window.
Utilisation sample_over(std::chrono::milliseconds window, const HostRoots& roots = {});

}  // namespace wp::platform
