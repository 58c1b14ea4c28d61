// Pieces of the job cgroups (platform/job_cgroup.h) shared between
// job_cgroup*.cpp and the unit tests: the parsers of the counters' files, the
// file-system helpers, and the v1 and v2 halves that CgroupRun and JobCgroup
// dispatch to. Parsers return nothing for garbage; none throws.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/job_cgroup.h"
#include "platform/linux/host_internal.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform::detail {

// ---- job_cgroup_parse.cpp: the counters' files, as text ----

// A "key value" line file (cpu.stat, memory.events, cpuacct.stat,
// memory.oom_control): the value of `key`, nothing when absent or garbage.
std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key);

// cgroup v2 cpu.stat, in microseconds.
struct CpuStat {
  std::optional<uint64_t> usage_usec;
  std::optional<uint64_t> user_usec;
  std::optional<uint64_t> system_usec;
};
CpuStat parse_cpu_stat(std::string_view text);

// Reads and writes over every device: v2 io.stat, or v1's
// blkio.throttle.io_serviced paired with io_service_bytes.
struct IoCounters {
  uint64_t read_ops = 0;
  uint64_t write_ops = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};
// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device; an empty
// file is a cgroup that did no I/O yet; a key a line lacks counts 0.
std::optional<IoCounters> parse_io_stat(std::string_view text);

// v1 "8:0 Read 10" / "8:0 Write 5" / ... / "Total 15": Read and Write summed
// over devices.
struct ReadWrite {
  uint64_t read = 0;
  uint64_t write = 0;
};
std::optional<ReadWrite> parse_blkio_read_write(std::string_view text);

// v1 memory.oom_control. "oom_kill" arrived in Linux 4.13; before it only
// "under_oom" tells that the cgroup is in an OOM now.
struct OomControl {
  std::optional<uint64_t> oom_kill;
  bool under_oom = false;
};
std::optional<OomControl> parse_oom_control(std::string_view text);

// v1 cpuacct.stat, in USER_HZ ticks.
struct CpuacctStat {
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
};
std::optional<CpuacctStat> parse_cpuacct_stat(std::string_view text);

// v1 cpuacct.usage_all: "cpu user system" then a line per CPU, in ns;
// summed over the CPUs (what usage_user and usage_sys say, in one read).
struct CpuacctSplit {
  uint64_t user_ns = 0;
  uint64_t system_ns = 0;
};
std::optional<CpuacctSplit> parse_cpuacct_usage_all(std::string_view text);

// Field 22 of /proc/<pid>/stat (start time in ticks after boot). The command
// name in field 2 may hold blanks and parentheses, so fields count from the
// last ')'.
std::optional<uint64_t> parse_stat_start_time(std::string_view text);

// "wp-<pid>-<starttime>", the run directory's name.
struct RunName {
  pid_t pid = 0;
  uint64_t start_time = 0;
};
std::string format_run_name(pid_t pid, uint64_t start_time);
std::optional<RunName> parse_run_name(std::string_view name);

// A job name as a directory name: [A-Za-z0-9._-], at most kMaxJobName chars,
// never "", "." or "..".
constexpr size_t kMaxJobName = 100;
std::string sanitise_job_name(std::string_view name);

// "254:0"
std::optional<DeviceNumber> parse_device_number(std::string_view text);

// ---- job_cgroup_fs.cpp: directories, files, processes ----

// True when `path` exists; false on any error too (never throws).
bool file_exists(const std::filesystem::path& path);
// Writes `text` with one write() (cgroup files take one command per write).
// Error naming the file; ENOENT says the controller is not there.
Status write_file(const std::filesystem::path& path, std::string_view text);
// One write() of `text` to `fd`, open on `path` (named in errors): a control
// file takes a value in one write or not at all.
Status write_once(int fd, const std::filesystem::path& path, std::string_view text);
// A whole unsigned number file; nothing when missing or garbage.
std::optional<uint64_t> read_u64_file(const std::filesystem::path& path);
// The pids in a cgroup.procs file (0 for a process of another pid namespace).
std::vector<pid_t> read_pids(const std::filesystem::path& procs);
// Space-separated controller names (cgroup.controllers, cgroup.subtree_control).
std::vector<std::string> read_controllers(const std::filesystem::path& path);
// The start time of a process under proc_root ("self" or a pid).
std::optional<uint64_t> process_start_time(const std::filesystem::path& proc_root,
                                           const std::string& pid);

// Each directory and every cgroup below it, deepest first.
std::vector<std::filesystem::path> cgroup_trees(const std::vector<std::filesystem::path>& tops);
// SIGKILLs every process in the trees (freezing first where that helps);
// returns how many distinct processes it found. Never signals or freezes
// this process, should it sit inside.
size_t kill_cgroups(const std::vector<std::filesystem::path>& tops);
// One rmdir of each directory, no waiting: true when all are gone (the
// common case of a job whose processes have all been reaped).
bool remove_empty(const std::vector<std::filesystem::path>& dirs);
// rmdir of the trees deepest first, retried on EBUSY within `budget`
// (killing again between tries) since a cgroup goes only once its last
// process has exited. A directory already gone is fine.
Status remove_cgroups(const std::vector<std::filesystem::path>& tops,
                      std::chrono::milliseconds budget);
constexpr std::chrono::milliseconds kRemoveBudget{1000};

// Creates directories and removes them again on scope exit unless released:
// the rollback of a half-made run or job.
class CreatedDirs {
 public:
  CreatedDirs() = default;
  CreatedDirs(const CreatedDirs&) = delete;
  CreatedDirs& operator=(const CreatedDirs&) = delete;
  CreatedDirs(CreatedDirs&&) = delete;
  CreatedDirs& operator=(CreatedDirs&&) = delete;
  ~CreatedDirs();
  // mkdir: 0 or the errno. With `existing_ok` a directory already there is
  // 0 too (and is not removed on rollback).
  int make(const std::filesystem::path& dir, bool existing_ok);
  void release() { made_.clear(); }
  // Takes over what `other` made: rolled back with this one's.
  void adopt(CreatedDirs& other) {
    made_.insert(made_.end(), other.made_.begin(), other.made_.end());
    other.made_.clear();
  }

 private:
  std::vector<std::filesystem::path> made_;
};
// "cannot create cgroup <dir>: <why>" with a hint for permission errors.
Error mkdir_error(const std::filesystem::path& dir, int error);

// The whole disk of a device number under roots.sys/dev/block (a
// partition's parent). Nothing when sysfs does not know the device.
std::optional<DeviceNumber> whole_disk(DeviceNumber device, const HostRoots& roots);
// The disks that get the v1 blkio counting rule (see job_cgroup_v1.cpp).
std::vector<DeviceNumber> counted_disks(const HostRoots& roots);

// ---- the two versions ----

// The files of one job cgroup directory. They are opened relative to the
// directory, held open (one path component to resolve instead of a dozen),
// and the counters stay open and are read again with pread at offset 0
// (kernfs prints a file afresh for every read from the start): a pooled
// cgroup is read for every job it holds. Never cgroup.procs: v1 keeps
// serving an open cgroup.procs the pid list it first built, for up to a
// second.
class CgroupFiles {
 public:
  explicit CgroupFiles(const std::filesystem::path& dir);
  CgroupFiles(const CgroupFiles&) = delete;
  CgroupFiles& operator=(const CgroupFiles&) = delete;
  CgroupFiles(CgroupFiles&&) = delete;
  CgroupFiles& operator=(CgroupFiles&&) = delete;
  ~CgroupFiles() = default;

  std::optional<std::string> read(std::string_view name);
  // Opened, read and closed: for cgroup.procs.
  std::optional<std::string> read_once(std::string_view name) const;
  // One write() through a descriptor opened for it alone, as write_file.
  Status write(std::string_view name, std::string_view text);
  // One write() through the descriptor kept for reading the file: cgroup v2
  // resets memory.peak only for reads through the descriptor that wrote.
  Status write_kept(std::string_view name, std::string_view text);
  bool exists(std::string_view name) const;
  // How many cgroups the job made inside its own: kernfs keeps a
  // directory's link count at 2 + its subdirectories. Nothing when unknown.
  std::optional<uint64_t> subdirs() const;
  // Closes every descriptor (before the directory is removed).
  void close();
  // The directory, O_PATH (for clone3's CLONE_INTO_CGROUP); -1 when it could
  // not be opened.
  int dir_fd() const { return dir_fd_.get(); }
  bool on_cgroup2() const { return on_cgroup2_; }

 private:
  struct Kept {
    std::string name;
    UniqueFd fd;
    int flags = 0;  // as opened: O_RDONLY or O_RDWR
  };
  Kept* kept(std::string_view name, int flags);

  // A file a cgroup directory lacks: its controller is not enabled there.
  bool known_missing(std::string_view name) const;
  void note_missing(std::string_view name) const;

  std::filesystem::path dir_;
  UniqueFd dir_fd_;  // O_PATH; when it could not be opened, paths are used
  std::vector<Kept> kept_;
  // On cgroupfs, a file found missing stays so (controllers are enabled when
  // the run starts), and is not looked for again for every job; a fixture
  // tree (a plain directory) is looked at every time.
  bool on_cgroupfs_ = false;
  bool on_cgroup2_ = false;
  mutable std::vector<std::string> missing_;
};

// A job's or a run's directory in one hierarchy and the controllers wp
// uses through it (v1: the hierarchy's; v2: those enabled for it). A job's
// has its files open (CgroupFiles); a run's or a fixture's may not.
struct CgroupPlace {
  std::filesystem::path dir;
  std::vector<std::string> controllers;
  std::shared_ptr<CgroupFiles> files;
  // Hybrid: the cgroup2 directory beside the v1 ones (no controllers; CPU
  // time, freeze, kill and populated through cgroup2's own files).
  bool unified = false;
};
// The place carrying `controller`, or nullptr.
const CgroupPlace* find_place(const std::vector<CgroupPlace>& places, std::string_view controller);
// The hybrid layout's cgroup2 place, or nullptr.
const CgroupPlace* find_unified(const std::vector<CgroupPlace>& places);
// A file of a place, through its open files when it has them.
std::optional<std::string> read_in(const CgroupPlace& place, std::string_view file);
std::optional<uint64_t> read_u64_in(const CgroupPlace& place, std::string_view file);
Status write_in(const CgroupPlace& place, std::string_view file, std::string_view text);
bool exists_in(const CgroupPlace& place, std::string_view file);

enum class V2Strategy { Root, Moved, Beside };

// What CgroupRun::create found and made.
struct RunLayout {
  int version = 0;
  std::vector<CgroupPlace> runs;  // the run directory in each hierarchy
  std::vector<std::string> missing;
  std::string description;
  // v2, wp moved into <run>/supervisor: the run directory and the supervisor
  // stay when the run ends (see job_cgroup_v2.cpp).
  bool supervisor = false;
  V2Strategy strategy = V2Strategy::Root;
  // v1 and hybrid: where the other of the two would put its run directories
  // (the hierarchies one leaves out), cleaned of stale runs too, so that a
  // switch of layout (a kernel update, --cgroup v1) leaves nothing behind.
  std::vector<std::filesystem::path> neighbours;
};

// ---- job_cgroup_mounts.cpp: where wp's own cgroups are ----

// This process's cgroup in one hierarchy.
struct OwnCgroup {
  std::filesystem::path dir;  // re-rooted under roots.sys for fixtures
  std::string path;           // the cgroup path, as /proc/self/cgroup says it
  bool is_mount_root = false;
};
// `process_path` from /proc/self/cgroup, under `mount`. A path outside what
// the mount shows (a container without its own cgroup namespace) is the
// mount's root, as in cgroup.cpp.
OwnCgroup own_cgroup(const HostRoots& roots, const Mount& mount, const std::string& process_path);
std::vector<Mount> read_mounts(const HostRoots& roots);
std::vector<ProcCgroup> read_proc_cgroups(const HostRoots& roots);
bool v1_memory_mounted(const HostRoots& roots);
// "a, b, c"; "no controllers" for none.
std::string join_controllers(const std::vector<std::string>& controllers);

// Whether make_v1_run uses the cgroup2 hierarchy beside the v1 ones.
enum class Unified { No, IfUsable, Required };
Result<RunLayout> make_v1_run(const HostRoots& roots, const std::string& run_name, bool cpu_limits,
                              Unified unified = Unified::No);
Result<RunLayout> make_v2_run(const HostRoots& roots, const std::string& run_name);

// Job operations. `places` are the job's directories (v2: one).
// The blkio counting rule on `disks` (counted_disks, listed once a run).
void v1_prepare_job(const std::vector<CgroupPlace>& places, const std::vector<DeviceNumber>& disks);
Status v1_apply(const std::vector<CgroupPlace>& places, const JobLimits& limits);
// Lifts the limits set in `which` (their values are ignored; io_device says
// where the iops limit was).
Status v1_lift(const std::vector<CgroupPlace>& places, const JobLimits& which);
// `before`: the counters' earlier readings, when known (a pooled cgroup's
// last job's, or zeros for a new one): lets a file that cannot have moved
// go unread.
// CPU time from the cgroup2 place's cpu.stat on hybrid, else from cpuacct.
CgroupUsage v1_usage(const std::vector<CgroupPlace>& places, const CgroupUsage* before = nullptr);
uint64_t v1_oom_kills(const std::vector<CgroupPlace>& places);
std::optional<double> v1_cpu_seconds(const std::vector<CgroupPlace>& places);
std::optional<Bytes> v1_memory_current(const std::vector<CgroupPlace>& places);
// The pages still charged, from memory.stat: rss + cache + swap. Nothing
// when there is no memory.stat to read.
std::optional<Bytes> v1_memory_left(const std::vector<CgroupPlace>& places);
// The freezer hierarchy's freezer.state, else (hybrid) cgroup.freeze.
Status v1_freeze(const std::vector<CgroupPlace>& places, bool frozen);
// For a cgroup's next job: the peak starts again from what is charged now.
// `reclaim` first gives back what is reclaimable (page cache the last job
// left charged); it is slow (it drains every CPU), for when much is left.
Status v1_reset_peak(const std::vector<CgroupPlace>& places, bool reclaim);

Status v2_apply(const CgroupPlace& place, const JobLimits& limits);
Status v2_lift(const CgroupPlace& place, const JobLimits& which);
CgroupUsage v2_usage(const CgroupPlace& place);
// cpu.stat's usage, user and system time into `usage` (cgroup2 counts them
// without the cpu controller).
void v2_cpu_usage(const CgroupPlace& place, CgroupUsage& usage);
uint64_t v2_oom_kills(const CgroupPlace& place);
std::optional<double> v2_cpu_seconds(const CgroupPlace& place);
std::optional<Bytes> v2_memory_current(const CgroupPlace& place);
// The pages still charged: memory.stat's anon + file, and memory.swap.current.
std::optional<Bytes> v2_memory_left(const CgroupPlace& place);
Status v2_freeze(const CgroupPlace& place, bool frozen);
bool v2_populated(const CgroupPlace& place);
// memory.peak is writable from Linux 6.12, and then resets the peak seen
// through the descriptor that wrote only (which is what usage() reads
// through). Error on older kernels: a reused cgroup would report an earlier
// job's peak. Nothing to do without a memory controller.
Status v2_reset_peak(const CgroupPlace& place);

// Shared by both: "cannot apply: a; b" from several failures.
Status join_errors(const std::vector<std::string>& errors);

}  // namespace wp::platform::detail
