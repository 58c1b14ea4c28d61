// Job cgroups on cgroup v2. The kernel hands controllers to a cgroup's
// children only while the cgroup itself holds no process ("no internal
// processes"), except at the root. So the run directory R goes, in order of
// preference:
//  Root:   under wp's cgroup C when C is the real root;
//  Moved:  under C when C holds only wp, which then moves itself into
//          R/supervisor so that C, and R, may enable controllers;
//  Beside: under C's parent, which already offers C's controllers, when C
//          holds other processes too (a login shell's session scope).
// Jobs go into R/<job>. In the Moved case wp cannot remove R/supervisor (or
// R) while it is inside: they stay, empty once wp exits, and the next run's
// clean_stale removes them, like the remains of a run that crashed.
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "platform/linux/job_cgroup_internal.h"
#include "util/log.h"

namespace wp::platform::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kWanted[] = {"memory", "cpu", "io", "pids"};
constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint64_t kMinCpuQuotaUs = 1000;  // the kernel refuses less

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> wanted_order(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (std::string_view name : kWanted) {
    if (has(names, name)) out.emplace_back(name);
  }
  return out;
}

// Enables in dir/cgroup.subtree_control the wanted controllers of `offered`
// that are not on yet; returns the wanted ones on afterwards. All at once
// first, then one by one, so that one the kernel refuses (cpu while a
// realtime thread is inside) does not cost the others.
std::vector<std::string> enable_controllers(const fs::path& dir,
                                            const std::vector<std::string>& offered) {
  fs::path control = dir / "cgroup.subtree_control";
  std::vector<std::string> on = read_controllers(control);
  std::vector<std::string> enabled;
  std::vector<std::string> to_add;
  for (std::string_view name : kWanted) {
    if (has(on, name)) {
      enabled.emplace_back(name);
    } else if (has(offered, name)) {
      to_add.emplace_back(name);
    }
  }
  if (to_add.empty()) return enabled;
  auto plus = [](const std::string& name) { return "+" + name; };
  std::vector<std::string> words;
  std::transform(to_add.begin(), to_add.end(), std::back_inserter(words), plus);
  if (write_file(control, fmt::format("{}", fmt::join(words, " ")))) {
    enabled.insert(enabled.end(), to_add.begin(), to_add.end());
    return wanted_order(enabled);
  }
  for (const std::string& name : to_add) {
    Status status = write_file(control, plus(name));
    if (status) {
      enabled.push_back(name);
    } else {
      log::get("cgroup")->debug("cannot enable {}: {}", name, status.error().message);
    }
  }
  return wanted_order(enabled);
}

std::string child_path(const std::string& parent, const std::string& name) {
  return (parent == "/" ? "" : parent) + "/" + name;
}

std::string parent_path(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

struct Placement {
  V2Strategy strategy = V2Strategy::Root;
  fs::path run;
  std::string run_path;
  bool reused = false;  // an earlier run of this process already moved wp into run/supervisor
};

Result<Placement> choose(const OwnCgroup& own, const std::string& run_name) {
  if (own.dir.filename() == "supervisor" && own.dir.parent_path().filename() == run_name) {
    return Placement{V2Strategy::Moved, own.dir.parent_path(), parent_path(own.path), true};
  }
  // Only the real root lacks cgroup.type; a cgroup namespace's root has it
  // and follows the no-internal-processes rule like any other cgroup.
  if (own.is_mount_root && !file_exists(own.dir / "cgroup.type")) {
    return Placement{V2Strategy::Root, own.dir / run_name, child_path(own.path, run_name)};
  }
  if (read_pids(own.dir / "cgroup.procs") == std::vector<pid_t>{::getpid()}) {
    return Placement{V2Strategy::Moved, own.dir / run_name, child_path(own.path, run_name)};
  }
  if (own.is_mount_root) {
    return make_error(
        "wp's cgroup {} is the top of what this cgroup namespace shows and holds other "
        "processes: there is no place for job cgroups; run wp as the only process of its "
        "cgroup (e.g. systemd-run --scope -p Delegate=yes wp ...)",
        own.path);
  }
  return Placement{V2Strategy::Beside, own.dir.parent_path() / run_name,
                   child_path(parent_path(own.path), run_name)};
}

// Creates the run directory (and moves wp for Moved); returns the
// controllers the run directory can hand to jobs.
Result<std::vector<std::string>> build(const OwnCgroup& own, const Placement& placement) {
  const fs::path& run = placement.run;
  CreatedDirs made;
  if (placement.strategy == V2Strategy::Beside) {
    if (int error = made.make(run, true)) return mkdir_error(run, error);
    made.release();
    fs::path parent = own.dir.parent_path();
    return enable_controllers(run, read_controllers(parent / "cgroup.subtree_control"));
  }
  fs::path top = placement.reused ? run.parent_path() : own.dir;
  if (placement.strategy == V2Strategy::Moved && !placement.reused) {
    for (const fs::path& dir : {run, run / "supervisor"}) {
      if (int error = made.make(dir, true)) return mkdir_error(dir, error);
    }
    Status moved = write_file(run / "supervisor/cgroup.procs", fmt::format("{}", ::getpid()));
    if (!moved)
      return make_error("cannot move wp into its supervisor cgroup: {}", moved.error().message);
    made.release();  // wp is inside now: the directories stay (see the top of this file)
  }
  std::vector<std::string> offered =
      enable_controllers(top, read_controllers(top / "cgroup.controllers"));
  if (placement.strategy == V2Strategy::Root) {
    if (int error = made.make(run, true)) return mkdir_error(run, error);
    made.release();
  }
  return enable_controllers(run, offered);
}

std::string describe(const Placement& placement, const OwnCgroup& own,
                     const std::vector<std::string>& controllers) {
  std::string head =
      fmt::format("cgroup v2 ({}) under {}", join_controllers(controllers), placement.run_path);
  switch (placement.strategy) {
    case V2Strategy::Root:
      return head + " (wp's cgroup is the root)";
    case V2Strategy::Moved:
      return fmt::format("{} (wp moved itself into {}/supervisor)", head, placement.run_path);
    case V2Strategy::Beside:
      return fmt::format("{} (beside wp's cgroup {}, which holds other processes)", head, own.path);
  }
  return head;
}

Status write_limit(const CgroupPlace& place, std::string_view file, std::string_view controller,
                   const std::string& text) {
  if (!exists_in(place, file)) {
    return make_error("cannot set {} in {}: the {} controller is not available here", file,
                      place.dir.string(), controller);
  }
  return write_in(place, file, text);
}

void add_error(std::vector<std::string>& errors, const Status& status) {
  if (!status) errors.push_back(status.error().message);
}

}  // namespace

Result<RunLayout> make_v2_run(const HostRoots& roots, const std::string& run_name) {
  std::vector<Mount> mounts = read_mounts(roots);
  auto mount = std::find_if(mounts.begin(), mounts.end(),
                            [](const Mount& m) { return m.fs_type == "cgroup2"; });
  if (mount == mounts.end()) {
    return make_error("no cgroup2 filesystem is mounted (see /proc/self/mountinfo)");
  }
  std::string path = "/";
  for (const ProcCgroup& entry : read_proc_cgroups(roots)) {
    if (entry.hierarchy == 0 && entry.controllers.empty()) path = entry.path;
  }
  OwnCgroup own = own_cgroup(roots, *mount, path);
  auto placement = choose(own, run_name);
  if (!placement) return placement.error();
  auto controllers = build(own, *placement);
  if (!controllers) return controllers.error();

  RunLayout layout;
  layout.version = 2;
  layout.strategy = placement->strategy;
  layout.supervisor = placement->strategy == V2Strategy::Moved;
  layout.runs.push_back({placement->run, *controllers, nullptr});
  for (std::string_view name : kWanted) {
    if (!has(*controllers, name)) layout.missing.emplace_back(name);
  }
  layout.description = describe(*placement, own, *controllers);
  return layout;
}

Status v2_apply(const CgroupPlace& place, const JobLimits& limits) {
  std::vector<std::string> errors;
  if (limits.memory) {
    Status memory = write_limit(place, "memory.max", "memory", fmt::format("{}", *limits.memory));
    add_error(errors, memory);
    // An OOM kill in the job then takes its whole tree, not one process of
    // it that leaves the rest running crippled. (No such file before 4.19.)
    if (memory && exists_in(place, "memory.oom.group")) {
      add_error(errors, write_in(place, "memory.oom.group", "1"));
    }
  }
  if (limits.cpu) {
    uint64_t quota = std::max<uint64_t>(kMinCpuQuotaUs, limits.cpu->millis() * 100);
    add_error(errors,
              write_limit(place, "cpu.max", "cpu", fmt::format("{} {}", quota, kCpuPeriodUs)));
  }
  if (limits.iops) {
    if (!limits.io_device) {
      errors.emplace_back("the iops limit has no device to apply to");
    } else if (*limits.iops == 0) {
      errors.emplace_back("iops limit 0 would stop all I/O");
    } else {
      DeviceNumber device = *limits.io_device;
      add_error(errors, write_limit(place, "io.max", "io",
                                    fmt::format("{}:{} riops={} wiops={}", device.major,
                                                device.minor, *limits.iops, *limits.iops)));
    }
  }
  return join_errors(errors);
}

Status v2_lift(const CgroupPlace& place, const JobLimits& which) {
  std::vector<std::string> errors;
  if (which.memory) {
    add_error(errors, write_limit(place, "memory.max", "memory", "max"));
    if (exists_in(place, "memory.oom.group")) {
      add_error(errors, write_in(place, "memory.oom.group", "0"));
    }
  }
  if (which.cpu) {
    add_error(errors, write_limit(place, "cpu.max", "cpu", fmt::format("max {}", kCpuPeriodUs)));
  }
  if (which.iops && which.io_device) {
    add_error(errors, write_limit(place, "io.max", "io",
                                  fmt::format("{}:{} riops=max wiops=max", which.io_device->major,
                                              which.io_device->minor)));
  }
  return join_errors(errors);
}

CgroupUsage v2_usage(const CgroupPlace& place) {
  CgroupUsage usage;
  // memory.peak arrived in Linux 5.19.
  if (auto peak = read_u64_in(place, "memory.peak")) usage.peak_memory = *peak;
  v2_cpu_usage(place, usage);
  auto io_text = read_in(place, "io.stat");
  if (auto io = io_text ? parse_io_stat(*io_text) : std::nullopt) {
    usage.read_ops = io->read_ops;
    usage.write_ops = io->write_ops;
    usage.read_bytes = io->read_bytes;
    usage.write_bytes = io->write_bytes;
  }
  usage.oom_kills = v2_oom_kills(place);
  return usage;
}

void v2_cpu_usage(const CgroupPlace& place, CgroupUsage& usage) {
  auto text = read_in(place, "cpu.stat");
  if (!text) return;
  CpuStat stat = parse_cpu_stat(*text);
  auto seconds = [](std::optional<uint64_t> usec) -> std::optional<double> {
    if (!usec) return std::nullopt;
    return static_cast<double>(*usec) / 1e6;
  };
  usage.cpu_seconds = seconds(stat.usage_usec);
  usage.user_seconds = seconds(stat.user_usec);
  usage.system_seconds = seconds(stat.system_usec);
}

uint64_t v2_oom_kills(const CgroupPlace& place) {
  // memory.events, not memory.events.local: kills in the job's own child
  // cgroups count too.
  auto events = read_in(place, "memory.events");
  return flat_keyed_value(events.value_or(""), "oom_kill").value_or(0);
}

std::optional<double> v2_cpu_seconds(const CgroupPlace& place) {
  auto usec = parse_cpu_stat(read_in(place, "cpu.stat").value_or("")).usage_usec;
  if (!usec) return std::nullopt;
  return static_cast<double>(*usec) / 1e6;
}

std::optional<Bytes> v2_memory_current(const CgroupPlace& place) {
  return read_u64_in(place, "memory.current");
}

std::optional<Bytes> v2_memory_left(const CgroupPlace& place) {
  auto text = read_in(place, "memory.stat");
  if (!text) return std::nullopt;
  auto anon = flat_keyed_value(*text, "anon");
  auto file = flat_keyed_value(*text, "file");  // tmpfs and shared memory included
  if (!anon && !file) return std::nullopt;
  return anon.value_or(0) + file.value_or(0) +
         read_u64_in(place, "memory.swap.current").value_or(0);
}

Status v2_freeze(const CgroupPlace& place, bool frozen) {
  if (!exists_in(place, "cgroup.freeze")) {
    return make_error("cannot freeze {}: no cgroup.freeze (Linux 5.2 or later has it)",
                      place.dir.string());
  }
  return write_in(place, "cgroup.freeze", frozen ? "1" : "0");
}

bool v2_populated(const CgroupPlace& place) {
  // cgroup.events, unlike cgroup.procs, may be read again through a kept
  // descriptor, and counts the job's own child cgroups too.
  if (auto events = read_in(place, "cgroup.events")) {
    if (auto populated = flat_keyed_value(*events, "populated")) return *populated != 0;
  }
  return !read_pids(place.dir / "cgroup.procs").empty();
}

Status v2_reset_peak(const CgroupPlace& place) {
  if (!exists_in(place, "memory.peak")) return Ok{};
  if (!place.files)
    return make_error("{}: memory.peak is reset through a kept descriptor only",
                      place.dir.string());
  return place.files->write_kept("memory.peak", "reset");
}

}  // namespace wp::platform::detail
