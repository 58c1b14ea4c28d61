// CgroupRun and JobCgroup (platform/job_cgroup.h): what is the same for v1
// and v2 (names, creation, cleanup) here, the rest in job_cgroup_v1.cpp and
// job_cgroup_v2.cpp.
#include "platform/job_cgroup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "platform/linux/job_cgroup_internal.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace wp::platform {
namespace {

namespace fs = std::filesystem;
using detail::CgroupPlace;

// A job name taken that many times over is a caller's bug, not a collision.
constexpr int kMaxNameTries = 1000;
// The most memory a job's cgroup may still have charged when its job ended
// and be reused: the next job's peak starts from it. The kernel's per-CPU
// charge batches alone leave a few hundred KiB (memory.usage_in_bytes is
// that fuzzy on v1 too).
constexpr Bytes kMaxLeftCharged = Bytes{1} << 20;

std::vector<fs::path> dirs_of(const std::vector<CgroupPlace>& places) {
  std::vector<fs::path> dirs;
  dirs.reserve(places.size());
  for (const CgroupPlace& place : places)
    dirs.push_back(place.dir);
  return dirs;
}

// A stale run whose cgroup.procs show "0" holds processes of another pid
// namespace: its wp may well be alive there, with a pid we cannot see.
bool hides_processes(const std::vector<fs::path>& dirs) {
  for (const fs::path& dir : detail::cgroup_trees(dirs)) {
    for (pid_t pid : detail::read_pids(dir / "cgroup.procs")) {
      if (pid == 0) return true;
    }
  }
  return false;
}

// The sibling run directories of `parent` whose wp is gone.
void find_stale(const fs::path& parent, const std::string& own_name, const fs::path& proc,
                std::map<std::string, std::vector<fs::path>>& stale) {
  std::error_code error;
  for (fs::directory_iterator it(parent, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (!it->is_directory(type_error) || it->is_symlink(type_error)) continue;
    std::string name = it->path().filename().string();
    auto run = detail::parse_run_name(name);
    if (!run || name == own_name) continue;
    // Alive only when the pid exists and started when the name says: a
    // recycled pid belongs to some other process.
    auto start = detail::process_start_time(proc, std::to_string(run->pid));
    if (start && *start == run->start_time) continue;
    stale[name].push_back(it->path());
  }
}

// The cgroup.procs of every place but the hybrid's cgroup2 one.
Result<std::vector<UniqueFd>> open_procs(const std::vector<CgroupPlace>& places) {
  std::vector<UniqueFd> fds;
  for (const CgroupPlace& place : places) {
    if (place.unified) continue;
    fs::path procs = place.dir / "cgroup.procs";
    UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd) {
      fds.push_back(std::move(fd));
      continue;
    }
    int error = errno;
    // cgroupfs makes cgroup.procs with the directory; only a fixture tree
    // (a plain mkdir) lacks it.
    if (error == ENOENT) continue;
    return make_error("cannot open {}: {}", procs.string(), std::strerror(error));
  }
  return fds;
}

}  // namespace

// ---- JobCgroup ----

struct JobCgroup::Impl {
  int version = 0;
  std::string name;
  std::vector<CgroupPlace> places;
  std::vector<UniqueFd> procs;
  UniqueFd unified_procs;  // hybrid: the cgroup2 directory's cgroup.procs
  std::weak_ptr<Pool> pool;
  bool removed = false;
  // Whether it may hold another job: see recycle().
  bool known_empty = false;  // populated() said no since a process could last enter
  bool unfit = false;        // kill() found processes, or a limit's state is unknown
  bool frozen = false;
  std::optional<CgroupUsage> final_raw;  // the counters, read while known_empty
  CgroupUsage baseline;                  // the counters when this attempt began
  JobLimits in_force;                    // the limits written and not lifted

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl() {
    try {
      Status status = remove();
      if (!status) log::get("cgroup")->debug("{}", status.error().message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }

  Status remove() {
    if (removed) return Ok{};
    procs.clear();
    unified_procs.reset();
    for (const CgroupPlace& place : places) {
      if (place.files) place.files->close();
    }
    std::vector<fs::path> dirs = dirs_of(places);
    // The common end of a job: its last process reaped, nothing inside, so
    // one rmdir per hierarchy does it. Only a busy one needs the full
    // kill-and-retry.
    if (detail::remove_empty(dirs)) {
      removed = true;
      return Ok{};
    }
    detail::kill_cgroups(dirs);
    Status status = detail::remove_cgroups(dirs, detail::kRemoveBudget);
    if (status) removed = true;
    return status;
  }

  // Lifts the limits set in `which` and forgets them.
  Status lift(const JobLimits& which) {
    if (!which.memory && !which.cpu && !which.iops) return Ok{};
    Status status =
        version == 1 ? detail::v1_lift(places, which) : detail::v2_lift(places.front(), which);
    if (!status) {
      unfit = true;  // which of them the kernel took is unknown
      return status;
    }
    if (which.memory) in_force.memory.reset();
    if (which.cpu) in_force.cpu.reset();
    if (which.iops) {
      in_force.iops.reset();
      in_force.io_device.reset();
    }
    return Ok{};
  }

  void may_be_entered() {
    known_empty = false;
    final_raw.reset();
  }

  bool populated() {
    bool found = false;
    if (version == 2) {
      found = detail::v2_populated(places.front());
    } else if (const CgroupPlace* unified = detail::find_unified(places)) {
      found = detail::v2_populated(*unified);
    } else {
      const CgroupPlace& place = watched_v1_place();
      auto text = place.files ? place.files->read_once("cgroup.procs")
                              : detail::read_text(place.dir / "cgroup.procs");
      found = !detail::trim(text.value_or("")).empty();
    }
    if (!found) known_empty = true;
    return found;
  }

  // The v1 hierarchy whose cgroup.procs says whether anything of the job is
  // left. Every process of the job is in the job's cgroup of every hierarchy
  // (a child inherits them all), unless it moves itself, which takes root and
  // a write to another cgroup.procs: one list tells, and v1 builds each list
  // afresh (allocated, sorted, kept a second) for every open, so reading all
  // four cost as much as the rest of a small job's cgroup work. The
  // freezer's, when there is one: it is what kill() freezes and empties.
  const CgroupPlace& watched_v1_place() const {
    const CgroupPlace* freezer = detail::find_place(places, "freezer");
    return freezer ? *freezer : places.front();
  }

  CgroupUsage raw_usage() const {
    return version == 1 ? detail::v1_usage(places, &baseline) : detail::v2_usage(places.front());
  }

  std::optional<Bytes> memory_current() const {
    return version == 1 ? detail::v1_memory_current(places)
                        : detail::v2_memory_current(places.front());
  }

  bool has_subdirs() const {
    for (const CgroupPlace& place : places) {
      auto subdirs = place.files ? place.files->subdirs() : std::nullopt;
      if (subdirs != uint64_t{0}) return true;  // unknown counts as some
    }
    return false;
  }

  Status reset_peak(bool reclaim) {
    return version == 1 ? detail::v1_reset_peak(places, reclaim)
                        : detail::v2_reset_peak(places.front());
  }

  // What memory the cgroup still has charged. memory.usage_in_bytes and
  // memory.current count, besides pages, what the kernel keeps in reserve
  // for the cgroup: charges taken in batches per CPU, and the kernel memory
  // of exited processes (page tables, stacks) that is freed only after an
  // RCU grace period. With two small jobs at a time that was over
  // kMaxLeftCharged after two jobs in three with nothing of theirs left, and
  // each time v1 reclaimed (memory.force_empty: a millisecond or more, the
  // event loop waiting), v2 made a new cgroup. Past the bound, memory.stat
  // says which pages are still charged, the figure the kernel documents as
  // exact (the job's slab, such as dentries, is not in it).
  std::optional<Bytes> left_charged() const {
    std::optional<Bytes> left = memory_current();
    if (!left || *left <= kMaxLeftCharged) return left;
    std::optional<Bytes> pages =
        version == 1 ? detail::v1_memory_left(places) : detail::v2_memory_left(places.front());
    return pages ? pages : left;
  }

  // Makes the cgroup ready for another job, or says it cannot be: a process
  // or a child cgroup left inside, an OOM kill counted, a freeze or a limit
  // in an unknown state. The peak starts again from the memory still
  // charged, which must be little (else an earlier job's page cache would
  // count as the next one's), and the counters' readings now are the next
  // job's zero.
  bool recycle() {
    if (removed || unfit || frozen) return false;
    if (!known_empty && populated()) return false;
    if (has_subdirs()) return false;
    CgroupUsage raw = final_raw ? *final_raw : raw_usage();
    if (raw.oom_kills > 0) return false;
    if (!reset_peak(false)) return false;
    // What is charged never exceeds the peak: a job whose peak stayed within
    // the bound left no more than that, which spares the reads (on v1,
    // memory.stat alone costs some 6 us, and most small jobs pass by here).
    bool within = raw.peak_memory && *raw.peak_memory <= kMaxLeftCharged;
    std::optional<Bytes> left = within ? raw.peak_memory : left_charged();
    if (left && *left > kMaxLeftCharged) {
      // v1 can give back reclaimable memory (page cache) first; v2's peak is
      // per descriptor and would have to be reset again: a new cgroup then.
      if (version != 1 || !reset_peak(true)) return false;
      left = left_charged();
      if (left && *left > kMaxLeftCharged) return false;
    }
    baseline = raw;
    final_raw.reset();
    return true;
  }
};

// The run's idle job cgroups, ready for their next job.
struct JobCgroup::Pool {
  std::vector<std::unique_ptr<JobCgroup::Impl>> idle;
  size_t slots = 0;  // names given: slot-1, slot-2...
};

namespace {

std::optional<double> less(std::optional<double> value, std::optional<double> base) {
  if (!value || !base) return value;
  return std::max(0.0, *value - *base);
}

std::optional<uint64_t> less(std::optional<uint64_t> value, std::optional<uint64_t> base) {
  if (!value || !base) return value;
  return *value > *base ? *value - *base : 0;
}

// What the counters say of this attempt: the cumulative ones less their
// readings when it began.
CgroupUsage since(const CgroupUsage& raw, const CgroupUsage& base) {
  CgroupUsage usage = raw;
  usage.user_seconds = less(raw.user_seconds, base.user_seconds);
  usage.system_seconds = less(raw.system_seconds, base.system_seconds);
  usage.cpu_seconds = less(raw.cpu_seconds, base.cpu_seconds);
  usage.read_ops = less(raw.read_ops, base.read_ops);
  usage.write_ops = less(raw.write_ops, base.write_ops);
  usage.read_bytes = less(raw.read_bytes, base.read_bytes);
  usage.write_bytes = less(raw.write_bytes, base.write_bytes);
  usage.oom_kills = raw.oom_kills > base.oom_kills ? raw.oom_kills - base.oom_kills : 0;
  return usage;
}

bool same_device(const std::optional<DeviceNumber>& a, const std::optional<DeviceNumber>& b) {
  if (!a || !b) return !a && !b;
  return a->major == b->major && a->minor == b->minor;
}

}  // namespace

JobCgroup::JobCgroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobCgroup::JobCgroup(JobCgroup&&) noexcept = default;
JobCgroup& JobCgroup::operator=(JobCgroup&&) noexcept = default;

JobCgroup::~JobCgroup() {
  if (!impl_) return;
  try {
    std::shared_ptr<Pool> pool = impl_->pool.lock();
    if (pool && impl_->recycle()) {
      log::get("cgroup")->debug("job cgroup {} back in the pool", impl_->name);
      pool->idle.push_back(std::move(impl_));
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
  // Not reusable (or no pool): impl_'s destructor removes it.
}

Status JobCgroup::apply(const JobLimits& limits) {
  if (!impl_) return make_error("this job cgroup was moved from");
  JobLimits& in_force = impl_->in_force;
  JobLimits todo;
  JobLimits lift;
  if (limits.memory && limits.memory != in_force.memory) {
    todo.memory = limits.memory;
    // v1 keeps memsw >= memory: a raised limit is lifted first.
    if (impl_->version == 1 && in_force.memory && *limits.memory > *in_force.memory) {
      lift.memory = in_force.memory;
    }
  }
  if (limits.cpu && limits.cpu != in_force.cpu) todo.cpu = limits.cpu;
  if (limits.iops &&
      (limits.iops != in_force.iops || !same_device(limits.io_device, in_force.io_device))) {
    todo.iops = limits.iops;
    todo.io_device = limits.io_device;
    if (in_force.iops && !same_device(limits.io_device, in_force.io_device)) {
      lift.iops = in_force.iops;
      lift.io_device = in_force.io_device;
    }
  }
  if (!todo.memory && !todo.cpu && !todo.iops) return Ok{};
  if (Status lifted = impl_->lift(lift); !lifted) return lifted;
  Status status = impl_->version == 1 ? detail::v1_apply(impl_->places, todo)
                                      : detail::v2_apply(impl_->places.front(), todo);
  if (!status) {
    impl_->unfit = true;  // which of them the kernel took is unknown
    return status;
  }
  if (todo.memory) in_force.memory = todo.memory;
  if (todo.cpu) in_force.cpu = todo.cpu;
  if (todo.iops) {
    in_force.iops = todo.iops;
    in_force.io_device = todo.io_device;
  }
  return Ok{};
}

Status JobCgroup::lift_except(const JobLimits& kept) {
  if (!impl_) return make_error("this job cgroup was moved from");
  JobLimits& in_force = impl_->in_force;
  JobLimits lift;
  if (in_force.memory && !kept.memory) lift.memory = in_force.memory;
  if (in_force.cpu && !kept.cpu) lift.cpu = in_force.cpu;
  if (in_force.iops && (!kept.iops || !same_device(kept.io_device, in_force.io_device))) {
    lift.iops = in_force.iops;
    lift.io_device = in_force.io_device;
  }
  return impl_->lift(lift);
}

std::vector<int> JobCgroup::procs_fds() const {
  std::vector<int> fds;
  if (!impl_) return fds;
  impl_->may_be_entered();
  for (const UniqueFd& fd : impl_->procs)
    fds.push_back(fd.get());
  if (impl_->unified_procs) fds.push_back(impl_->unified_procs.get());
  return fds;
}

CgroupEntry JobCgroup::entry() const {
  CgroupEntry entry;
  if (!impl_) return entry;
  std::vector<int> fds = procs_fds();
  // The cgroup2 directory a process is created in: v2's only one, or the
  // hybrid's beside the v1 ones, which the child still writes itself into.
  // Either way its cgroup.procs is the last of procs_fds().
  const CgroupPlace* place = nullptr;
  if (impl_->version == 2 && fds.size() == 1) {
    place = &impl_->places.front();
  } else if (impl_->unified_procs) {
    place = detail::find_unified(impl_->places);
  }
  // A fixture tree (a plain directory) is no place to create a process in.
  if (!place || !place->files || !place->files->on_cgroup2() || place->files->dir_fd() < 0) {
    entry.procs = std::move(fds);
    return entry;
  }
  entry.dir = place->files->dir_fd();
  entry.dir_procs = fds.back();
  fds.pop_back();
  entry.procs = std::move(fds);
  return entry;
}

Status JobCgroup::add(pid_t pid) {
  if (!impl_) return make_error("this job cgroup was moved from");
  impl_->may_be_entered();
  std::vector<std::string> errors;
  for (const CgroupPlace& place : impl_->places) {
    Status status = detail::write_file(place.dir / "cgroup.procs", fmt::format("{}", pid));
    if (!status) errors.push_back(status.error().message);
  }
  return detail::join_errors(errors);
}

CgroupUsage JobCgroup::usage() const {
  if (!impl_) return {};
  CgroupUsage raw = impl_->raw_usage();
  // Read while empty: the last figures, the next job's zero should it reuse us.
  if (impl_->known_empty) impl_->final_raw = raw;
  return since(raw, impl_->baseline);
}

uint64_t JobCgroup::oom_kills() const {
  if (!impl_) return 0;
  uint64_t raw = impl_->version == 1 ? detail::v1_oom_kills(impl_->places)
                                     : detail::v2_oom_kills(impl_->places.front());
  return raw > impl_->baseline.oom_kills ? raw - impl_->baseline.oom_kills : 0;
}

std::optional<double> JobCgroup::cpu_seconds() const {
  if (!impl_) return std::nullopt;
  auto raw = impl_->version == 1 ? detail::v1_cpu_seconds(impl_->places)
                                 : detail::v2_cpu_seconds(impl_->places.front());
  return less(raw, impl_->baseline.cpu_seconds);
}

std::optional<Bytes> JobCgroup::memory_current() const {
  if (!impl_) return std::nullopt;
  return impl_->memory_current();
}

bool JobCgroup::populated() const {
  if (!impl_) return false;
  return impl_->populated();
}

void JobCgroup::assume_empty() {
  if (impl_) impl_->known_empty = true;
}

size_t JobCgroup::kill() {
  if (!impl_) return 0;
  // Most jobs leave nothing behind: one look at cgroup.procs instead of a
  // freeze and a walk of the tree. (A v1 job's own sub-cgroups are not seen
  // here; remove() finds and kills them.)
  if (!populated()) return 0;
  impl_->unfit = true;  // what it kills may take a while to go: not reused
  return detail::kill_cgroups(dirs());
}

Status JobCgroup::freeze(bool frozen) {
  if (!impl_) return make_error("this job cgroup was moved from");
  Status status = impl_->version == 1 ? detail::v1_freeze(impl_->places, frozen)
                                      : detail::v2_freeze(impl_->places.front(), frozen);
  if (status) {
    impl_->frozen = frozen;
  } else if (!frozen) {
    impl_->unfit = true;  // it may stay frozen
  }
  return status;
}

Status JobCgroup::remove() {
  if (!impl_) return Ok{};
  return impl_->remove();
}

const std::string& JobCgroup::name() const {
  static const std::string kNone;
  return impl_ ? impl_->name : kNone;
}

const char* JobCgroup::method() const {
  if (!impl_) return "";
  if (impl_->version == 2) return "cgroup v2";
  return detail::find_unified(impl_->places) ? "cgroup hybrid" : "cgroup v1";
}

std::vector<fs::path> JobCgroup::dirs() const {
  if (!impl_) return {};
  return dirs_of(impl_->places);
}

// ---- CgroupRun ----

struct CgroupRun::Impl {
  HostRoots roots;
  std::string run_name;
  detail::RunLayout layout;
  // v1: the disks every job's blkio rule covers, listed once a run.
  std::vector<DeviceNumber> counted_disks;
  std::shared_ptr<JobCgroup::Pool> pool = std::make_shared<JobCgroup::Pool>();

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl() {
    try {
      pool->idle.clear();  // each removes its own directories
      std::vector<fs::path> tops = owned_dirs();
      detail::kill_cgroups(tops);
      Status status = detail::remove_cgroups(tops, detail::kRemoveBudget);
      if (!status) log::get("cgroup")->debug("{}", status.error().message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }

  // What the run removes when it ends: its run directories, or, when wp
  // sits in <run>/supervisor, every job directory beside the supervisor.
  std::vector<fs::path> owned_dirs() const {
    std::vector<fs::path> dirs = dirs_of(layout.runs);
    if (!layout.supervisor) return dirs;
    std::vector<fs::path> jobs;
    std::error_code error;
    for (fs::directory_iterator it(dirs.front(), error), end; !error && it != end;
         it.increment(error)) {
      std::error_code type_error;
      if (it->is_directory(type_error) && it->path().filename() != "supervisor") {
        jobs.push_back(it->path());
      }
    }
    return jobs;
  }
};

CgroupRun::CgroupRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CgroupRun::CgroupRun(CgroupRun&&) noexcept = default;
CgroupRun& CgroupRun::operator=(CgroupRun&&) noexcept = default;
CgroupRun::~CgroupRun() = default;

Result<CgroupRun> CgroupRun::create(const CgroupRunOptions& options) {
  const HostRoots& roots = options.roots;
  int version = 0;
  auto unified = detail::Unified::No;
  switch (options.mode) {
    case CgroupMode::Off:
      return make_error("job cgroups are off (--cgroup off)");
    case CgroupMode::Auto:
      version = detail::v1_memory_mounted(roots) ? 1 : 2;
      unified = detail::Unified::IfUsable;
      break;
    case CgroupMode::Hybrid:
      version = 1;
      unified = detail::Unified::Required;
      break;
    case CgroupMode::V1:
      version = 1;
      break;
    case CgroupMode::V2:
      version = 2;
      break;
  }
  auto start = detail::process_start_time(roots.proc, "self");
  if (!start)
    return make_error("cannot read this process's start time from {}/self/stat",
                      roots.proc.string());
  auto impl = std::make_unique<Impl>();
  impl->roots = roots;
  impl->run_name = detail::format_run_name(::getpid(), *start);
  auto layout = version == 1
                    ? detail::make_v1_run(roots, impl->run_name, options.cpu_limits, unified)
                    : detail::make_v2_run(roots, impl->run_name);
  if (!layout) return layout.error();
  impl->layout = std::move(*layout);
  if (version == 1) impl->counted_disks = detail::counted_disks(roots);
  log::get("cgroup")->debug("job cgroups: {}", impl->layout.description);
  return CgroupRun(std::move(impl));
}

int CgroupRun::version() const {
  return impl_ ? impl_->layout.version : 0;
}

std::optional<fs::path> CgroupRun::cgroup2_dir() const {
  if (!impl_ || impl_->layout.runs.empty()) return std::nullopt;
  if (impl_->layout.version == 2) return impl_->layout.runs.front().dir;
  const CgroupPlace* unified = detail::find_unified(impl_->layout.runs);
  return unified ? std::optional<fs::path>(unified->dir) : std::nullopt;
}

std::string CgroupRun::describe() const {
  return impl_ ? impl_->layout.description : std::string();
}

const std::vector<std::string>& CgroupRun::missing() const {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->layout.missing : kNone;
}

std::vector<fs::path> CgroupRun::dirs() const {
  return impl_ ? dirs_of(impl_->layout.runs) : std::vector<fs::path>{};
}

Result<JobCgroup> CgroupRun::create_job(std::string_view name) {
  if (!impl_) return make_error("this cgroup run was moved from");
  std::string base = detail::sanitise_job_name(name);
  for (int n = 0; n < kMaxNameTries; ++n) {
    std::string candidate = n == 0 ? base : fmt::format("{}~{}", base, n);
    detail::CreatedDirs made;
    std::vector<CgroupPlace> places;
    int error = 0;
    for (const CgroupPlace& run : impl_->layout.runs) {
      places.push_back({run.dir / candidate, run.controllers, nullptr, run.unified});
      if ((error = made.make(places.back().dir, false)) != 0) break;
    }
    if (error == EEXIST) continue;  // `made` takes back what this name got
    if (error != 0) return detail::mkdir_error(places.back().dir, error);
    auto procs = open_procs(places);
    if (!procs) return procs.error();
    UniqueFd unified_procs;
    if (const CgroupPlace* unified = detail::find_unified(places)) {
      fs::path file = unified->dir / "cgroup.procs";
      unified_procs = UniqueFd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
      int open_error = errno;
      // As open_procs: only a fixture tree lacks it.
      if (!unified_procs && open_error != ENOENT) {
        return make_error("cannot open {}: {}", file.string(), std::strerror(open_error));
      }
    }
    made.release();
    auto impl = std::make_unique<JobCgroup::Impl>();
    impl->version = impl_->layout.version;
    impl->name = candidate;
    for (CgroupPlace& place : places)
      place.files = std::make_shared<detail::CgroupFiles>(place.dir);
    impl->places = std::move(places);
    impl->procs = std::move(*procs);
    impl->unified_procs = std::move(unified_procs);
    impl->pool = impl_->pool;
    impl->known_empty = true;
    if (impl->version == 1) detail::v1_prepare_job(impl->places, impl_->counted_disks);
    log::get("cgroup")->debug("job cgroup {} created", candidate);
    return JobCgroup(std::move(impl));
  }
  return make_error("no free name for job cgroup '{}' after {} tries", base, kMaxNameTries);
}

Result<JobCgroup> CgroupRun::acquire_job(const JobLimits& next) {
  if (!impl_) return make_error("this cgroup run was moved from");
  std::vector<std::unique_ptr<JobCgroup::Impl>>& idle = impl_->pool->idle;
  while (!idle.empty()) {
    JobCgroup job(std::move(idle.back()));
    idle.pop_back();
    // One whose old limits cannot be lifted is removed (unfit) when `job` goes.
    if (job.lift_except(next)) return job;
  }
  return create_job(fmt::format("slot-{}", ++impl_->pool->slots));
}

size_t CgroupRun::idle_jobs() const {
  return impl_ ? impl_->pool->idle.size() : 0;
}

size_t CgroupRun::clean_stale() {
  if (!impl_) return 0;
  std::map<std::string, std::vector<fs::path>> stale;
  std::vector<fs::path> parents = impl_->layout.neighbours;
  for (const CgroupPlace& run : impl_->layout.runs)
    parents.push_back(run.dir.parent_path());
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  for (const fs::path& parent : parents)
    find_stale(parent, impl_->run_name, impl_->roots.proc, stale);
  auto log = log::get("cgroup");
  size_t removed = 0;
  for (const auto& [name, dirs] : stale) {
    if (hides_processes(dirs)) {
      log->debug("left {}: it holds processes of another pid namespace", name);
      continue;
    }
    size_t killed = detail::kill_cgroups(dirs);
    Status status = detail::remove_cgroups(dirs, detail::kRemoveBudget);
    if (!status) {
      log->debug("stale run {}: {}", name, status.error().message);
      continue;
    }
    log->debug("removed the cgroups of stale run {} ({} processes killed)", name, killed);
    ++removed;
  }
  return removed;
}

}  // namespace wp::platform
