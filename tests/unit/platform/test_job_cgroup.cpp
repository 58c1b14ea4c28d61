// Job cgroups on this machine's real cgroups: they need root and the
// hierarchy in question, and are skipped with a warning elsewhere. Children
// are forked from the test and enter the job's cgroup through procs_fds()
// exactly as wp's spawn does.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "platform/job_cgroup.h"
#include "platform/linux/job_cgroup_internal.h"
#include "platform/process.h"
#include "util/unique_fd.h"

using namespace wp;
using namespace wp::platform;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr Bytes kMiB = Bytes{1} << 20;

// The one place that decides whether a real-cgroup test can run here.
bool real_cgroups_available(CgroupMode mode) {
  if (::geteuid() != 0) {
    WARN("skipped: real job cgroups need root");
    return false;
  }
  HostRoots roots;
  bool v1 = detail::v1_memory_mounted(roots);
  bool v2 = false;
  for (const detail::Mount& mount : detail::read_mounts(roots)) {
    if (mount.fs_type == "cgroup2") v2 = true;
  }
  bool mounted = mode == CgroupMode::V1 ? v1 : mode == CgroupMode::V2 ? v2 : v1 && v2;
  if (!mounted) {
    WARN("skipped: no " << (mode == CgroupMode::V1   ? "cgroup v1 memory hierarchy"
                            : mode == CgroupMode::V2 ? "cgroup2"
                                                     : "cgroup v1 memory hierarchy with cgroup2")
                        << " mounted here");
  }
  return mounted;
}

const char* mode_name(CgroupMode mode) {
  return mode == CgroupMode::V1 ? "v1" : mode == CgroupMode::V2 ? "v2" : "hybrid";
}

// A real run in `mode`, or nothing (said why) where this machine has none:
// hybrid also needs a kernel with cgroup.kill (5.14). Any other failure is
// one.
std::optional<CgroupRun> real_run(CgroupMode mode, bool cpu_limits = true) {
  if (!real_cgroups_available(mode)) return std::nullopt;
  auto run = CgroupRun::create({mode, {}, cpu_limits});
  if (!run.ok() && mode == CgroupMode::Hybrid &&
      run.error().message.find("the kernel is too old") != std::string::npos) {
    WARN("skipped: " << run.error().message);
    return std::nullopt;
  }
  INFO((run.ok() ? run->describe() : run.error().message));
  REQUIRE(run.ok());
  return std::move(*run);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A forked child, killed and reaped on scope exit unless waited for.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // The wait status, or -1 when it has not ended within `limit`.
  int wait(std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(2ms);
    }
    return -1;
  }

 private:
  pid_t pid_;
};

// Makes the test the reaper of orphans for its scope, so a killed
// double-forked grandchild comes back to be reaped (as it does to wp).
class SubreaperScope {
 public:
  SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L); }
  ~SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 0L, 0L, 0L, 0L); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;
  SubreaperScope(SubreaperScope&&) = delete;
  SubreaperScope& operator=(SubreaperScope&&) = delete;
};

// Forks a child that enters `job` (writing "0" into every procs fd, as
// spawn does between fork and exec) and runs `body`. Exit status 120: it
// could not enter.
Child fork_into(const JobCgroup& job, const std::function<int()>& body) {
  std::vector<int> fds = job.procs_fds();
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int fd : fds) {
      if (::write(fd, "0", 1) != 1) ::_exit(120);
    }
    ::_exit(body());
  }
  REQUIRE(pid > 0);
  return Child(pid);
}

double process_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

void burn_cpu(double seconds) {
  double until = process_cpu_seconds() + seconds;
  volatile uint64_t sink = 0;
  while (process_cpu_seconds() < until) {
    for (int i = 0; i < 10000; ++i)
      sink = sink + static_cast<uint64_t>(i);
  }
}

// mmap, not malloc: the sanitizers' allocator would add shadow memory.
void touch_memory(Bytes bytes) {
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) ::_exit(121);
  auto* pages = static_cast<volatile char*>(memory);
  for (Bytes offset = 0; offset < bytes; offset += 4096)
    pages[offset] = 1;
}

// A 256 KiB file on a disk, removed on scope exit.
class DiskFile {
 public:
  DiskFile() : path_(fs::temp_directory_path() / fmt::format("wp-cgroup-io-{}", ::getpid())) {
    std::string block(size_t{256} * 1024, 'x');
    std::ofstream(path_) << block;
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) ::fsync(fd), ::close(fd);
  }
  ~DiskFile() { ::unlink(path_.c_str()); }
  DiskFile(const DiskFile&) = delete;
  DiskFile& operator=(const DiskFile&) = delete;
  DiskFile(DiskFile&&) = delete;
  DiskFile& operator=(DiskFile&&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// 64 reads of 4 KiB with O_DIRECT: 64 block I/Os that no page cache absorbs.
bool direct_reads(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return false;
  void* buffer = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bool ok = buffer != MAP_FAILED;
  for (off_t i = 0; ok && i < 64; ++i)
    ok = ::pread(fd, buffer, 4096, i * 4096) == 4096;
  ::close(fd);
  return ok;
}

// A grandchild that calls setsid() (out of the job's process group and
// session) and sleeps; its pid comes back through a pipe.
pid_t start_escaped_grandchild(const JobCgroup& job, std::optional<Child>& child) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  child.emplace(fork_into(job, [&] {
    ::close(pipe_fds[0]);
    if (::fork() == 0) {
      ::setsid();
      pid_t self = ::getpid();
      if (::write(pipe_fds[1], &self, sizeof self) != sizeof self) ::_exit(1);
      ::close(pipe_fds[1]);
      while (true)
        ::pause();
    }
    ::close(pipe_fds[1]);
    while (true)
      ::pause();
    return 0;
  }));
  ::close(pipe_fds[1]);
  pid_t grandchild = 0;
  ssize_t got = ::read(pipe_fds[0], &grandchild, sizeof grandchild);
  ::close(pipe_fds[0]);
  REQUIRE(got == static_cast<ssize_t>(sizeof grandchild));
  return grandchild;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 2000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Kills the escaped grandchild through the job and checks both died of it.
void check_kill(JobCgroup& job) {
  SubreaperScope reaper;
  std::optional<Child> child;
  pid_t grandchild = start_escaped_grandchild(job, child);
  Child orphan(grandchild);
  CHECK(job.populated());
  CHECK(job.kill() >= 2u);
  int status = child->wait();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  int orphan_status = orphan.wait();
  CHECK(WIFSIGNALED(orphan_status));
  CHECK(WTERMSIG(orphan_status) == SIGKILL);
  CHECK(eventually([&] { return !job.populated(); }));
  CHECK(job.kill() == 0u);
}

bool all_gone(const std::vector<fs::path>& dirs) {
  for (const fs::path& dir : dirs) {
    if (fs::exists(dir)) return false;
  }
  return true;
}

// Removes a directory made by the test itself on scope exit.
class DirGuard {
 public:
  explicit DirGuard(fs::path dir) : dir_(std::move(dir)) { fs::create_directory(dir_); }
  ~DirGuard() { ::rmdir(dir_.c_str()); }
  DirGuard(const DirGuard&) = delete;
  DirGuard& operator=(const DirGuard&) = delete;
  DirGuard(DirGuard&&) = delete;
  DirGuard& operator=(DirGuard&&) = delete;

 private:
  fs::path dir_;
};

}  // namespace

// Hybrid: the same, with CPU time, freeze and kill through cgroup2.
TEST_CASE("real v1: a job's tree is measured, limited and killed", "[job_cgroup][root]") {
  CgroupMode mode = GENERATE(CgroupMode::V1, CgroupMode::Hybrid);
  INFO(mode_name(mode));
  auto run = real_run(mode);
  if (!run) return;
  INFO(run->describe());
  CHECK(run->version() == 1);
  CHECK(run->cgroup2_dir().has_value() == (mode == CgroupMode::Hybrid));
  // cpu is there for the quotas (with cpuacct where the two are co-mounted).
  CHECK_THAT(run->describe(), Catch::StartsWith("cgroup v1 (memory, cpu"));
  if (mode == CgroupMode::Hybrid) {
    CHECK_THAT(run->describe(), Catch::Contains(" and cgroup2 (CPU time, freeze, kill) under "));
    CHECK_THAT(run->describe(), !Catch::Contains("freezer"));
  } else {
    CHECK_THAT(run->describe(), Catch::Contains("cpuacct"));
  }
  auto job = run->create_job("measure me");
  REQUIRE(job.ok());
  CHECK(job->name() == "measure_me");
  CHECK(job->dirs().size() == run->dirs().size());
  CHECK(job->procs_fds().size() == run->dirs().size());

  SECTION("peak memory, CPU and block I/O of a child that exited") {
    DiskFile file;
    bool can_read_disk = disk_of(file.path()) && direct_reads(file.path());
    Child child = fork_into(*job, [&] {
      touch_memory(64 * kMiB);
      burn_cpu(0.3);
      if (can_read_disk && !direct_reads(file.path())) return 122;
      return 0;
    });
    int status = child.wait(10000ms);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CgroupUsage usage = job->usage();
    REQUIRE(usage.peak_memory);
    CHECK(*usage.peak_memory >= 64 * kMiB * 9 / 10);
    CHECK(*usage.peak_memory <= 64 * kMiB * 11 / 10 + 16 * kMiB);
    REQUIRE(usage.cpu_seconds);
    CHECK(*usage.cpu_seconds >= 0.29);
    CHECK(*usage.cpu_seconds <= 1.0);
    REQUIRE(usage.user_seconds);
    REQUIRE(usage.system_seconds);
    CHECK(*usage.user_seconds + *usage.system_seconds == Approx(*usage.cpu_seconds).margin(0.1));
    CHECK(job->cpu_seconds() == usage.cpu_seconds);
    CHECK(usage.oom_kills == 0u);
    if (can_read_disk) {
      // Counted only thanks to the rule create_job put on every disk.
      REQUIRE(usage.read_ops);
      CHECK(*usage.read_ops >= 64u);
      CHECK(*usage.read_bytes >= uint64_t{64} * 4096);
    } else {
      WARN("block I/O counting not checked: no disk with O_DIRECT under the temp directory");
    }
    CHECK_FALSE(job->populated());
  }

  SECTION("limits reach the kernel's files") {
    JobLimits limits;
    limits.memory = 256 * kMiB;
    limits.cpu = Cores::from_millis(500);
    limits.iops = 1000;
    limits.io_device = disk_of("/");
    if (!limits.io_device) limits.iops.reset();
    Status applied = job->apply(limits);
    INFO((applied.ok() ? "" : applied.error().message));
    REQUIRE(applied.ok());
    const fs::path* memory = nullptr;
    std::vector<fs::path> dirs = job->dirs();
    for (const fs::path& dir : dirs) {
      if (fs::exists(dir / "memory.limit_in_bytes")) memory = &dir;
      if (fs::exists(dir / "cpu.cfs_quota_us")) {
        CHECK(read_file(dir / "cpu.cfs_quota_us") == "50000\n");
      }
      if (limits.io_device && fs::exists(dir / "blkio.throttle.read_iops_device")) {
        CHECK_THAT(read_file(dir / "blkio.throttle.read_iops_device"),
                   Catch::Contains(fmt::format("{}:{} 1000", limits.io_device->major,
                                               limits.io_device->minor)));
      }
    }
    REQUIRE(memory);
    CHECK(read_file(*memory / "memory.limit_in_bytes") == "268435456\n");
  }

  SECTION("kill() reaches a double-forked grandchild that called setsid()") {
    check_kill(*job);
    REQUIRE(job->freeze(true).ok());
    REQUIRE(job->freeze(false).ok());
  }

  std::vector<fs::path> dirs = job->dirs();
  Status removed = job->remove();
  INFO((removed.ok() ? "" : removed.error().message));
  CHECK(removed.ok());
  CHECK(all_gone(dirs));
}

// A cgroup of the run's pool holds one job after another: each is measured
// from its own start and held to its own limits.
TEST_CASE("real v1: a reused cgroup reports its new job's peak, CPU and limit",
          "[job_cgroup][root]") {
  CgroupMode mode = GENERATE(CgroupMode::V1, CgroupMode::Hybrid);
  INFO(mode_name(mode));
  auto run = real_run(mode);
  if (!run) return;
  std::vector<fs::path> dirs;
  fs::path memory_dir;
  {
    auto first = run->acquire_job({256 * kMiB, {}, {}, {}});
    REQUIRE(first.ok());
    CHECK_THAT(first->name(), Catch::StartsWith("slot-"));
    dirs = first->dirs();
    for (const fs::path& dir : dirs) {
      if (fs::exists(dir / "memory.limit_in_bytes")) memory_dir = dir;
    }
    REQUIRE_FALSE(memory_dir.empty());
    REQUIRE(first->apply({256 * kMiB, {}, {}, {}}).ok());
    Child child = fork_into(*first, [] {
      touch_memory(64 * kMiB);
      burn_cpu(0.3);
      return 0;
    });
    REQUIRE(WIFEXITED(child.wait(10000ms)));
    CHECK(first->kill() == 0u);  // as the runner does when the main process ends
    CgroupUsage usage = first->usage();
    REQUIRE(usage.peak_memory);
    CHECK(*usage.peak_memory >= 60 * kMiB);
    CHECK(*usage.cpu_seconds >= 0.29);
  }
  CHECK(run->idle_jobs() == 1u);

  auto second = run->acquire_job({128 * kMiB, {}, {}, {}});
  REQUIRE(second.ok());
  CHECK(run->idle_jobs() == 0u);
  CHECK(second->dirs() == dirs);  // the same cgroup
  REQUIRE(second->apply({128 * kMiB, {}, {}, {}}).ok());
  CHECK(read_file(memory_dir / "memory.limit_in_bytes") == "134217728\n");
  Child child = fork_into(*second, [] {
    touch_memory(8 * kMiB);
    return 0;
  });
  REQUIRE(WIFEXITED(child.wait(10000ms)));
  CHECK_FALSE(second->populated());
  CgroupUsage usage = second->usage();
  REQUIRE(usage.peak_memory);
  // Its own 8 MiB and what little the first left charged, not 64 MiB.
  CHECK(*usage.peak_memory >= 8 * kMiB);
  CHECK(*usage.peak_memory <= 12 * kMiB);
  REQUIRE(usage.cpu_seconds);
  CHECK(*usage.cpu_seconds < 0.2);
  CHECK(second->cpu_seconds() < 0.2);
  CHECK(second->oom_kills() == 0u);

  SECTION("a higher limit, then none") {
    { JobCgroup done = std::move(*second); }
    auto third = run->acquire_job({512 * kMiB, {}, {}, {}});
    REQUIRE(third.ok());
    REQUIRE(third->apply({512 * kMiB, {}, {}, {}}).ok());
    CHECK(read_file(memory_dir / "memory.limit_in_bytes") == "536870912\n");
    { JobCgroup done = std::move(*third); }
    auto fourth = run->acquire_job({});
    REQUIRE(fourth.ok());
    CHECK(fourth->dirs() == dirs);
    // Unlimited: the largest multiple of the page size.
    CHECK(read_file(memory_dir / "memory.limit_in_bytes").size() > 15);
  }

  SECTION("one that kept a process is removed, not reused") {
    SubreaperScope reaper;
    std::optional<Child> parent;
    Child orphan(start_escaped_grandchild(*second, parent));
    CHECK(second->kill() >= 1u);
    { JobCgroup done = std::move(*second); }
    CHECK(run->idle_jobs() == 0u);
    CHECK(all_gone(dirs));
  }

  SECTION("one the job made a cgroup in is removed, not reused") {
    fs::create_directory(memory_dir / "inner");
    { JobCgroup done = std::move(*second); }
    CHECK(run->idle_jobs() == 0u);
    CHECK(all_gone(dirs));
  }
}

TEST_CASE("real v1: clean_stale removes a dead run and leaves a live one", "[job_cgroup][root]") {
  if (!real_cgroups_available(CgroupMode::V1)) return;
  // pid 999999 is above any pid_max this test meets; pid 1 lives.
  REQUIRE_FALSE(fs::exists("/proc/999999"));
  auto init_start = detail::process_start_time("/proc", "1");
  REQUIRE(init_start);
  std::vector<fs::path> run_dirs;
  {
    auto run = CgroupRun::create({CgroupMode::V1, {}});
    REQUIRE(run.ok());
    run_dirs = run->dirs();
    std::vector<std::unique_ptr<DirGuard>> guards;
    std::vector<fs::path> stale;
    std::vector<fs::path> live;
    for (const fs::path& dir : run->dirs()) {
      stale.push_back(dir.parent_path() / "wp-999999-1");
      live.push_back(dir.parent_path() / fmt::format("wp-1-{}", *init_start));
      guards.push_back(std::make_unique<DirGuard>(stale.back()));
      guards.push_back(std::make_unique<DirGuard>(stale.back() / "job-1"));
      guards.push_back(std::make_unique<DirGuard>(live.back()));
    }
    // Other runs that died here (a crashed test) may be cleaned up too.
    CHECK(run->clean_stale() >= 1u);
    CHECK(all_gone(stale));
    for (const fs::path& dir : live)
      CHECK(fs::exists(dir));
    for (const fs::path& dir : run->dirs())
      CHECK(fs::exists(dir));
    // Guards go first (the live fake), then the run.
  }
  CHECK(all_gone(run_dirs));
}

TEST_CASE("real v2: the unified hierarchy without controllers", "[job_cgroup][root]") {
  if (!real_cgroups_available(CgroupMode::V2)) return;
  auto run = CgroupRun::create({CgroupMode::V2, {}});
  REQUIRE(run.ok());
  INFO(run->describe());
  CHECK(run->version() == 2);
  std::vector<fs::path> run_dirs = run->dirs();
  REQUIRE(run_dirs.size() == 1u);
  auto job = run->create_job("v2 job");
  REQUIRE(job.ok());
  REQUIRE(job->procs_fds().size() == 1u);
  const auto& missing = run->missing();
  bool has_memory = std::find(missing.begin(), missing.end(), "memory") == missing.end();

  SECTION("CPU and membership") {
    Child child = fork_into(*job, [] {
      burn_cpu(0.2);
      return 0;
    });
    REQUIRE(WIFEXITED(child.wait()));
    auto seconds = job->cpu_seconds();
    REQUIRE(seconds);
    CHECK(*seconds >= 0.19);
    CHECK(*seconds <= 1.0);
    CgroupUsage usage = job->usage();
    CHECK(usage.cpu_seconds == seconds);
    if (has_memory) {
      CHECK(usage.peak_memory);
    } else {
      // No memory controller for the jobs (this machine's unified hierarchy
      // offers only hugetlb): the figures are unknown, not 0.
      CHECK_FALSE(usage.peak_memory);
      CHECK_FALSE(job->memory_current());
    }
  }

  SECTION("kill() through cgroup.kill reaches an escaped grandchild") {
    check_kill(*job);
  }

  std::vector<fs::path> dirs = job->dirs();
  CHECK(job->remove().ok());
  CHECK(all_gone(dirs));
}

TEST_CASE("real v2: a reused cgroup counts its new job's CPU only", "[job_cgroup][root]") {
  if (!real_cgroups_available(CgroupMode::V2)) return;
  auto run = CgroupRun::create({CgroupMode::V2, {}});
  REQUIRE(run.ok());
  std::vector<fs::path> dirs;
  {
    auto first = run->acquire_job();
    REQUIRE(first.ok());
    dirs = first->dirs();
    Child child = fork_into(*first, [] {
      burn_cpu(0.3);
      return 0;
    });
    REQUIRE(WIFEXITED(child.wait()));
    CHECK(first->kill() == 0u);
    CHECK(first->cpu_seconds() >= 0.29);
  }
  const auto& missing = run->missing();
  bool has_memory = std::find(missing.begin(), missing.end(), "memory") == missing.end();
  if (has_memory && run->idle_jobs() == 0) {
    WARN("not reused: memory.peak cannot be reset before Linux 6.12");
    return;
  }
  REQUIRE(run->idle_jobs() == 1u);
  auto second = run->acquire_job();
  REQUIRE(second.ok());
  CHECK(second->dirs() == dirs);
  Child child = fork_into(*second, [] { return 0; });
  REQUIRE(WIFEXITED(child.wait()));
  auto seconds = second->cpu_seconds();
  REQUIRE(seconds);
  CHECK(*seconds < 0.2);
  CHECK(second->usage().cpu_seconds == seconds);
}

namespace {

// Whether a process can be created in a cgroup here: clone3 (Linux 5.3)
// that no seccomp filter refuses (it answers EINVAL to a size of 0), and
// CLONE_INTO_CGROUP (5.7).
bool clone_into_cgroup_possible() {
  errno = 0;
  if (::syscall(SYS_clone3, nullptr, 0) != -1 || errno != EINVAL) return false;
  struct utsname name {};
  if (::uname(&name) != 0) return false;
  unsigned major = 0;
  unsigned minor = 0;
  if (std::sscanf(name.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 7);
}

// All a pipe's read end holds once its writers are gone.
std::string read_fd(int fd) {
  std::string text;
  char buffer[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<size_t>(n));
  return text;
}

// Spawns `cat /proc/self/cgroup` as wp does, with `entry`, and returns its
// cgroup v2 line ("0::/...") and whether anything was written to the pipe
// standing in for the cgroup's cgroup.procs.
struct Spawn {
  std::string v2_line;
  std::string memory_line;  // v1's, "4:memory:/..."
  std::string procs_written;
};
Spawn spawn_cat(CgroupEntry entry, bool wait_for_exec, bool procs_is_pipe) {
  auto out = make_pipe();
  auto procs = make_pipe();
  REQUIRE(out.ok());
  REQUIRE(procs.ok());
  if (procs_is_pipe) entry.dir_procs = procs->write.get();
  SpawnRequest request;
  request.executable = "/bin/cat";
  request.argv = {"cat", "/proc/self/cgroup"};
  request.cwd = "/";
  request.stdout_fd = out->write.get();
  request.stderr_fd = out->write.get();
  request.cgroup = entry;
  request.wait_for_exec = wait_for_exec;
  auto spawned = spawn(std::move(request));
  REQUIRE(spawned.ok());
  int status = 0;
  REQUIRE(::waitpid(spawned->pid(), &status, 0) == spawned->pid());
  CHECK_FALSE(spawned->failure());
  CHECK(WIFEXITED(status));
  out->write.reset();
  procs->write.reset();
  Spawn result;
  std::string text = read_fd(out->read.get());
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) == 0) result.v2_line = line;
    if (line.find(":memory:") != std::string::npos) result.memory_line = line;
  }
  result.procs_written = read_fd(procs->read.get());
  return result;
}

}  // namespace

TEST_CASE("real v2: a spawned job is created inside its cgroup, not moved in",
          "[job_cgroup][root][spawn]") {
  if (!real_cgroups_available(CgroupMode::V2)) return;
  auto run = CgroupRun::create({CgroupMode::V2, {}});
  REQUIRE(run.ok());
  auto job = run->acquire_job();
  REQUIRE(job.ok());
  CgroupEntry entry = job->entry();
  REQUIRE(entry.dir >= 0);
  REQUIRE(entry.dir_procs >= 0);
  CHECK(entry.procs.empty());
  std::string where = "/" + job->name();
  auto in_job = [&](const Spawn& spawned) {
    INFO(spawned.v2_line);
    return spawned.v2_line.size() > where.size() &&
           spawned.v2_line.compare(spawned.v2_line.size() - where.size(), where.size(), where) == 0;
  };

#if defined(__x86_64__)
  SECTION("clone3 puts it there: cgroup.procs is never written") {
    if (!clone_into_cgroup_possible()) {
      WARN("skipped: this kernel (or a seccomp filter) has no clone3 with CLONE_INTO_CGROUP");
      return;
    }
    Spawn spawned = spawn_cat(entry, false, true);
    CHECK(in_job(spawned));
    CHECK(spawned.procs_written.empty());
  }
  SECTION("where the kernel refuses the directory, the child writes cgroup.procs") {
    UniqueFd not_a_cgroup(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(not_a_cgroup);
    entry.dir = not_a_cgroup.get();
    Spawn spawned = spawn_cat(entry, false, false);
    CHECK(in_job(spawned));
  }
#endif
  SECTION("waiting for the exec, the child writes cgroup.procs") {
    Spawn spawned = spawn_cat(entry, true, false);
    CHECK(in_job(spawned));
  }
}

bool ends_with(const std::string& text, const std::string& end) {
  return text.size() > end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// Hybrid: created inside the cgroup2 directory, the child moves itself into
// the memory and blkio hierarchies only.
TEST_CASE("real hybrid: a spawned job is created in cgroup2 and enters the v1 hierarchies",
          "[job_cgroup][root][spawn]") {
  auto run = real_run(CgroupMode::Hybrid, /*cpu_limits=*/false);
  if (!run) return;
  auto job = run->acquire_job();
  REQUIRE(job.ok());
  CgroupEntry entry = job->entry();
  REQUIRE(entry.dir >= 0);
  REQUIRE(entry.dir_procs >= 0);
  // memory and blkio; no cpu without quotas, no cpuacct, no freezer.
  CHECK(entry.procs.size() == job->dirs().size() - 1);
  for (const fs::path& dir : job->dirs()) {
    INFO(dir);
    CHECK_FALSE(fs::exists(dir / "cpuacct.usage"));
    CHECK_FALSE(fs::exists(dir / "freezer.state"));
  }
  std::string where = "/" + job->name();
#if defined(__x86_64__)
  SECTION("clone3 puts it in cgroup2; it writes the v1 cgroup.procs itself") {
    if (!clone_into_cgroup_possible()) {
      WARN("skipped: this kernel (or a seccomp filter) has no clone3 with CLONE_INTO_CGROUP");
      return;
    }
    Spawn spawned = spawn_cat(entry, false, true);
    INFO(spawned.v2_line << " / " << spawned.memory_line);
    CHECK(ends_with(spawned.v2_line, where));
    CHECK(ends_with(spawned.memory_line, where));
    CHECK(spawned.procs_written.empty());
  }
#endif
  SECTION("waiting for the exec, the child writes every cgroup.procs") {
    Spawn spawned = spawn_cat(entry, true, false);
    INFO(spawned.v2_line << " / " << spawned.memory_line);
    CHECK(ends_with(spawned.v2_line, where));
    CHECK(ends_with(spawned.memory_line, where));
  }
  CHECK(eventually([&] { return !job->populated(); }));
  CgroupUsage usage = job->usage();
  REQUIRE(usage.cpu_seconds);  // from cgroup2's cpu.stat
  REQUIRE(usage.peak_memory);  // from v1's memory hierarchy
  CHECK(*usage.peak_memory > 0u);
}

TEST_CASE("real: a run's end removes the job cgroups it still has", "[job_cgroup][root]") {
  for (CgroupMode mode : {CgroupMode::V1, CgroupMode::V2, CgroupMode::Hybrid}) {
    INFO(mode_name(mode));
    std::vector<fs::path> run_dirs;
    std::vector<fs::path> job_dirs;
    {
      auto run = real_run(mode);
      if (!run) continue;
      run_dirs = run->dirs();
      auto job = run->create_job("left over");
      REQUIRE(job.ok());
      job_dirs = job->dirs();
      Child child = fork_into(*job, [] {
        while (true)
          ::pause();
        return 0;
      });
      CHECK(eventually([&] { return job->populated(); }));
      // The job outlives the run object: the run kills and removes it.
      JobCgroup survivor = std::move(*job);
      { CgroupRun ending = std::move(*run); }
      CHECK(all_gone(job_dirs));
      CHECK(all_gone(run_dirs));
      int status = child.wait();
      CHECK(WIFSIGNALED(status));
    }
  }
}

TEST_CASE("real: kill_and_remove_cgroup_dirs cleans up for a dead wp", "[job_cgroup][root]") {
  CgroupMode mode = GENERATE(CgroupMode::V1, CgroupMode::Hybrid);
  INFO(mode_name(mode));
  auto run = real_run(mode);
  if (!run) return;
  auto job = run->create_job("orphaned");
  REQUIRE(job.ok());
  Child child = fork_into(*job, [] {
    while (true)
      ::pause();
    return 0;
  });
  CHECK(eventually([&] { return job->populated(); }));
  std::vector<fs::path> run_dirs = run->dirs();
  kill_and_remove_cgroup_dirs(run_dirs);
  int status = child.wait();
  CHECK(WIFSIGNALED(status));
  CHECK(all_gone(run_dirs));
}
