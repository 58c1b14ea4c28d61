// Job cgroups against fake machines: a scratch tree with proc/self/{mountinfo,
// cgroup,stat} and a cgroup filesystem under sys/, built per test because
// the interesting contents (this process's pid in cgroup.procs) are known
// only at run time. A plain mkdir makes no interface files, so each test
// creates the files it wants written or read; the code takes a missing file
// for "not available here".
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "platform/job_cgroup.h"
#include "platform/linux/job_cgroup_internal.h"
#include "scratch_root.h"

using namespace wp;
using namespace wp::platform;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kStart = 4242;
constexpr Bytes kMiB = Bytes{1} << 20;

// A scratch machine whose proc/self/stat says wp started at kStart.
class Scratch : public wp::test::ScratchRoot {
 public:
  Scratch() { write("proc/self/stat", stat_text(::getpid(), kStart)); }

  static std::string stat_text(pid_t pid, uint64_t start) {
    return fmt::format("{} (wp (test)) S 1 {} {} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {} 1 1\n",
                       pid, pid, pid, start);
  }
};

const std::string kRunName = fmt::format("wp-{}-{}", ::getpid(), kStart);
const std::string kPid = fmt::format("{}\n", ::getpid());

// A cgroup2-only machine, wp in `cgroup`; cg/ is /sys/fs/cgroup.
void v2_machine(const Scratch& scratch, const std::string& cgroup) {
  scratch.write("proc/self/mountinfo",
                "25 1 254:0 / / rw - ext4 /dev/vda rw\n"
                "41 31 0:38 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  scratch.write("proc/self/cgroup", "0::" + cgroup + "\n");
  scratch.mkdir(fs::path("sys/fs/cgroup") / fs::path(cgroup).relative_path());
}

Result<CgroupRun> make_run(const Scratch& scratch, CgroupMode mode = CgroupMode::V2) {
  auto run = CgroupRun::create({mode, scratch.roots()});
  if (!run.ok()) UNSCOPED_INFO(run.error().message);
  return run;
}

const fs::path kCg = "sys/fs/cgroup";

}  // namespace

TEST_CASE("v2: wp in the root cgroup puts the run under the root", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  scratch.write(kCg / "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  scratch.write(kCg / "cgroup.subtree_control", "memory\n");
  scratch.write(kCg / "cgroup.procs", "1\n" + kPid);  // the root may hold processes
  scratch.write(kCg / kRunName / "cgroup.subtree_control", "");

  auto run = make_run(scratch);
  REQUIRE(run.ok());
  CHECK(run->version() == 2);
  CHECK(run->dirs() == std::vector<fs::path>{scratch.path(kCg / kRunName)});
  CHECK(run->cgroup2_dir() == scratch.path(kCg / kRunName));
  CHECK_FALSE((run->version() == 1 && run->cgroup2_dir()));
  CHECK(run->describe() ==
        "cgroup v2 (memory, cpu, io, pids) under /" + kRunName + " (wp's cgroup is the root)");
  CHECK(run->missing().empty());
  // memory was on already; the others are enabled at the root, then all in the run.
  CHECK(scratch.read(kCg / "cgroup.subtree_control") == "+cpu +io +pids");
  CHECK(scratch.read(kCg / kRunName / "cgroup.subtree_control") == "+memory +cpu +io +pids");
}

TEST_CASE("v2: wp alone in its cgroup moves itself into <run>/supervisor", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/a/b");
  fs::path own = kCg / "a/b";
  scratch.write(own / "cgroup.type", "domain\n");
  scratch.write(own / "cgroup.procs", kPid);
  scratch.write(own / "cgroup.controllers", "cpu io memory\n");
  scratch.write(own / "cgroup.subtree_control", "");
  scratch.write(own / kRunName / "cgroup.subtree_control", "");
  scratch.write(own / kRunName / "supervisor/cgroup.procs", "");
  {
    auto run = make_run(scratch);
    REQUIRE(run.ok());
    CHECK(run->dirs() == std::vector<fs::path>{scratch.path(own / kRunName)});
    CHECK(run->describe() == fmt::format("cgroup v2 (memory, cpu, io) under /a/b/{} (wp moved "
                                         "itself into /a/b/{}/supervisor)",
                                         kRunName, kRunName));
    CHECK(run->missing() == std::vector<std::string>{"pids"});
    CHECK(scratch.read(own / kRunName / "supervisor/cgroup.procs") ==
          fmt::format("{}", ::getpid()));
    CHECK(scratch.read(own / "cgroup.subtree_control") == "+memory +cpu +io");
    CHECK(scratch.read(own / kRunName / "cgroup.subtree_control") == "+memory +cpu +io");

    // A job may not take the supervisor's place.
    auto job = run->create_job("supervisor");
    REQUIRE(job.ok());
    CHECK(job->name() == "supervisor~1");
    REQUIRE(job->remove().ok());
    CHECK_FALSE(scratch.exists(own / kRunName / "supervisor~1"));
  }
  // wp is inside the supervisor: the run's end leaves it for a later clean_stale.
  CHECK(scratch.exists(own / kRunName / "supervisor"));
}

TEST_CASE("v2: wp in a cgroup with other processes puts the run beside it", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/a/b");
  scratch.write(kCg / "a/b/cgroup.type", "domain\n");
  scratch.write(kCg / "a/b/cgroup.procs", "1\n" + kPid);
  scratch.write(kCg / "a/cgroup.subtree_control", "cpu memory\n");
  scratch.write(kCg / "a" / kRunName / "cgroup.subtree_control", "");

  auto run = make_run(scratch);
  REQUIRE(run.ok());
  CHECK(run->dirs() == std::vector<fs::path>{scratch.path(kCg / "a" / kRunName)});
  CHECK(run->describe() == fmt::format("cgroup v2 (memory, cpu) under /a/{} (beside wp's cgroup "
                                       "/a/b, which holds other processes)",
                                       kRunName));
  CHECK(run->missing() == std::vector<std::string>{"io", "pids"});
  CHECK(scratch.read(kCg / "a" / kRunName / "cgroup.subtree_control") == "+memory +cpu");
}

TEST_CASE("v2: a cgroup namespace's root shared with others has no place", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  scratch.write(kCg / "cgroup.type", "domain\n");  // only the real root lacks it
  scratch.write(kCg / "cgroup.procs", "1\n" + kPid);
  auto run = make_run(scratch);
  REQUIRE_FALSE(run.ok());
  CHECK_THAT(run.error().message, Catch::Contains("there is no place for job cgroups"));
}

TEST_CASE("modes: Off, Auto and missing filesystems", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  scratch.write(kCg / "cgroup.procs", kPid);
  auto off = make_run(scratch, CgroupMode::Off);
  REQUIRE_FALSE(off.ok());
  CHECK(off.error().message == "job cgroups are off (--cgroup off)");

  auto automatic = make_run(scratch, CgroupMode::Auto);
  REQUIRE(automatic.ok());
  CHECK(automatic->version() == 2);

  auto v1 = make_run(scratch, CgroupMode::V1);
  REQUIRE_FALSE(v1.ok());
  CHECK_THAT(v1.error().message, Catch::Contains("no cgroup v1 hierarchy"));
}

TEST_CASE("v2: limits go to memory.max, cpu.max and io.max", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  auto run = make_run(scratch);
  REQUIRE(run.ok());
  auto job = run->create_job("my job/1");
  REQUIRE(job.ok());
  CHECK(job->name() == "my_job_1");
  fs::path dir = kCg / kRunName / "my_job_1";
  REQUIRE(job->dirs() == std::vector<fs::path>{scratch.path(dir)});
  auto again = run->create_job("my job/1");
  REQUIRE(again.ok());
  CHECK(again->name() == "my_job_1~1");

  for (const char* file : {"memory.max", "memory.oom.group", "cpu.max", "io.max"}) {
    scratch.write(dir / file, "");
  }
  JobLimits limits;
  limits.memory = 64 * kMiB;
  limits.cpu = Cores::from_millis(1500);
  limits.iops = 300;
  limits.io_device = DeviceNumber{8, 0};
  REQUIRE(job->apply(limits).ok());
  CHECK(scratch.read(dir / "memory.max") == "67108864");
  CHECK(scratch.read(dir / "memory.oom.group") == "1");
  CHECK(scratch.read(dir / "cpu.max") == "150000 100000");
  CHECK(scratch.read(dir / "io.max") == "8:0 riops=300 wiops=300");

  SECTION("a tiny CPU share still gets the kernel's minimum quota") {
    JobLimits tiny;
    tiny.cpu = Cores::from_millis(1);
    REQUIRE(job->apply(tiny).ok());
    CHECK(scratch.read(dir / "cpu.max") == "1000 100000");
  }
  SECTION("a limit without its file is an error naming it; the others are written") {
    fs::remove(scratch.path(dir / "io.max"));
    // New values: one already in force is not written again.
    limits.memory = 1024 * kMiB;
    limits.iops = 400;
    Status status = job->apply(limits);
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message,
               Catch::Contains("io.max") && Catch::Contains("io controller"));
    CHECK(scratch.read(dir / "memory.max") == "1073741824");
  }
  SECTION("iops without a device is an error") {
    limits.io_device.reset();
    CHECK_FALSE(job->apply(limits).ok());
  }
}

TEST_CASE("v2: usage is read from the job's files", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  auto run = make_run(scratch);
  REQUIRE(run.ok());
  auto job = run->create_job("j");
  REQUIRE(job.ok());
  fs::path dir = kCg / kRunName / "j";
  CHECK(std::string(job->method()) == "cgroup v2");

  CgroupUsage none = job->usage();
  CHECK_FALSE(none.peak_memory);
  CHECK_FALSE(none.cpu_seconds);
  CHECK_FALSE(none.read_ops);
  CHECK(none.oom_kills == 0u);
  CHECK_FALSE(job->cpu_seconds());
  CHECK_FALSE(job->memory_current());
  CHECK_FALSE(job->populated());
  CHECK_FALSE(job->freeze(true).ok());

  scratch.write(dir / "memory.peak", "70000000\n");
  scratch.write(dir / "memory.current", "123\n");
  scratch.write(dir / "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
  scratch.write(dir / "io.stat",
                "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
                "8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  scratch.write(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
  scratch.write(dir / "cgroup.events", "populated 1\nfrozen 0\n");
  scratch.write(dir / "cgroup.freeze", "0");

  CgroupUsage usage = job->usage();
  CHECK(usage.peak_memory == Bytes{70000000});
  CHECK(usage.cpu_seconds == Approx(1.5));
  CHECK(usage.user_seconds == Approx(1.0));
  CHECK(usage.system_seconds == Approx(0.5));
  CHECK(usage.read_ops == 2u);
  CHECK(usage.write_ops == 2u);
  CHECK(usage.read_bytes == 8192u);
  CHECK(usage.write_bytes == 8192u);
  CHECK(usage.oom_kills == 2u);
  CHECK(job->cpu_seconds() == Approx(1.5));
  CHECK(job->memory_current() == Bytes{123});
  CHECK(job->populated());
  REQUIRE(job->freeze(true).ok());
  CHECK(scratch.read(dir / "cgroup.freeze") == "1");
}

TEST_CASE("clean_stale removes runs whose wp is gone and leaves live ones", "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  scratch.mkdir(kCg / "wp-999999-1/job-1");  // no such process
  scratch.mkdir(kCg / "wp-77-5");            // alive: pid 77 started at 5
  scratch.write("proc/77/stat", Scratch::stat_text(77, 5));
  scratch.mkdir(kCg / "wp-78-5");  // pid 78 is another process now
  scratch.write("proc/78/stat", Scratch::stat_text(78, 6));
  scratch.mkdir(kCg / "wp-x-1");
  scratch.mkdir(kCg / "system.slice");

  auto run = make_run(scratch);
  REQUIRE(run.ok());
  CHECK(run->clean_stale() == 2u);
  CHECK_FALSE(scratch.exists(kCg / "wp-999999-1"));
  CHECK_FALSE(scratch.exists(kCg / "wp-78-5"));
  CHECK(scratch.exists(kCg / "wp-77-5"));
  CHECK(scratch.exists(kCg / "wp-x-1"));
  CHECK(scratch.exists(kCg / "system.slice"));
  CHECK(scratch.exists(kCg / kRunName));
  CHECK(run->clean_stale() == 0u);
}

namespace {

// A v1 machine with cpu and cpuacct co-mounted, no cpuset, wp's memory
// cgroup at /user/x; cg/ holds the hierarchies.
void v1_machine(const Scratch& scratch, bool with_freezer) {
  std::string mounts =
      "25 1 254:0 / / rw - ext4 /dev/vda rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "38 31 0:35 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  if (with_freezer) mounts += "37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";
  scratch.write("proc/self/mountinfo", mounts);
  scratch.write("proc/self/cgroup",
                "9:name=systemd:/\n7:blkio:/\n6:freezer:/\n4:memory:/user/x\n"
                "2:cpu,cpuacct:/\n0::/\n");
  for (const char* dir : {"cpu,cpuacct", "memory/user/x", "blkio", "freezer", "unified"}) {
    scratch.mkdir(fs::path("sys/fs/cgroup") / dir);
  }
}

}  // namespace

TEST_CASE("v1: one run directory per hierarchy, co-mounted ones once", "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, true);
  auto run = make_run(scratch, CgroupMode::Auto);
  REQUIRE(run.ok());
  CHECK(run->version() == 1);
  CHECK(run->dirs() == std::vector<fs::path>{scratch.path(kCg / "cpu,cpuacct" / kRunName),
                                             scratch.path(kCg / "memory/user/x" / kRunName),
                                             scratch.path(kCg / "blkio" / kRunName),
                                             scratch.path(kCg / "freezer" / kRunName)});
  CHECK(run->missing().empty());
  CHECK(run->describe() ==
        "cgroup v1 (memory, cpu, cpuacct, blkio, freezer) under /user/x/" + kRunName);
}

TEST_CASE("v1: limits and usage", "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, false);
  auto run = make_run(scratch, CgroupMode::V1);
  REQUIRE(run.ok());
  CHECK(run->missing() == std::vector<std::string>{"freezer"});
  auto job = run->create_job("j");
  REQUIRE(job.ok());
  REQUIRE(job->dirs().size() == 3);
  CHECK(std::string(job->method()) == "cgroup v1");
  fs::path cpu = kCg / "cpu,cpuacct" / kRunName / "j";
  fs::path memory = kCg / "memory/user/x" / kRunName / "j";
  fs::path blkio = kCg / "blkio" / kRunName / "j";
  CHECK_FALSE(job->freeze(true).ok());

  for (const fs::path& file :
       {memory / "memory.limit_in_bytes", memory / "memory.memsw.limit_in_bytes",
        cpu / "cpu.cfs_period_us", cpu / "cpu.cfs_quota_us",
        blkio / "blkio.throttle.read_iops_device", blkio / "blkio.throttle.write_iops_device"}) {
    scratch.write(file, "");
  }
  SECTION("limits") {
    JobLimits limits;
    limits.memory = 512 * kMiB;
    limits.cpu = Cores::from_millis(250);
    limits.iops = 100;
    limits.io_device = DeviceNumber{8, 0};
    REQUIRE(job->apply(limits).ok());
    CHECK(scratch.read(memory / "memory.limit_in_bytes") == "536870912");
    CHECK(scratch.read(memory / "memory.memsw.limit_in_bytes") == "536870912");
    CHECK(scratch.read(cpu / "cpu.cfs_period_us") == "100000");
    CHECK(scratch.read(cpu / "cpu.cfs_quota_us") == "25000");
    CHECK(scratch.read(blkio / "blkio.throttle.read_iops_device") == "8:0 100");
    CHECK(scratch.read(blkio / "blkio.throttle.write_iops_device") == "8:0 100");
  }
  SECTION("the blkio counting rule goes on whole disks with a queue only") {
    scratch.write("sys/block/vda/dev", "254:0\n");
    scratch.mkdir("sys/block/vda/queue");
    scratch.write("sys/block/loop0/dev", "7:0\n");
    scratch.mkdir("sys/block/loop0/queue");
    scratch.write("sys/block/nbd0/dev", "43:0\n");  // no queue
    std::vector<detail::CgroupPlace> places = {{scratch.path(blkio), {"blkio"}, nullptr}};
    std::vector<DeviceNumber> disks = detail::counted_disks(scratch.roots());
    REQUIRE(disks.size() == 1);
    detail::v1_prepare_job(places, disks);
    CHECK(scratch.read(blkio / "blkio.throttle.read_iops_device") == "254:0 4294967294");
    CHECK(scratch.read(blkio / "blkio.throttle.write_iops_device") == "254:0 4294967294");
  }
  SECTION("usage, with cpuacct.stat where usage_user is missing") {
    scratch.write(memory / "memory.max_usage_in_bytes", "1048576\n");
    scratch.write(memory / "memory.usage_in_bytes", "4096\n");
    scratch.write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    scratch.write(cpu / "cpuacct.usage", "2000000000\n");
    long hz = ::sysconf(_SC_CLK_TCK);
    scratch.write(cpu / "cpuacct.stat", fmt::format("user {}\nsystem {}\n", 3 * hz, hz / 2));
    scratch.write(blkio / "blkio.throttle.io_serviced_recursive",
                  "254:0 Read 10\n254:0 Write 5\n254:0 Total 15\nTotal 15\n");
    scratch.write(blkio / "blkio.throttle.io_service_bytes_recursive",
                  "254:0 Read 40960\n254:0 Write 20480\n254:0 Total 61440\nTotal 61440\n");
    CgroupUsage usage = job->usage();
    CHECK(usage.peak_memory == Bytes{1048576});
    CHECK(usage.oom_kills == 3u);
    CHECK(usage.cpu_seconds == Approx(2.0));
    CHECK(usage.user_seconds == Approx(3.0));
    CHECK(usage.system_seconds == Approx(0.5).margin(0.01));
    CHECK(usage.read_ops == 10u);
    CHECK(usage.write_ops == 5u);
    CHECK(usage.read_bytes == 40960u);
    CHECK(usage.write_bytes == 20480u);
    CHECK(job->memory_current() == Bytes{4096});
    CHECK(job->cpu_seconds() == Approx(2.0));
  }
  SECTION("usage_all splits user and system; without operations the bytes are not read") {
    scratch.write(cpu / "cpuacct.usage", "2000000000\n");
    scratch.write(cpu / "cpuacct.usage_all",
                  "cpu user system\n0 1000000000 250000000\n"
                  "1 500000000 250000000\n");
    scratch.write(blkio / "blkio.throttle.io_serviced_recursive", "Total 0\n");
    // Not what the kernel would show with no operation: proof it is not read.
    scratch.write(blkio / "blkio.throttle.io_service_bytes_recursive",
                  "254:0 Read 4096\n254:0 Write 0\n254:0 Total 4096\nTotal 4096\n");
    CgroupUsage usage = job->usage();
    CHECK(usage.user_seconds == Approx(1.5));
    CHECK(usage.system_seconds == Approx(0.5));
    CHECK(usage.read_ops == 0u);
    CHECK(usage.read_bytes == 0u);
    CHECK(usage.write_bytes == 0u);
  }
}

// The files a kernel from 5.14 on makes in a cgroup2 directory, which a
// plain mkdir does not: written beforehand where the run directory will be.
void unified_files(const Scratch& scratch, const fs::path& dir) {
  for (const char* file : {"cgroup.kill", "cgroup.freeze", "cpu.stat", "cgroup.events"}) {
    scratch.write(dir / file, "");
  }
}

TEST_CASE("hybrid: cgroup2 stands in for cpuacct and freezer", "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, true);
  fs::path unified_run = kCg / "unified" / kRunName;
  unified_files(scratch, unified_run);
  auto run = CgroupRun::create({CgroupMode::Auto, scratch.roots(), /*cpu_limits=*/false});
  REQUIRE(run.ok());
  CHECK(run->version() == 1);
  CHECK((run->version() == 1 && run->cgroup2_dir()));
  // cpu,cpuacct is left out: no CPU quotas, and cgroup2 counts CPU time.
  CHECK(run->dirs() == std::vector<fs::path>{scratch.path(kCg / "memory/user/x" / kRunName),
                                             scratch.path(kCg / "blkio" / kRunName),
                                             scratch.path(unified_run)});
  CHECK(run->missing().empty());
  CHECK(run->cgroup2_dir() == scratch.path(unified_run));
  CHECK(run->describe() == "cgroup v1 (memory, blkio) under /user/x/" + kRunName +
                               " and cgroup2 (CPU time, freeze, kill) under /" + kRunName);

  auto job = run->create_job("j");
  REQUIRE(job.ok());
  fs::path memory = kCg / "memory/user/x" / kRunName / "j";
  fs::path unified = unified_run / "j";
  REQUIRE(job->dirs().size() == 3);
  CHECK(job->dirs().back() == scratch.path(unified));
  // What a job's usage says counted it: neither v1 nor v2 alone.
  CHECK(std::string(job->method()) == "cgroup hybrid");

  SECTION("CPU time comes from cpu.stat, memory from the v1 hierarchy") {
    scratch.write(memory / "memory.max_usage_in_bytes", "1048576\n");
    scratch.write(unified / "cpu.stat",
                  "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
    CgroupUsage usage = job->usage();
    CHECK(usage.peak_memory == Bytes{1048576});
    CHECK(usage.cpu_seconds == Approx(1.5));
    CHECK(usage.user_seconds == Approx(1.0));
    CHECK(usage.system_seconds == Approx(0.5));
    CHECK(job->cpu_seconds() == Approx(1.5));
  }
  SECTION("freeze and populated through cgroup2's files") {
    scratch.write(unified / "cgroup.freeze", "");
    REQUIRE(job->freeze(true).ok());
    CHECK(scratch.read(unified / "cgroup.freeze") == "1");
    REQUIRE(job->freeze(false).ok());
    CHECK(scratch.read(unified / "cgroup.freeze") == "0");
    scratch.write(unified / "cgroup.events", "populated 1\nfrozen 0\n");
    CHECK(job->populated());
    scratch.write(unified / "cgroup.events", "populated 0\nfrozen 0\n");
    CHECK_FALSE(job->populated());
  }
  SECTION("with CPU quotas the cpu hierarchy is back; CPU time still comes from cgroup2") {
    auto with_cpu = CgroupRun::create({CgroupMode::Hybrid, scratch.roots(), true});
    REQUIRE(with_cpu.ok());
    CHECK(with_cpu->dirs().front() == scratch.path(kCg / "cpu,cpuacct" / kRunName));
    CHECK(with_cpu->dirs().size() == 4);
    auto quota_job = with_cpu->create_job("k");
    REQUIRE(quota_job.ok());
    scratch.write(kCg / "cpu,cpuacct" / kRunName / "k/cpuacct.usage", "9000000000\n");
    scratch.write(unified_run / "k/cpu.stat", "usage_usec 1500000\n");
    CHECK(quota_job->usage().cpu_seconds == Approx(1.5));
    CHECK(quota_job->cpu_seconds() == Approx(1.5));
  }
}

// A run looks for dead runs' directories in every hierarchy either layout
// uses: after a switch (a kernel update, --cgroup v1) nothing stays behind,
// a frozen v1 freezer cgroup included.
TEST_CASE("v1 and hybrid: clean_stale looks where the other layout puts runs", "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, true);
  const std::string dead = "wp-999999-1";
  for (const char* hierarchy : {"cpu,cpuacct", "memory/user/x", "blkio", "freezer", "unified"}) {
    scratch.mkdir(kCg / hierarchy / dead / "slot-1");
  }
  SECTION("hybrid cleans a v1 run's cpuacct and freezer") {
    unified_files(scratch, kCg / "unified" / kRunName);
    auto run = CgroupRun::create({CgroupMode::Hybrid, scratch.roots(), false});
    REQUIRE(run.ok());
    CHECK(run->clean_stale() == 1u);
  }
  SECTION("v1 cleans a hybrid run's cgroup2 directory") {
    auto run = make_run(scratch, CgroupMode::V1);
    REQUIRE(run.ok());
    CHECK(run->clean_stale() == 1u);
  }
  for (const char* hierarchy : {"cpu,cpuacct", "memory/user/x", "blkio", "freezer", "unified"}) {
    INFO(hierarchy);
    CHECK_FALSE(scratch.exists(kCg / hierarchy / dead));
  }
}

TEST_CASE("hybrid: a kernel without cgroup.kill gets cgroup v1 alone", "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, true);
  fs::path unified_run = kCg / "unified" / kRunName;
  SECTION("auto falls back to v1 and takes its directory back") {
    auto run = make_run(scratch, CgroupMode::Auto);
    REQUIRE(run.ok());
    CHECK_FALSE((run->version() == 1 && run->cgroup2_dir()));
    CHECK(run->dirs().size() == 4);  // cpu,cpuacct, memory, blkio, freezer
    CHECK_FALSE(scratch.exists(unified_run));
  }
  SECTION("hybrid asked for is an error that says why") {
    auto run = make_run(scratch, CgroupMode::Hybrid);
    REQUIRE_FALSE(run.ok());
    CHECK_THAT(run.error().message,
               Catch::Contains("has no cgroup.kill: the kernel is too old (Linux 5.14"));
    CHECK_FALSE(scratch.exists(unified_run));
  }
  SECTION("v1 never looks at cgroup2") {
    unified_files(scratch, unified_run);
    auto run = make_run(scratch, CgroupMode::V1);
    REQUIRE(run.ok());
    CHECK_FALSE((run->version() == 1 && run->cgroup2_dir()));
    CHECK_FALSE(run->cgroup2_dir());
    CHECK(run->describe() ==
          "cgroup v1 (memory, cpu, cpuacct, blkio, freezer) under /user/x/" + kRunName);
  }
}

// memory.usage_in_bytes counts what the kernel keeps in reserve for the
// cgroup (per-CPU charge batches, kernel memory waiting for RCU) too: past
// 1 MiB, memory.stat tells whether pages are left.
TEST_CASE("v1: a cgroup whose usage beyond 1 MiB is no page of the job is reused as it is",
          "[job_cgroup]") {
  Scratch scratch;
  v1_machine(scratch, true);
  auto run = make_run(scratch, CgroupMode::V1);
  REQUIRE(run.ok());
  fs::path memory = kCg / "memory/user/x" / kRunName / "slot-1";
  {
    auto job = run->acquire_job({});
    REQUIRE(job.ok());
    REQUIRE(job->name() == "slot-1");
    scratch.write(memory / "memory.max_usage_in_bytes", "4194304\n");
    scratch.write(memory / "memory.force_empty", "");
    scratch.write(memory / "memory.usage_in_bytes", "3145728\n");
    scratch.write(memory / "memory.stat", "cache 0\nrss 8192\nrss_huge 0\nswap 0\n");
  }
  CHECK(run->idle_jobs() == 1u);
  CHECK(scratch.read(memory / "memory.force_empty").empty());  // nothing to reclaim

  SECTION("page cache left is reclaimed first, and the cgroup not reused while it stays") {
    {
      auto job = run->acquire_job({});
      REQUIRE(job.ok());
      CHECK(run->idle_jobs() == 0u);
      scratch.write(memory / "memory.max_usage_in_bytes", "4194304\n");
      scratch.write(memory / "memory.stat", "cache 3145728\nrss 0\nswap 0\n");
    }
    CHECK(run->idle_jobs() == 0u);
    CHECK(scratch.read(memory / "memory.force_empty") == "0");
  }
  SECTION("without rss and cache in memory.stat the usage counter decides") {
    {
      auto job = run->acquire_job({});
      REQUIRE(job.ok());
      scratch.write(memory / "memory.max_usage_in_bytes", "4194304\n");
      scratch.write(memory / "memory.stat", "pgfault 12\n");
    }
    CHECK(run->idle_jobs() == 0u);
  }
  SECTION("a peak within 1 MiB decides alone: neither usage nor memory.stat is read") {
    {
      auto job = run->acquire_job({});
      REQUIRE(job.ok());
      // Were they read, page cache past the bound would be reclaimed and the
      // cgroup kept out of the pool.
      scratch.write(memory / "memory.max_usage_in_bytes", "524288\n");
      scratch.write(memory / "memory.stat", "cache 3145728\nrss 0\nswap 0\n");
    }
    CHECK(run->idle_jobs() == 1u);
    CHECK(scratch.read(memory / "memory.force_empty").empty());
  }
}

TEST_CASE("v2: a cgroup whose memory.current beyond 1 MiB is no page of the job is reused",
          "[job_cgroup]") {
  Scratch scratch;
  v2_machine(scratch, "/");
  auto run = make_run(scratch);
  REQUIRE(run.ok());
  fs::path dir = kCg / kRunName / "slot-1";
  {
    auto job = run->acquire_job({});
    REQUIRE(job.ok());
    REQUIRE(job->name() == "slot-1");
    scratch.write(dir / "memory.peak", "4194304\n");
    scratch.write(dir / "memory.current", "3145728\n");
    scratch.write(dir / "memory.stat", "anon 4096\nfile 8192\nkernel 3000000\n");
  }
  CHECK(run->idle_jobs() == 1u);
  // Written through the kept descriptor, over the figure in the file.
  CHECK_THAT(scratch.read(dir / "memory.peak"), Catch::StartsWith("reset"));

  SECTION("file pages left: a new cgroup instead (v2 cannot reset the peak twice)") {
    {
      auto job = run->acquire_job({});
      REQUIRE(job.ok());
      scratch.write(dir / "memory.peak", "4194304\n");
      scratch.write(dir / "memory.stat", "anon 0\nfile 3145728\n");
    }
    CHECK(run->idle_jobs() == 0u);
  }
}

TEST_CASE("whole_disk maps a partition to its disk", "[job_cgroup]") {
  Scratch scratch;
  fs::path disk = "sys/devices/pci0000:00/block/sda";
  scratch.write(disk / "dev", "8:0\n");
  scratch.write(disk / "sda1/dev", "8:1\n");
  scratch.write(disk / "sda1/partition", "1\n");
  scratch.mkdir("sys/dev/block");
  fs::create_directory_symlink("../../devices/pci0000:00/block/sda",
                               scratch.path("sys/dev/block/8:0"));
  fs::create_directory_symlink("../../devices/pci0000:00/block/sda/sda1",
                               scratch.path("sys/dev/block/8:1"));
  auto whole = detail::whole_disk({8, 1}, scratch.roots());
  REQUIRE(whole);
  CHECK(whole->major == 8u);
  CHECK(whole->minor == 0u);
  auto itself = detail::whole_disk({8, 0}, scratch.roots());
  REQUIRE(itself);
  CHECK(itself->minor == 0u);
  CHECK_FALSE(detail::whole_disk({9, 9}, scratch.roots()));
  // A filesystem without a block device.
  CHECK_FALSE(disk_of("/proc"));
}
