// The Linux sampler: /proc/stat, /proc/meminfo, /proc/pressure/memory, the
// cgroup's memory.pressure, /proc/diskstats and /proc/net/dev, each behind
// its own cache (see platform/sampler.h for the contract).
#include "platform/sampler.h"

#include <algorithm>
#include <thread>

#include "platform/linux/host_internal.h"
#include "platform/linux/sampler_internal.h"
#include "util/log.h"

namespace wp::platform {
namespace {

using Duration = SamplerClock::duration;
using TimePoint = SamplerClock::time_point;

// What one read of a metric gave: `ok` false when the file could not be read
// or parsed (back off); a rate's first read is ok but has no value yet.
template <typename T>
struct Outcome {
  bool ok = false;
  std::optional<T> value;
};

// One metric's last value and when it may be read again.
template <typename T>
class Cached {
 public:
  Cached(std::chrono::milliseconds ttl, std::chrono::milliseconds max_backoff)
      : ttl_(ttl), max_backoff_(max_backoff) {}

  template <typename Read>
  std::optional<T> get(TimePoint now, Read&& read) {
    if (next_read_ && now < *next_read_) return value_;
    Outcome<T> outcome = read();
    value_ = outcome.value;
    failures_ = outcome.ok ? 0 : std::min(failures_ + 1, 16);
    next_read_ = now + retry_after();
    return value_;
  }

  int failures() const { return failures_; }

 private:
  // ttl after a good read; 2, 4, 8... times ttl after successive failures,
  // never more than max_backoff (nor less than ttl, if ttl is the larger).
  Duration retry_after() const {
    if (failures_ == 0) return ttl_;
    Duration backoff = ttl_ * (int64_t{1} << failures_);
    return std::max<Duration>(ttl_, std::min<Duration>(backoff, max_backoff_));
  }

  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds max_backoff_;
  std::optional<TimePoint> next_read_;  // nothing: never read
  std::optional<T> value_;
  int failures_ = 0;
};

// The previous reading of a monotonic counter, to turn the next into a rate.
struct Counter {
  std::optional<uint64_t> value;
  TimePoint at;

  // Per second since the previous reading; nothing on the first, after a
  // failure, or when the counter went backwards (a device went away).
  std::optional<double> advance(std::optional<uint64_t> now_value, TimePoint now) {
    std::optional<uint64_t> before = value;
    TimePoint then = at;
    value = now_value;
    at = now;
    if (!before || !now_value || *now_value < *before || now <= then) return std::nullopt;
    double seconds = std::chrono::duration<double>(now - then).count();
    return static_cast<double>(*now_value - *before) / seconds;
  }
};

}  // namespace

struct Sampler::Impl {
  Impl(HostRoots host_roots, const SamplerIntervals& intervals, SamplerNow clock)
      : roots(std::move(host_roots)),
        now(clock ? std::move(clock) : SamplerNow(&SamplerClock::now)),
        cpu(intervals.cpu, intervals.max_backoff),
        memory(intervals.memory, intervals.max_backoff),
        pressure(intervals.pressure, intervals.max_backoff),
        cgroup_pressure(intervals.pressure, intervals.max_backoff),
        disk(intervals.disk, intervals.max_backoff),
        network(intervals.network, intervals.max_backoff) {}

  std::optional<std::string> read(const std::filesystem::path& path) {
    ++reads;
    std::optional<std::string> text = detail::read_text(path);
    if (!text) log::get("sampler")->debug("cannot read {}; reported as unknown", path.string());
    return text;
  }

  Outcome<double> read_cpu() {
    std::optional<std::string> text = read(roots.proc / "stat");
    std::optional<detail::CpuTimes> times = text ? detail::parse_proc_stat(*text) : std::nullopt;
    std::optional<detail::CpuTimes> before = cpu_before;
    cpu_before = times;
    if (!times) return {};
    // Jiffies, not seconds: the share of busy ticks needs no clock.
    if (!before || times->total <= before->total || times->busy < before->busy) return {true, {}};
    double busy = static_cast<double>(times->busy - before->busy);
    double total = static_cast<double>(times->total - before->total);
    return {true, std::min(1.0, busy / total)};
  }

  Outcome<Bytes> read_memory() {
    std::optional<std::string> text = read(roots.proc / "meminfo");
    std::optional<uint64_t> available =
        text ? detail::meminfo_bytes(*text, "MemAvailable") : std::nullopt;
    return {available.has_value(), available};
  }

  Outcome<Pressure> read_pressure(const std::filesystem::path& path) {
    std::optional<std::string> text = path.empty() ? std::nullopt : read(path);
    std::optional<Pressure> figures = text ? detail::parse_pressure(*text) : std::nullopt;
    return {figures.has_value(), figures};
  }

  // memory.pressure of this process's cgroup on the unified hierarchy; empty
  // without one (cgroup v1 has no PSI files). Found once: a process does not
  // usually move between cgroups, and finding it reads several files.
  const std::filesystem::path& cgroup_pressure_path() {
    if (!cgroup_dir_found) {
      cgroup_dir_found = true;
      detail::CgroupView view = detail::read_cgroups(roots);
      if (!view.unified.empty())
        cgroup_pressure_file = view.unified.front().dir / "memory.pressure";
    }
    return cgroup_pressure_file;
  }

  template <typename Parse>
  Outcome<double> read_rate(const std::filesystem::path& path, Parse parse, Counter& counter,
                            TimePoint at) {
    std::optional<std::string> text = read(path);
    std::optional<uint64_t> total = text ? parse(*text) : std::nullopt;
    std::optional<double> rate = counter.advance(total, at);
    return {total.has_value(), rate};
  }

  HostRoots roots;
  SamplerNow now;
  uint64_t reads = 0;
  Cached<double> cpu;
  std::optional<detail::CpuTimes> cpu_before;
  Cached<Bytes> memory;
  Cached<Pressure> pressure;
  Cached<Pressure> cgroup_pressure;
  bool cgroup_dir_found = false;
  std::filesystem::path cgroup_pressure_file;
  Cached<double> disk;
  Counter disk_before;
  Cached<double> network;
  Counter network_before;
};

Sampler::Sampler(HostRoots roots, SamplerIntervals intervals, SamplerNow now)
    : impl_(std::make_unique<Impl>(std::move(roots), intervals, std::move(now))) {}

Sampler::~Sampler() = default;

std::optional<double> Sampler::cpu_use() {
  return impl_->cpu.get(impl_->now(), [&] { return impl_->read_cpu(); });
}

std::optional<Bytes> Sampler::memory_available() {
  return impl_->memory.get(impl_->now(), [&] { return impl_->read_memory(); });
}

std::optional<Pressure> Sampler::memory_pressure() {
  return impl_->pressure.get(impl_->now(), [&] {
    return impl_->read_pressure(impl_->roots.proc / "pressure" / "memory");
  });
}

std::optional<Pressure> Sampler::cgroup_memory_pressure() {
  return impl_->cgroup_pressure.get(
      impl_->now(), [&] { return impl_->read_pressure(impl_->cgroup_pressure_path()); });
}

std::optional<double> Sampler::disk_ops_per_second() {
  TimePoint at = impl_->now();
  return impl_->disk.get(at, [&] {
    return impl_->read_rate(impl_->roots.proc / "diskstats", detail::parse_diskstats,
                            impl_->disk_before, at);
  });
}

std::optional<double> Sampler::network_bytes_per_second() {
  TimePoint at = impl_->now();
  return impl_->network.get(at, [&] {
    return impl_->read_rate(impl_->roots.proc / "net" / "dev", detail::parse_net_dev,
                            impl_->network_before, at);
  });
}

Utilisation Sampler::sample() {
  Utilisation out;
  out.cpu_use = cpu_use();
  out.memory_available = memory_available();
  out.memory_pressure = memory_pressure();
  out.cgroup_memory_pressure = cgroup_memory_pressure();
  out.disk_ops_per_second = disk_ops_per_second();
  out.network_bytes_per_second = network_bytes_per_second();
  return out;
}

uint64_t Sampler::reads() const {
  return impl_->reads;
}

Utilisation sample_over(std::chrono::milliseconds window, const HostRoots& roots) {
  SamplerIntervals uncached{};
  uncached.cpu = uncached.memory = uncached.pressure = uncached.disk = uncached.network =
      std::chrono::milliseconds(0);
  uncached.max_backoff = std::chrono::milliseconds(0);
  Sampler sampler(roots, uncached);
  sampler.sample();
  std::this_thread::sleep_for(window);
  return sampler.sample();
}

}  // namespace wp::platform
