// Job cgroups on cgroup v1: one directory per hierarchy (memory, cpu,
// cpuacct, blkio, freezer; co-mounted ones such as "cpu,cpuacct" once), each
// under wp's own cgroup in that hierarchy. Hybrid: cgroup2's directory
// stands in for cpuacct and freezer (see platform/job_cgroup.h).
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "platform/linux/job_cgroup_internal.h"
#include "util/log.h"

namespace wp::platform::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kWanted[] = {"memory", "cpu", "cpuacct", "blkio", "freezer"};

// blkio.throttle.io_serviced and io_service_bytes count a cgroup's I/O on a
// device only while blk-throttle is active for that device, and a throttle
// rule is what switches it on: on a machine where no rule was ever set they
// stay 0 (measured on 6.18). So every job cgroup gets a rule that never binds
// on every disk, and a real iops limit replaces it for its device. The
// kernel keeps iops limits as unsigned int with UINT_MAX meaning "no rule"
// (writing it, 0 or anything larger removes the rule), so UINT_MAX - 1 is the
// largest limit that still counts.
constexpr uint64_t kCountingIops = 4294967294;

constexpr uint64_t kCfsPeriodUs = 100000;
// The kernel refuses a CFS quota below 1 ms.
constexpr uint64_t kMinCfsQuotaUs = 1000;

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

const ProcCgroup* entry_of(const std::vector<ProcCgroup>& entries, std::string_view controller) {
  for (const ProcCgroup& entry : entries) {
    if (has(entry.controllers, controller)) return &entry;
  }
  return nullptr;
}

std::string in_order(const std::vector<std::string>& present, bool want_present) {
  std::vector<std::string> out;
  for (std::string_view name : kWanted) {
    if (has(present, name) == want_present) out.emplace_back(name);
  }
  return join_controllers(out);
}

std::optional<std::string> read(const CgroupPlace* place, std::string_view file) {
  if (!place) return std::nullopt;
  return read_in(*place, file);
}

std::optional<uint64_t> read_number(const CgroupPlace* place, std::string_view file) {
  if (!place) return std::nullopt;
  return read_u64_in(*place, file);
}

void add_error(std::vector<std::string>& errors, const Status& status) {
  if (!status) errors.push_back(status.error().message);
}

std::string no_hierarchy(std::string_view controller, std::string_view limit) {
  return fmt::format("no cgroup v1 {} hierarchy: the {} limit cannot be applied", controller,
                     limit);
}

void set_iops(const CgroupPlace& blkio, DeviceNumber device, uint64_t iops,
              std::vector<std::string>& errors) {
  std::string rule = fmt::format("{}:{} {}", device.major, device.minor, iops);
  add_error(errors, write_in(blkio, "blkio.throttle.read_iops_device", rule));
  add_error(errors, write_in(blkio, "blkio.throttle.write_iops_device", rule));
}

// _recursive includes the job's own child cgroups, should it make any.
std::optional<ReadWrite> read_blkio(const CgroupPlace* blkio, const std::string& file) {
  auto text = read(blkio, file + "_recursive");
  if (!text) text = read(blkio, file);
  if (!text) return std::nullopt;
  return parse_blkio_read_write(*text);
}

void read_cpu(const CgroupPlace* cpuacct, CgroupUsage& usage) {
  constexpr double kNanos = 1e9;
  if (auto total = read_number(cpuacct, "cpuacct.usage")) {
    usage.cpu_seconds = static_cast<double>(*total) / kNanos;
  }
  // The user/system split in one read (usage_all) rather than two.
  if (auto split = parse_cpuacct_usage_all(read(cpuacct, "cpuacct.usage_all").value_or(""))) {
    usage.user_seconds = static_cast<double>(split->user_ns) / kNanos;
    usage.system_seconds = static_cast<double>(split->system_ns) / kNanos;
    return;
  }
  auto user = read_number(cpuacct, "cpuacct.usage_user");
  auto system = read_number(cpuacct, "cpuacct.usage_sys");
  if (user && system) {
    usage.user_seconds = static_cast<double>(*user) / kNanos;
    usage.system_seconds = static_cast<double>(*system) / kNanos;
    return;
  }
  // Kernels before 4.7 have only cpuacct.stat, in USER_HZ ticks.
  auto stat = parse_cpuacct_stat(read(cpuacct, "cpuacct.stat").value_or(""));
  long ticks = ::sysconf(_SC_CLK_TCK);
  if (!stat || ticks <= 0) return;
  usage.user_seconds = static_cast<double>(stat->user_ticks) / static_cast<double>(ticks);
  usage.system_seconds = static_cast<double>(stat->system_ticks) / static_cast<double>(ticks);
}

// The cgroup2 files a hybrid job cgroup uses; cgroup.kill came last, in
// Linux 5.14 (cgroup.freeze 5.2, clone3 into a cgroup 5.7).
constexpr std::string_view kUnifiedFiles[] = {"cgroup.kill", "cgroup.freeze", "cpu.stat",
                                              "cgroup.events"};

// wp's own cgroup in the cgroup2 hierarchy, when one is mounted.
std::optional<OwnCgroup> own_cgroup2(const HostRoots& roots, const std::vector<Mount>& mounts,
                                     const std::vector<ProcCgroup>& entries) {
  auto mount = std::find_if(mounts.begin(), mounts.end(),
                            [](const Mount& m) { return m.fs_type == "cgroup2"; });
  if (mount == mounts.end()) return std::nullopt;
  std::string path = "/";
  for (const ProcCgroup& entry : entries) {
    if (entry.hierarchy == 0) path = entry.path;
  }
  return own_cgroup(roots, *mount, path);
}

struct UnifiedRun {
  CgroupPlace place;
  std::string path;  // the cgroup path, for the description
};

// The run directory in the cgroup2 hierarchy beside the v1 ones, under
// wp's own cgroup there. Without controllers a cgroup2 directory may hold
// processes and child cgroups alike, so no placement rule applies. Nothing,
// with why, when there is no such hierarchy, wp may not make a directory in
// it, or the kernel lacks a file it needs.
std::optional<UnifiedRun> unified_run(const std::optional<OwnCgroup>& own,
                                      const std::string& run_name, CreatedDirs& made,
                                      std::string& why) {
  if (!own) {
    why = "no cgroup2 hierarchy is mounted beside the v1 ones";
    return std::nullopt;
  }
  fs::path dir = own->dir / run_name;
  CreatedDirs probe;  // taken back unless every file is there
  if (int error = probe.make(dir, /*existing_ok=*/true)) {
    why = mkdir_error(dir, error).message;
    return std::nullopt;
  }
  for (std::string_view file : kUnifiedFiles) {
    if (file_exists(dir / file)) continue;
    why = fmt::format(
        "{} has no {}: the kernel is too old (Linux 5.14 or later has every file "
        "wp uses)",
        dir.string(), file);
    return std::nullopt;
  }
  made.adopt(probe);
  UnifiedRun run{{dir, {}, nullptr}, (own->path == "/" ? "" : own->path) + "/" + run_name};
  run.place.unified = true;
  return run;
}

// Whether a hierarchy with these of kWanted is needed: hybrid leaves out
// what cgroup2 does (cpuacct, freezer), and cpu without CPU quotas.
bool wanted_hierarchy(const std::vector<std::string>& controllers, bool cpu_limits, bool hybrid) {
  for (const std::string& name : controllers) {
    if (name == "memory" || name == "blkio") return true;
    if (name == "cpu" && cpu_limits) return true;
    if (!hybrid && name != "cpu") return true;
  }
  return false;
}

}  // namespace

Result<RunLayout> make_v1_run(const HostRoots& roots, const std::string& run_name, bool cpu_limits,
                              Unified unified) {
  std::vector<ProcCgroup> entries = read_proc_cgroups(roots);
  std::vector<Mount> mounts = read_mounts(roots);
  CreatedDirs made;
  std::optional<OwnCgroup> own2 = own_cgroup2(roots, mounts, entries);
  std::optional<UnifiedRun> beside;
  if (unified != Unified::No) {
    std::string why;
    beside = unified_run(own2, run_name, made, why);
    if (!beside && unified == Unified::Required) {
      return make_error("cannot use the cgroup2 hierarchy beside cgroup v1: {}", why);
    }
    if (!beside) log::get("cgroup")->debug("cgroup v1 without cgroup2: {}", why);
  }
  RunLayout layout;
  layout.version = 1;
  std::vector<std::string> present;
  std::string where;
  for (const Mount& mount : mounts) {
    if (mount.fs_type != "cgroup") continue;
    std::vector<std::string> controllers;
    for (std::string_view name : kWanted) {
      if (has(mount.super_options, name) && !has(present, name)) controllers.emplace_back(name);
    }
    if (controllers.empty()) continue;
    const ProcCgroup* entry = entry_of(entries, controllers.front());
    OwnCgroup own = own_cgroup(roots, mount, entry ? entry->path : mount.root);
    layout.neighbours.push_back(own.dir);
    if (!wanted_hierarchy(controllers, cpu_limits, beside.has_value())) continue;
    if (has(controllers, "memory") || where.empty()) {
      where = (own.path == "/" ? "" : own.path) + "/" + run_name;
    }
    present.insert(present.end(), controllers.begin(), controllers.end());
    layout.runs.push_back({own.dir / run_name, std::move(controllers), nullptr});
  }
  if (layout.runs.empty()) {
    return make_error(
        "no cgroup v1 hierarchy of {} is mounted (see /proc/self/mountinfo)",
        join_controllers(std::vector<std::string>(std::begin(kWanted), std::end(kWanted))));
  }
  for (const CgroupPlace& run : layout.runs) {
    // Our own name exists only if an earlier run of this same process left it.
    if (int error = made.make(run.dir, /*existing_ok=*/true)) return mkdir_error(run.dir, error);
  }
  made.release();
  if (own2) layout.neighbours.push_back(own2->dir);
  for (std::string_view name : kWanted) {
    bool by_cgroup2 = beside && (name == "cpuacct" || name == "freezer");
    if (!has(present, name) && (name != "cpu" || cpu_limits) && !by_cgroup2) {
      layout.missing.emplace_back(name);
    }
  }
  layout.description = fmt::format("cgroup v1 ({}) under {}", in_order(present, true), where);
  if (beside) {
    layout.description +=
        fmt::format(" and cgroup2 (CPU time, freeze, kill) under {}", beside->path);
    layout.runs.push_back(std::move(beside->place));
  }
  return layout;
}

void v1_prepare_job(const std::vector<CgroupPlace>& places,
                    const std::vector<DeviceNumber>& disks) {
  const CgroupPlace* blkio = find_place(places, "blkio");
  if (!blkio) return;
  std::vector<std::string> errors;
  for (DeviceNumber disk : disks) {
    set_iops(*blkio, disk, kCountingIops, errors);
  }
  for (const std::string& error : errors) {
    log::get("cgroup")->debug("blkio counting rule: {}", error);
  }
}

Status v1_apply(const std::vector<CgroupPlace>& places, const JobLimits& limits) {
  std::vector<std::string> errors;
  if (limits.memory) {
    if (const CgroupPlace* memory = find_place(places, "memory")) {
      std::string bytes = fmt::format("{}", *limits.memory);
      add_error(errors, write_in(*memory, "memory.limit_in_bytes", bytes));
      // Without swap accounting there is no memsw file, and swap is not
      // limited. memsw must stay >= the memory limit: memory goes first
      // (a reused cgroup's limit is lifted before it is raised).
      if (exists_in(*memory, "memory.memsw.limit_in_bytes")) {
        add_error(errors, write_in(*memory, "memory.memsw.limit_in_bytes", bytes));
      }
    } else {
      errors.push_back(no_hierarchy("memory", "memory"));
    }
  }
  if (limits.cpu) {
    if (const CgroupPlace* cpu = find_place(places, "cpu")) {
      uint64_t quota = std::max<uint64_t>(kMinCfsQuotaUs, limits.cpu->millis() * 100);
      add_error(errors, write_in(*cpu, "cpu.cfs_period_us", fmt::format("{}", kCfsPeriodUs)));
      add_error(errors, write_in(*cpu, "cpu.cfs_quota_us", fmt::format("{}", quota)));
    } else {
      errors.push_back(no_hierarchy("cpu", "cpu"));
    }
  }
  if (limits.iops) {
    const CgroupPlace* blkio = find_place(places, "blkio");
    if (!blkio) {
      errors.push_back(no_hierarchy("blkio", "iops"));
    } else if (!limits.io_device) {
      errors.emplace_back("the iops limit has no device to apply to");
    } else if (*limits.iops == 0 || *limits.iops >= kCountingIops) {
      errors.push_back(
          fmt::format("iops limit {} is out of range (1 to {})", *limits.iops, kCountingIops - 1));
    } else {
      set_iops(*blkio, *limits.io_device, *limits.iops, errors);
    }
  }
  return join_errors(errors);
}

uint64_t v1_oom_kills(const std::vector<CgroupPlace>& places) {
  const CgroupPlace* memory = find_place(places, "memory");
  auto oom = parse_oom_control(read(memory, "memory.oom_control").value_or(""));
  // Before oom_kill existed, being in an OOM right now is all we can see.
  return oom ? oom->oom_kill.value_or(oom->under_oom ? 1 : 0) : 0;
}

CgroupUsage v1_usage(const std::vector<CgroupPlace>& places, const CgroupUsage* before) {
  CgroupUsage usage;
  const CgroupPlace* memory = find_place(places, "memory");
  if (auto peak = read_number(memory, "memory.max_usage_in_bytes")) usage.peak_memory = *peak;
  usage.oom_kills = v1_oom_kills(places);
  // Hybrid counts CPU time in cgroup2 even where cpuacct comes along with
  // cpu (co-mounted, for CPU quotas): one source, as its description says.
  if (const CgroupPlace* unified = find_unified(places)) {
    v2_cpu_usage(*unified, usage);
  } else {
    read_cpu(find_place(places, "cpuacct"), usage);
  }
  const CgroupPlace* blkio = find_place(places, "blkio");
  if (auto ops = read_blkio(blkio, "blkio.throttle.io_serviced")) {
    usage.read_ops = ops->read;
    usage.write_ops = ops->write;
    // Bytes are counted with operations: no operation since `before`, no
    // byte either, and most small jobs do no block I/O at all.
    if (before && ops->read == before->read_ops.value_or(0) &&
        ops->write == before->write_ops.value_or(0)) {
      usage.read_bytes = before->read_bytes.value_or(0);
      usage.write_bytes = before->write_bytes.value_or(0);
      return usage;
    }
  }
  if (auto bytes = read_blkio(blkio, "blkio.throttle.io_service_bytes")) {
    usage.read_bytes = bytes->read;
    usage.write_bytes = bytes->write;
  }
  return usage;
}

std::optional<double> v1_cpu_seconds(const std::vector<CgroupPlace>& places) {
  if (const CgroupPlace* unified = find_unified(places)) return v2_cpu_seconds(*unified);
  auto nanos = read_number(find_place(places, "cpuacct"), "cpuacct.usage");
  if (!nanos) return std::nullopt;
  return static_cast<double>(*nanos) / 1e9;
}

std::optional<Bytes> v1_memory_current(const std::vector<CgroupPlace>& places) {
  return read_number(find_place(places, "memory"), "memory.usage_in_bytes");
}

std::optional<Bytes> v1_memory_left(const std::vector<CgroupPlace>& places) {
  auto text = read(find_place(places, "memory"), "memory.stat");
  if (!text) return std::nullopt;
  auto rss = flat_keyed_value(*text, "rss");
  auto cache = flat_keyed_value(*text, "cache");
  if (!rss && !cache) return std::nullopt;
  // swap: anon or tmpfs pages swapped out (only with swap accounting).
  return rss.value_or(0) + cache.value_or(0) + flat_keyed_value(*text, "swap").value_or(0);
}

Status v1_freeze(const std::vector<CgroupPlace>& places, bool frozen) {
  const CgroupPlace* freezer = find_place(places, "freezer");
  const CgroupPlace* unified = find_unified(places);
  if (!freezer && unified) return v2_freeze(*unified, frozen);
  if (!freezer) return make_error("no cgroup v1 freezer hierarchy: cannot freeze or thaw");
  return write_in(*freezer, "freezer.state", frozen ? "FROZEN" : "THAWED");
}

Status v1_lift(const std::vector<CgroupPlace>& places, const JobLimits& which) {
  std::vector<std::string> errors;
  const CgroupPlace* memory = find_place(places, "memory");
  if (which.memory && memory) {
    // "-1" is unlimited; memsw first, as it must stay >= the memory limit.
    if (exists_in(*memory, "memory.memsw.limit_in_bytes")) {
      add_error(errors, write_in(*memory, "memory.memsw.limit_in_bytes", "-1"));
    }
    add_error(errors, write_in(*memory, "memory.limit_in_bytes", "-1"));
  }
  const CgroupPlace* cpu = find_place(places, "cpu");
  if (which.cpu && cpu) add_error(errors, write_in(*cpu, "cpu.cfs_quota_us", "-1"));
  const CgroupPlace* blkio = find_place(places, "blkio");
  if (which.iops && which.io_device && blkio) {
    // Back to the counting rule, which never binds.
    set_iops(*blkio, *which.io_device, kCountingIops, errors);
  }
  return join_errors(errors);
}

Status v1_reset_peak(const std::vector<CgroupPlace>& places, bool reclaim) {
  const CgroupPlace* memory = find_place(places, "memory");
  if (!memory) return Ok{};
  if (reclaim) {
    Status emptied = write_in(*memory, "memory.force_empty", "0");
    if (!emptied) return emptied;
  }
  // Any write sets max_usage_in_bytes to the usage now.
  return memory->files ? memory->files->write_kept("memory.max_usage_in_bytes", "0")
                       : write_in(*memory, "memory.max_usage_in_bytes", "0");
}

}  // namespace wp::platform::detail
