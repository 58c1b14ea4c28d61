// How many cores this process may use: the machine's online CPUs, narrowed by
// the affinity mask, cpusets and CFS quotas anywhere up the cgroup tree. The
// tightest wins; a quota of 1.5 cores stays 1.5 (Cores is milli-cores).
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

struct Figure {
  Cores cores;
  std::string source;
};

void consider(std::optional<Figure>& best, Cores cores, std::string source) {
  // Strictly tighter only: on a tie the earlier, more basic figure explains it best.
  if (!best || cores < best->cores) best = Figure{cores, std::move(source)};
}

Cores whole(int cpus) {
  return Cores::from_millis(int64_t{cpus} * 1000);
}

// The online CPUs: sys's online list, else the processors /proc/cpuinfo lists.
std::optional<Figure> online_cpus(const HostRoots& roots) {
  if (auto text = read_text(roots.sys / "devices/system/cpu/online")) {
    if (auto count = count_cpu_list(*text); count && *count > 0) {
      return Figure{whole(*count),
                    fmt::format("{} online CPUs in /sys/devices/system/cpu/online", *count)};
    }
  }
  if (auto text = read_text(roots.proc / "cpuinfo")) {
    int count = 0;
    for (std::string_view line : split(*text, '\n')) {
      if (line.rfind("processor", 0) == 0 && line.find(':') != std::string_view::npos) ++count;
    }
    if (count > 0) return Figure{whole(count), fmt::format("{} CPUs in /proc/cpuinfo", count)};
  }
  if (is_real_machine(roots)) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    if (count > 0) {
      return Figure{whole(static_cast<int>(count)), fmt::format("{} online CPUs (sysconf)", count)};
    }
  }
  return std::nullopt;
}

// "150000 100000" is 1.5 cores; "max 100000" is no quota.
std::optional<Cores> quota_cores(std::optional<int64_t> quota, std::optional<int64_t> period) {
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  // Beyond this the quota is no limit at all (and quota * 1000 would overflow).
  if (*quota > INT64_MAX / 1000 - *period) return std::nullopt;
  int64_t millis = (*quota * 1000 + *period / 2) / *period;
  return Cores::from_millis(std::max<int64_t>(1, millis));
}

void unified_limits(const CgroupView& cgroups, const std::string& host_note,
                    std::optional<Figure>& best) {
  for (const CgroupDir& cgroup : cgroups.unified) {
    if (auto text = read_text(cgroup.dir / "cpu.max")) {
      std::vector<std::string_view> parts = split(trim(*text), ' ');
      if (parts.size() == 2) {
        if (auto cores = quota_cores(parse_i64(parts[0]), parse_i64(parts[1]))) {
          consider(best, *cores,
                   fmt::format("cgroup v2 cpu.max {}/{} at {}{}", parts[0], parts[1], cgroup.path,
                               host_note));
        }
      }
    }
    if (auto text = read_text(cgroup.dir / "cpuset.cpus.effective")) {
      if (auto count = count_cpu_list(*text); count && *count > 0) {
        consider(best, whole(*count),
                 fmt::format("cgroup v2 cpuset.cpus.effective {} at {}{}", trim(*text), cgroup.path,
                             host_note));
      }
    }
  }
}

void v1_limits(const CgroupView& cgroups, const std::string& host_note,
               std::optional<Figure>& best) {
  if (auto it = cgroups.v1.find("cpu"); it != cgroups.v1.end()) {
    for (const CgroupDir& cgroup : it->second) {
      auto quota = read_text(cgroup.dir / "cpu.cfs_quota_us");
      auto period = read_text(cgroup.dir / "cpu.cfs_period_us");
      if (!quota || !period) continue;
      if (auto cores = quota_cores(parse_i64(*quota), parse_i64(*period))) {
        consider(best, *cores,
                 fmt::format("cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us {}/{} at {}{}",
                             trim(*quota), trim(*period), cgroup.path, host_note));
      }
    }
  }
  if (auto it = cgroups.v1.find("cpuset"); it != cgroups.v1.end()) {
    for (const CgroupDir& cgroup : it->second) {
      auto text = read_text(cgroup.dir / "cpuset.cpus");
      if (!text) continue;
      if (auto count = count_cpu_list(*text); count && *count > 0) {
        consider(
            best, whole(*count),
            fmt::format("cgroup v1 cpuset.cpus {} at {}{}", trim(*text), cgroup.path, host_note));
      }
    }
  }
}

}  // namespace

void probe_cpu(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host) {
  std::optional<Figure> best = online_cpus(roots);
  host.host_cpus = best ? best->cores : Cores();
  std::string host_note =
      best ? fmt::format(" (host has {} CPUs)", best->cores.millis() / 1000) : "";

  // Read from a file, not sched_getaffinity, so that fixture trees can set it.
  if (auto status = read_text(roots.proc / "self/status")) {
    if (auto list = key_value(*status, "Cpus_allowed_list")) {
      if (auto count = count_cpu_list(*list); count && *count > 0) {
        consider(best, whole(*count),
                 fmt::format("affinity mask Cpus_allowed_list {}{}", *list, host_note));
      }
    }
  }
  unified_limits(cgroups, host_note, best);
  v1_limits(cgroups, host_note, best);

  if (best) {
    host.cpu = best->cores;
    host.cpu_source = best->source;
  } else {
    // Nothing readable at all: one core is the only safe guess that still runs jobs.
    host.cpu = whole(1);
    host.cpu_source = "unknown (no CPU count readable; assuming 1)";
  }
}

}  // namespace wp::platform::detail
