// The Linux sampler: /proc/stat, /proc/meminfo, /proc/pressure/memory, the
// cgroup's memory.pressure and memory limits, /proc/diskstats and
// /proc/net/dev, each behind its own cache (see platform/sampler.h for the
// contract).
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

// The files that give one cgroup's memory limit and usage, per hierarchy.
struct MemoryFiles {
  const char* limit;
  const char* usage;
  const char* inactive_file;  // the memory.stat field, hierarchical on both
  std::optional<detail::MemoryLimit> (*parse_limit)(std::string_view);
};
constexpr MemoryFiles kV2Memory{"memory.max", "memory.current", "inactive_file",
                                detail::parse_memory_max};
constexpr MemoryFiles kV1Memory{"memory.limit_in_bytes", "memory.usage_in_bytes",
                                "total_inactive_file", detail::parse_memory_limit_in_bytes};

}  // namespace

struct Sampler::Impl {
  Impl(HostRoots host_roots, const SamplerIntervals& intervals, SamplerNow clock)
      : roots(std::move(host_roots)),
        now(clock ? std::move(clock) : SamplerNow(&SamplerClock::now)),
        cpu(intervals.cpu, intervals.max_backoff),
        memory(intervals.memory, intervals.max_backoff),
        pressure(intervals.pressure, intervals.max_backoff),
        cgroup_pressure(intervals.pressure, intervals.max_backoff),
        headroom(intervals.memory, intervals.max_backoff),
        disk(intervals.disk, intervals.max_backoff),
        network(intervals.network, intervals.max_backoff) {}

  std::optional<std::string> read(const std::filesystem::path& path) {
    ++reads;
    std::optional<std::string> text = detail::read_text(path);
    if (!text) log::get("sampler")->debug("cannot read {}; reported as unknown", path.string());
    return text;
  }

  // For files whose absence is normal (a cgroup without a limit of its own).
  std::optional<std::string> read_if_present(const std::filesystem::path& path) {
    ++reads;
    return detail::read_text(path);
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

  // This process's cgroups, as the capacity probe finds them. Found once: a
  // process does not usually move between cgroups, and finding them reads
  // several files.
  const detail::CgroupView& cgroups() {
    if (!cgroup_view) cgroup_view = detail::read_cgroups(roots);
    return *cgroup_view;
  }

  // memory.pressure of this process's cgroup on the unified hierarchy; empty
  // without one (cgroup v1 has no PSI files).
  std::filesystem::path cgroup_pressure_path() {
    if (!pressure_dir.empty()) return pressure_dir / "memory.pressure";
    const detail::CgroupView& view = cgroups();
    if (view.unified.empty()) return {};
    return view.unified.front().dir / "memory.pressure";
  }

  // The tightest headroom over this process's memory cgroup and its
  // ancestors on every hierarchy that has them: a parent's limit binds its
  // children. Unknown without a cgroup, or when any file is garbage (a
  // partial answer could miss the binding limit); nothing when no level has
  // a limit.
  Outcome<Bytes> read_headroom() {
    const detail::CgroupView& view = cgroups();
    auto v1 = view.v1.find("memory");
    if (view.unified.empty() && v1 == view.v1.end()) return {};
    std::optional<Bytes> tightest;
    auto walk = [&](const std::vector<detail::CgroupDir>& chain, const MemoryFiles& files) {
      for (const detail::CgroupDir& cgroup : chain) {
        Outcome<Bytes> level = read_level_headroom(cgroup.dir, files);
        if (!level.ok) return false;
        if (level.value && (!tightest || *level.value < *tightest)) tightest = level.value;
      }
      return true;
    };
    if (!walk(view.unified, kV2Memory)) return {};
    if (v1 != view.v1.end() && !walk(v1->second, kV1Memory)) return {};
    return {true, tightest};
  }

  // One cgroup's headroom; ok with nothing when it has no limit: no limit
  // file (the v2 root, a cgroup whose parent does not delegate memory) or an
  // unlimited one.
  Outcome<Bytes> read_level_headroom(const std::filesystem::path& dir, const MemoryFiles& files) {
    std::optional<std::string> limit_text = read_if_present(dir / files.limit);
    if (!limit_text) return {true, {}};
    std::optional<detail::MemoryLimit> limit = files.parse_limit(*limit_text);
    if (!limit) return garbage(dir / files.limit);
    if (limit->unlimited) return {true, {}};
    std::optional<std::string> usage_text = read(dir / files.usage);
    std::optional<uint64_t> usage = usage_text ? detail::parse_u64(*usage_text) : std::nullopt;
    if (!usage) return garbage(dir / files.usage);
    // Without memory.stat, all of the usage counts: the headroom is smaller,
    // never larger, than the truth.
    std::optional<std::string> stat = read_if_present(dir / "memory.stat");
    Bytes inactive_file =
        stat ? detail::parse_memory_stat(*stat, files.inactive_file).value_or(0) : 0;
    return {true, detail::memory_headroom(limit->bytes, *usage, inactive_file)};
  }

  Outcome<Bytes> garbage(const std::filesystem::path& path) {
    log::get("sampler")->debug("{} is missing or garbage; cgroup headroom reported as unknown",
                               path.string());
    return {};
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
  Cached<Bytes> headroom;
  std::optional<detail::CgroupView> cgroup_view;
  std::filesystem::path pressure_dir;  // use_pressure_of(); empty: our own cgroup's
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

void Sampler::use_pressure_of(std::filesystem::path cgroup_dir) {
  impl_->pressure_dir = std::move(cgroup_dir);
}

std::optional<Bytes> Sampler::cgroup_memory_headroom() {
  return impl_->headroom.get(impl_->now(), [&] { return impl_->read_headroom(); });
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
  out.cgroup_memory_headroom = cgroup_memory_headroom();
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
