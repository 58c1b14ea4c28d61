// The sampler against fixture trees in tests/data/sampler/: t0 and t1 are two
// snapshots of one machine (rates come from their difference), no_psi lacks
// PSI, garbage has unparseable files. cgroup_v2_nested (a 4 GiB /batch above
// an 8 GiB /batch/job), cgroup_v1_ancestor (LONG_MAX at the leaf and the
// root, 3 GiB at /batch) and cgroup_unlimited ("max" everywhere) hold only
// the cgroup files behind the memory headroom. Each test copies what it needs into a
// scratch proc root so that files can change between reads, and moves a
// hand-held clock.
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "platform/linux/sampler_internal.h"
#include "platform/sampler.h"
#include "scratch_root.h"

using namespace wp;
using namespace wp::platform;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) {
  return fs::path(WP_TEST_DATA_DIR) / "sampler" / name;
}

using wp::test::ScratchRoot;

// A clock the test moves by hand.
struct ManualClock {
  SamplerClock::time_point now{};
  SamplerNow fn() {
    return [this] { return now; };
  }
};

constexpr Bytes kAvailable = Bytes{8192000} * 1024;

}  // namespace

TEST_CASE("rates come from the difference of two snapshots", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("t0"));
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());

  Utilisation first = sampler.sample();
  CHECK_FALSE(first.cpu_use);  // one read is not a rate
  CHECK_FALSE(first.disk_ops_per_second);
  CHECK_FALSE(first.network_bytes_per_second);
  CHECK(first.memory_available == kAvailable);
  REQUIRE(first.memory_pressure);
  CHECK(first.memory_pressure->some_avg10 == Approx(1.5));
  CHECK(first.memory_pressure->full_avg10 == Approx(0.25));
  REQUIRE(first.cgroup_memory_pressure);
  CHECK(first.cgroup_memory_pressure->some_avg10 == Approx(12.0));
  CHECK(first.cgroup_memory_pressure->full_avg10 == Approx(3.0));

  root.load(fixture("t1"));
  clock.now += 2s;
  Utilisation second = sampler.sample();
  REQUIRE(second.cpu_use);
  CHECK(*second.cpu_use == Approx(0.5));  // 1000 busy of 2000 jiffies
  REQUIRE(second.disk_ops_per_second);
  // sda and nvme0n1 did 1000 operations in 2 s; partitions, loop and dm-0 are
  // not counted.
  CHECK(*second.disk_ops_per_second == Approx(500.0));
  REQUIRE(second.network_bytes_per_second);
  CHECK(*second.network_bytes_per_second == Approx(6000.0));  // eth0 only, not lo
}

TEST_CASE("readers within a metric's time to live cost no read", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("t0"));
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());
  sampler.sample();
  uint64_t reads = sampler.reads();
  // One file a metric, and the headroom looks for memory.max in /app and the
  // root (neither has one).
  constexpr uint64_t kHeadroomReads = 2;
  CHECK(reads == 6 + kHeadroomReads);

  root.load(fixture("t1"));
  clock.now += 200ms;
  for (int i = 0; i < 100; ++i)
    sampler.sample();
  CHECK(sampler.reads() == reads);
  CHECK_FALSE(sampler.cpu_use());  // still the cached first read

  clock.now += 50ms;  // memory's 250 ms are up (and the headroom's), the others' 1 s are not
  sampler.sample();
  CHECK(sampler.reads() == reads + 1 + kHeadroomReads);

  clock.now += 750ms;
  Utilisation later = sampler.sample();
  CHECK(sampler.reads() == reads + 1 + kHeadroomReads + 6 + kHeadroomReads);
  REQUIRE(later.cpu_use);
  CHECK(*later.cpu_use == Approx(0.5));
  REQUIRE(later.network_bytes_per_second);
  CHECK(*later.network_bytes_per_second == Approx(12000.0));  // over 1 s this time
}

TEST_CASE("cgroup PSI can come from a given cgroup instead of our own", "[sampler]") {
  // A run's cgroup holds every job, which wp's own cgroup may not.
  ScratchRoot root;
  root.load(fixture("no_psi"));  // no cgroup of our own to read
  root.write("run/memory.pressure",
             "some avg10=42.50 avg60=1.00 avg300=0.00 total=1\n"
             "full avg10=7.25 avg60=0.00 avg300=0.00 total=1\n");
  Sampler sampler(root.roots());
  sampler.use_pressure_of(root.roots().proc.parent_path() / "run");
  std::optional<Pressure> psi = sampler.cgroup_memory_pressure();
  REQUIRE(psi);
  CHECK(psi->some_avg10 == Approx(42.5));
  CHECK(psi->full_avg10 == Approx(7.25));
}

TEST_CASE("no PSI: pressure is unknown, the rest is read", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("no_psi"));
  Sampler sampler(root.roots());
  Utilisation now = sampler.sample();
  CHECK_FALSE(now.memory_pressure);
  CHECK_FALSE(now.cgroup_memory_pressure);  // no proc/self/cgroup either
  CHECK_FALSE(now.cgroup_memory_headroom);
  CHECK(now.memory_available == kAvailable);
  CHECK_FALSE(now.disk_ops_per_second);  // no diskstats
}

TEST_CASE("garbage and missing files are unknown, never an exception", "[sampler]") {
  for (const char* name : {"garbage", "does-not-exist"}) {
    INFO(name);
    HostRoots roots;
    roots.proc = fixture(name) / "proc";
    roots.sys = fixture(name) / "sys";
    roots.use_environ = false;
    ManualClock clock;
    Sampler sampler(roots, {}, clock.fn());
    for (int i = 0; i < 3; ++i) {
      Utilisation now;
      REQUIRE_NOTHROW(now = sampler.sample());
      CHECK_FALSE(now.cpu_use);
      CHECK_FALSE(now.memory_available);
      CHECK_FALSE(now.memory_pressure);
      CHECK_FALSE(now.cgroup_memory_pressure);
      CHECK_FALSE(now.cgroup_memory_headroom);
      CHECK_FALSE(now.disk_ops_per_second);
      CHECK_FALSE(now.network_bytes_per_second);
      clock.now += 5s;
    }
  }
}

TEST_CASE("a failing file is not read again before its back-off expires", "[sampler]") {
  ScratchRoot root;
  ManualClock clock;
  SamplerIntervals intervals;
  intervals.memory = 250ms;
  intervals.max_backoff = 2s;
  Sampler sampler(root.roots(), intervals, clock.fn());

  CHECK_FALSE(sampler.memory_available());  // no meminfo: first failure
  CHECK(sampler.reads() == 1);
  clock.now += 499ms;  // retried after 2 x 250 ms
  CHECK_FALSE(sampler.memory_available());
  CHECK(sampler.reads() == 1);
  clock.now += 1ms;
  CHECK_FALSE(sampler.memory_available());  // second failure: next in 1 s
  CHECK(sampler.reads() == 2);

  root.write("proc/meminfo", "MemAvailable:    8192000 kB\n");
  clock.now += 999ms;
  CHECK_FALSE(sampler.memory_available());  // the file is back, but not yet read
  CHECK(sampler.reads() == 2);
  clock.now += 1ms;
  CHECK(sampler.memory_available() == kAvailable);
  CHECK(sampler.reads() == 3);
  clock.now += 249ms;  // a good read resets the interval to 250 ms
  CHECK(sampler.memory_available() == kAvailable);
  CHECK(sampler.reads() == 3);

  // Back-off doubles up to max_backoff and no further.
  root.remove("proc/meminfo");
  clock.now += 1ms;
  uint64_t before = sampler.reads();
  for (int i = 0; i < 60; ++i) {  // 60 x 1 s: failures at 0, +0.5, +1.5, +3.5, then every 2 s
    CHECK_FALSE(sampler.memory_available());
    clock.now += 1s;
  }
  uint64_t failed_reads = sampler.reads() - before;
  CHECK(failed_reads >= 29);
  CHECK(failed_reads <= 32);
}

TEST_CASE("a counter that goes backwards is unknown, not a failure", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("t1"));
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());
  sampler.sample();
  root.load(fixture("t0"));  // fewer operations than before: a disk went away
  clock.now += 1s;
  CHECK_FALSE(sampler.disk_ops_per_second());
  root.load(fixture("t1"));
  clock.now += 1s;  // an ordinary interval, no back-off: the reading was good
  REQUIRE(sampler.disk_ops_per_second());
  CHECK(*sampler.disk_ops_per_second() == Approx(1000.0));
}

TEST_CASE("whole disks are counted, partitions and stacked devices are not", "[sampler]") {
  using detail::is_whole_disk;
  for (const char* disk : {"sda", "vdb", "xvda", "hdc", "nvme0n1", "mmcblk0", "nbd0"}) {
    INFO(disk);
    CHECK(is_whole_disk(disk));
  }
  for (const char* other : {"sda1", "vdb2", "xvda1", "nvme0n1p1", "mmcblk0p2", "loop3", "ram0",
                            "zram0", "dm-0", "md127", "sr0", "fd0", ""}) {
    INFO(other);
    CHECK_FALSE(is_whole_disk(other));
  }
}

TEST_CASE("PSI and proc/stat parsers", "[sampler]") {
  auto some_only = detail::parse_pressure("some avg10=4.00 avg60=1.00 avg300=0.00 total=1\n");
  REQUIRE(some_only);
  CHECK(some_only->some_avg10 == Approx(4.0));
  CHECK(some_only->full_avg10 == 0);
  CHECK_FALSE(detail::parse_pressure(""));
  CHECK_FALSE(detail::parse_pressure("full avg10=1.00\n"));
  CHECK_FALSE(detail::parse_pressure("some avg10=-1.00\n"));

  auto old_kernel = detail::parse_proc_stat("cpu 10 0 10 80\n");  // no iowait onwards
  REQUIRE(old_kernel);
  CHECK(old_kernel->busy == 20);
  CHECK(old_kernel->total == 100);
  CHECK_FALSE(detail::parse_proc_stat("cpu 10 0\n"));
  CHECK_FALSE(detail::parse_proc_stat("cpu0 1 2 3 4 5\n"));
}

constexpr Bytes kMiB = Bytes{1} << 20;
constexpr Bytes kGiB = Bytes{1} << 30;

TEST_CASE("cgroup v2 headroom: the tighter parent binds the leaf", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("cgroup_v2_nested"));
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());
  // /batch/job: 8 GiB - (1 GiB - 128 MiB inactive) = 7.125 GiB;
  // /batch: 4 GiB - (3 GiB - 512 MiB inactive) = 1.5 GiB.
  CHECK(sampler.sample().cgroup_memory_headroom == 1536 * kMiB);

  // The leaf becomes the tighter one; the cached figure holds for the memory
  // interval (250 ms), then the files are read again.
  root.write("sys/fs/cgroup/batch/job/memory.max", "1073741824\n");
  clock.now += 249ms;
  CHECK(sampler.cgroup_memory_headroom() == 1536 * kMiB);
  clock.now += 1ms;
  CHECK(sampler.cgroup_memory_headroom() == 128 * kMiB);

  // Over the limit (usage can pass a limit lowered below it): no headroom.
  root.write("sys/fs/cgroup/batch/job/memory.max", "536870912\n");
  clock.now += 250ms;
  CHECK(sampler.cgroup_memory_headroom() == Bytes{0});

  // Without memory.stat all of the usage counts.
  root.write("sys/fs/cgroup/batch/job/memory.max", "max\n");
  root.remove("sys/fs/cgroup/batch/memory.stat");
  clock.now += 250ms;
  CHECK(sampler.cgroup_memory_headroom() == 1 * kGiB);
}

TEST_CASE("cgroup v1 headroom: unlimited leaf, limited ancestor", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("cgroup_v1_ancestor"));
  Sampler sampler(root.roots());
  // /batch: 3 GiB - (2 GiB - 256 MiB total_inactive_file) = 1.25 GiB; the
  // leaf's and the root's LONG_MAX are no limit.
  CHECK(sampler.sample().cgroup_memory_headroom == 1280 * kMiB);

  // The ancestor's limit lifted (the sentinel's exact value varies with the
  // page size; anything from 2^62 up is no limit): nothing limits us.
  root.write("sys/fs/cgroup/memory/batch/memory.limit_in_bytes", "9223372036854775807\n");
  Sampler unlimited(root.roots());
  CHECK_FALSE(unlimited.cgroup_memory_headroom());
}

TEST_CASE("no cgroup memory limit anywhere: no headroom", "[sampler]") {
  ScratchRoot root;
  root.load(fixture("cgroup_unlimited"));
  Sampler sampler(root.roots());
  CHECK_FALSE(sampler.sample().cgroup_memory_headroom);

  ScratchRoot t0;  // a cgroup without memory files at all
  t0.load(fixture("t0"));
  Sampler no_files(t0.roots());
  CHECK_FALSE(no_files.cgroup_memory_headroom());
}

TEST_CASE("garbage in a cgroup memory file: headroom unknown, backed off", "[sampler]") {
  struct Case {
    const char* file;
    const char* text;
  };
  for (Case bad : {Case{"sys/fs/cgroup/batch/job/memory.max", "lots\n"},
                   Case{"sys/fs/cgroup/batch/job/memory.max", ""},
                   Case{"sys/fs/cgroup/batch/memory.current", "-1\n"},
                   Case{"sys/fs/cgroup/batch/memory.current", "3 GiB\n"}}) {
    INFO(bad.file << " = '" << bad.text << "'");
    ScratchRoot root;
    root.load(fixture("cgroup_v2_nested"));
    root.write(bad.file, bad.text);
    ManualClock clock;
    Sampler sampler(root.roots(), {}, clock.fn());
    REQUIRE_NOTHROW(sampler.sample());
    CHECK_FALSE(sampler.sample().cgroup_memory_headroom);

    // A failure waits twice the interval before the next read.
    root.load(fixture("cgroup_v2_nested"));
    clock.now += 499ms;
    CHECK_FALSE(sampler.cgroup_memory_headroom());
    clock.now += 1ms;
    CHECK(sampler.cgroup_memory_headroom() == 1536 * kMiB);
  }

  // A missing usage beside a limit is as bad as garbage.
  ScratchRoot root;
  root.load(fixture("cgroup_v2_nested"));
  root.remove("sys/fs/cgroup/batch/memory.current");
  Sampler sampler(root.roots());
  CHECK_FALSE(sampler.cgroup_memory_headroom());
}

TEST_CASE("cgroup memory file parsers", "[sampler]") {
  auto limited = detail::parse_memory_max("4294967296\n");
  REQUIRE(limited);
  CHECK_FALSE(limited->unlimited);
  CHECK(limited->bytes == 4 * kGiB);
  auto max = detail::parse_memory_max("max\n");
  REQUIRE(max);
  CHECK(max->unlimited);
  CHECK_FALSE(detail::parse_memory_max("maximum\n"));
  CHECK_FALSE(detail::parse_memory_max(""));

  for (const char* sentinel :
       {"9223372036854771712", "9223372036854775807", "4611686018427387904"}) {
    INFO(sentinel);
    auto v1 = detail::parse_memory_limit_in_bytes(sentinel);
    REQUIRE(v1);
    CHECK(v1->unlimited);
  }
  auto v1 = detail::parse_memory_limit_in_bytes("3221225472\n");
  REQUIRE(v1);
  CHECK_FALSE(v1->unlimited);
  CHECK(v1->bytes == 3 * kGiB);
  CHECK_FALSE(detail::parse_memory_limit_in_bytes("-1\n"));
  CHECK_FALSE(detail::parse_memory_limit_in_bytes("max\n"));

  std::string stat = "file 100\ninactive_file 40\ntotal_inactive_file 70\n";
  CHECK(detail::parse_memory_stat(stat, "inactive_file") == Bytes{40});
  CHECK(detail::parse_memory_stat(stat, "total_inactive_file") == Bytes{70});
  CHECK_FALSE(detail::parse_memory_stat(stat, "active_file"));
  CHECK_FALSE(detail::parse_memory_stat("inactive_file x\n", "inactive_file"));

  CHECK(detail::memory_headroom(100, 60, 10) == Bytes{50});
  CHECK(detail::memory_headroom(100, 120, 10) == Bytes{0});
  CHECK(detail::memory_headroom(100, 10, 60) == Bytes{100});  // stat and usage read apart
}

TEST_CASE("the real machine's figures can be sampled", "[sampler]") {
  Sampler sampler;
  Utilisation now;
  REQUIRE_NOTHROW(now = sampler.sample());
  if (fs::exists("/proc/meminfo")) CHECK(now.memory_available);
  Utilisation quick = sample_over(10ms);
  if (quick.cpu_use) {
    CHECK(*quick.cpu_use >= 0);
    CHECK(*quick.cpu_use <= 1);
  }
}
