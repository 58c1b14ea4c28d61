// A control group for every job attempt: wp measures the whole process tree
// (peak memory, CPU, I/O, OOM kills, processes that already exited
// included), holds it to limits, and kills every process in it, a daemon
// that double-forked out of the job's process group included.
// Implemented per platform (platform/linux/job_cgroup*.cpp).
//
// Layout. A run owns one directory "wp-<pid>-<starttime>" (the start time
// from /proc/<pid>/stat tells a live wp from a recycled pid):
// - cgroup v1: under wp's own cgroup in each of the memory, cpu, cpuacct,
//   blkio and freezer hierarchies it finds (a controller that is missing
//   gives unknown figures, never an error);
// - hybrid (v1 controllers and a cgroup2 hierarchy without any, as systemd
//   mounts them at /sys/fs/cgroup/unified): under wp's own cgroup in the
//   memory and blkio hierarchies (cpu too when jobs get CPU quotas), and in
//   the cgroup2 one, which counts CPU time (cpu.stat), freezes, kills
//   (cgroup.kill) and tells when the job is over (cgroup.events) without a
//   controller. A job is created inside its cgroup2 directory (clone3) and
//   moves into two or three v1 hierarchies instead of four or five: every
//   move takes a kernel lock that every fork and exit on the machine waits
//   on;
// - cgroup v2: under wp's cgroup when that is the root or holds only wp (wp
//   then moves itself into "<run>/supervisor", since the kernel lets only an
//   empty cgroup hand controllers to its children), else beside it under its
//   parent; memory, cpu, io and pids are enabled where offered.
// A job attempt gets "<run>/<job>-<n>" (create_job), or, as wp does, a
// cgroup of the run's pool (acquire_job): one an earlier attempt left empty,
// its peak reset and its counters' readings taken as the new zero, else a new
// "<run>/slot-<n>". Making and removing a cgroup in every hierarchy costs
// more than a small job itself. The run directory goes when the CgroupRun
// does; a run that died (kill -9, crash) is cleaned up by the next
// one that starts under the same parent (clean_stale).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/host.h"
#include "platform/process.h"
#include "resources/quantity.h"
#include "util/result.h"

namespace wp::platform {

struct DeviceNumber {
  unsigned major = 0;
  unsigned minor = 0;
};
// The whole disk behind `path` (a partition's parent disk), for io.max and
// blkio throttle files that only take whole devices. Nothing when `path` is
// on a filesystem without a block device (tmpfs, overlay without one).
std::optional<DeviceNumber> disk_of(const std::filesystem::path& path, const HostRoots& roots = {});

struct JobLimits {
  std::optional<Bytes> memory;   // hard limit: memory.max / memory.limit_in_bytes (and memsw)
  std::optional<Cores> cpu;      // quota: cpu.max / cpu.cfs_quota_us over a 100 ms period
  std::optional<uint64_t> iops;  // read and write ops/s each: io.max / blkio.throttle.*_iops_device
  std::optional<DeviceNumber> io_device;  // the device `iops` applies to
};

// What a job's cgroup counted over its life: the whole tree, exited
// processes included. nullopt: this machine's cgroups do not count it.
struct CgroupUsage {
  std::optional<Bytes> peak_memory;      // memory.peak / memory.max_usage_in_bytes
  std::optional<double> user_seconds;    // cpu.stat user_usec / cpuacct.usage_user
  std::optional<double> system_seconds;  // cpu.stat system_usec / cpuacct.usage_sys
  std::optional<double> cpu_seconds;     // usage_usec / cpuacct.usage
  std::optional<uint64_t> read_ops;      // io.stat rios / blkio.throttle.io_serviced Read
  std::optional<uint64_t> write_ops;     // io.stat wios / ... Write
  std::optional<uint64_t> read_bytes;    // io.stat rbytes / blkio.throttle.io_service_bytes
  std::optional<uint64_t> write_bytes;
  uint64_t oom_kills = 0;  // memory.events oom_kill / memory.oom_control oom_kill
};

// A job attempt's cgroup. When destroyed it goes back to its run's pool if
// it can hold another job (nothing left inside, no child cgroup, no OOM kill,
// little memory left charged), else it is removed, its processes killed
// first. Its counters (usage(), cpu_seconds(), oom_kills()) count from the
// attempt's start.
class JobCgroup {
 public:
  JobCgroup(JobCgroup&&) noexcept;
  JobCgroup& operator=(JobCgroup&&) noexcept;
  JobCgroup(const JobCgroup&) = delete;
  JobCgroup& operator=(const JobCgroup&) = delete;
  ~JobCgroup();

  // Writes the limits that are set; a limit this machine cannot apply (no
  // cpu controller, no such device) is an Error naming the file, and the
  // others are still written.
  // A limit already in force with that value is not written again.
  Status apply(const JobLimits& limits);
  // Lifts the limits in force that `kept` does not set (or sets for another
  // device): a reused cgroup's last job had them.
  Status lift_except(const JobLimits& kept);
  // Open cgroup.procs files (O_WRONLY|O_CLOEXEC) of every hierarchy: the
  // child writes "0" into each between fork and exec, so the job is inside
  // before it runs one instruction of its own.
  std::vector<int> procs_fds() const;
  // How a process that spawn() starts enters the cgroup: created in its
  // cgroup2 directory on v2 and hybrid (CgroupEntry::dir), and through
  // procs_fds() into the others (v1's hierarchies).
  CgroupEntry entry() const;
  // Moves a running process in (every hierarchy).
  Status add(pid_t pid);

  CgroupUsage usage() const;
  std::optional<double> cpu_seconds() const;    // just the CPU counter: cheap, for sampling
  uint64_t oom_kills() const;                   // just usage().oom_kills: one file, for sampling
  std::optional<Bytes> memory_current() const;  // memory.current / memory.usage_in_bytes
  // True while any process is inside (cgroup.events populated / cgroup.procs).
  bool populated() const;
  // The caller knows that no process is left inside (wp's children say so,
  // see Runner): taken as empty without a look.
  void assume_empty();
  // SIGKILLs every process inside: cgroup.kill on v2 and hybrid (a v2
  // kernel before 5.14: freeze, kill each pid, thaw; hybrid: then each pid
  // that left the cgroup2 directory); freeze, kill each pid and thaw on v1.
  // Returns how many processes were found (0: it was already empty).
  size_t kill();
  // Stops (freeze) or resumes every process inside: cgroup.freeze on v2 and
  // hybrid, the freezer's state on v1. Error when no freezer is available.
  Status freeze(bool frozen);
  // Kills what is left and removes the directories (never to the pool);
  // retried briefly, since the kernel lets a cgroup go only once its last
  // process is reaped.
  Status remove();

  const std::string& name() const;  // "<job>-<n>", as created
  // What counts the job, as usage reports name it: "cgroup v2", "cgroup v1",
  // or "cgroup hybrid" (v1 memory and blkio, cgroup2 CPU time).
  const char* method() const;
  std::vector<std::filesystem::path> dirs() const;  // one per hierarchy

 private:
  friend class CgroupRun;
  struct Impl;
  struct Pool;
  explicit JobCgroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Hybrid: v1 controllers with the cgroup2 hierarchy beside them (Linux 5.14
// or later: cgroup.kill); V1: the v1 hierarchies alone.
enum class CgroupMode { Auto, Hybrid, V1, V2, Off };

struct CgroupRunOptions {
  // Auto: when a v1 memory hierarchy is mounted, hybrid where the cgroup2
  // hierarchy beside it can be used, else v1; v2 otherwise.
  CgroupMode mode = CgroupMode::Auto;
  HostRoots roots;
  // Whether jobs may get CPU quotas. On v1 without them the cpu hierarchy
  // (when not co-mounted with cpuacct; on hybrid, either way) is left out:
  // every hierarchy is one more directory to make, enter and remove for
  // every job.
  bool cpu_limits = true;
};

// The cgroups of one wp run.
class CgroupRun {
 public:
  // Error (with why: not root and not delegated, read-only, no cgroup
  // mounted, Off) when job cgroups cannot be made here; callers then measure
  // from /proc instead.
  static Result<CgroupRun> create(const CgroupRunOptions& options = {});

  CgroupRun(CgroupRun&&) noexcept;
  CgroupRun& operator=(CgroupRun&&) noexcept;
  CgroupRun(const CgroupRun&) = delete;
  CgroupRun& operator=(const CgroupRun&) = delete;
  ~CgroupRun();  // kills and removes whatever job cgroups remain, then its own directories

  int version() const;  // 1 or 2; 1 for hybrid too (its controllers are v1's)
  // The run's cgroup2 directory, which holds every job (PSI, cgroup.kill):
  // the run directory on v2, the one beside the v1 ones on hybrid (version
  // 1 with a cgroup2 directory); nothing on v1 alone.
  std::optional<std::filesystem::path> cgroup2_dir() const;
  // "cgroup v1 (memory, cpu, cpuacct, blkio, freezer) under /process_api/x/wp-123-456"
  std::string describe() const;
  // Controllers wanted but not available here ("io", "pids"...): their
  // figures are unknown and their limits cannot be applied.
  const std::vector<std::string>& missing() const;
  // The run's directories, one per hierarchy (what the sentinel cleans).
  std::vector<std::filesystem::path> dirs() const;

  // A new cgroup for a job attempt; `name` is sanitised to [A-Za-z0-9._-]
  // and made unique within the run.
  Result<JobCgroup> create_job(std::string_view name);
  // A cgroup for a job attempt that will get the limits `next`: an idle one
  // of the pool (its other limits lifted), else a new one.
  Result<JobCgroup> acquire_job(const JobLimits& next = {});
  size_t idle_jobs() const;  // cgroups in the pool now

  // Removes the cgroups left by wp runs that died where this run would put
  // its own: every "wp-<pid>-<start>" sibling whose wp is gone, its
  // processes killed first. Returns how many runs were removed.
  size_t clean_stale();

 private:
  struct Impl;
  explicit CgroupRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For the sentinel, after wp itself died: kills every process in the given
// run directories (and their job cgroups) and removes them. Uses only the
// paths: no state of the dead wp is needed.
void kill_and_remove_cgroup_dirs(const std::vector<std::filesystem::path>& run_dirs);

}  // namespace wp::platform
