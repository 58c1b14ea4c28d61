// The sampler against fixture trees in tests/data/sampler/: t0 and t1 are two
// snapshots of one machine (rates come from their difference), no_psi lacks
// PSI, garbage has unparseable files. Each test copies what it needs into a
// scratch proc root so that files can change between reads, and moves a
// hand-held clock.
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "platform/linux/sampler_internal.h"
#include "platform/sampler.h"

using namespace wp;
using namespace wp::platform;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) {
  return fs::path(WP_TEST_DATA_DIR) / "sampler" / name;
}

// A scratch machine root, removed on scope exit.
class ScratchRoot {
 public:
  ScratchRoot() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("wp-sampler-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  ~ScratchRoot() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  ScratchRoot(const ScratchRoot&) = delete;
  ScratchRoot& operator=(const ScratchRoot&) = delete;

  // Copies a fixture's files over this root (a later snapshot replaces some).
  void load(const std::string& name) {
    fs::copy(fixture(name), dir_,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((dir_ / relative).parent_path());
    FILE* file = std::fopen((dir_ / relative).c_str(), "w");
    REQUIRE(file != nullptr);
    std::fputs(text.c_str(), file);
    std::fclose(file);
  }
  void remove(const fs::path& relative) { fs::remove(dir_ / relative); }

  HostRoots roots() const {
    HostRoots roots;
    roots.proc = dir_ / "proc";
    roots.sys = dir_ / "sys";
    roots.dev = dir_ / "dev";
    roots.root = dir_;
    roots.use_environ = false;
    return roots;
  }

 private:
  fs::path dir_;
};

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
  root.load("t0");
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

  root.load("t1");
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
  root.load("t0");
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());
  sampler.sample();
  uint64_t reads = sampler.reads();
  CHECK(reads == 6);

  root.load("t1");
  clock.now += 200ms;
  for (int i = 0; i < 100; ++i)
    sampler.sample();
  CHECK(sampler.reads() == reads);
  CHECK_FALSE(sampler.cpu_use());  // still the cached first read

  clock.now += 50ms;  // memory's 250 ms are up, the others' 1 s are not
  sampler.sample();
  CHECK(sampler.reads() == reads + 1);

  clock.now += 750ms;
  Utilisation later = sampler.sample();
  CHECK(sampler.reads() == reads + 1 + 6);
  REQUIRE(later.cpu_use);
  CHECK(*later.cpu_use == Approx(0.5));
  REQUIRE(later.network_bytes_per_second);
  CHECK(*later.network_bytes_per_second == Approx(12000.0));  // over 1 s this time
}

TEST_CASE("no PSI: pressure is unknown, the rest is read", "[sampler]") {
  ScratchRoot root;
  root.load("no_psi");
  Sampler sampler(root.roots());
  Utilisation now = sampler.sample();
  CHECK_FALSE(now.memory_pressure);
  CHECK_FALSE(now.cgroup_memory_pressure);  // no proc/self/cgroup either
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
  root.load("t1");
  ManualClock clock;
  Sampler sampler(root.roots(), {}, clock.fn());
  sampler.sample();
  root.load("t0");  // fewer operations than before: a disk went away
  clock.now += 1s;
  CHECK_FALSE(sampler.disk_ops_per_second());
  root.load("t1");
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
