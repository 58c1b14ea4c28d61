// The parsers behind the job cgroups' counters (platform/linux/
// job_cgroup_parse.cpp), fed the text the kernel writes.
#include <catch2/catch.hpp>

#include "platform/linux/job_cgroup_internal.h"

using namespace wp::platform;
using namespace wp::platform::detail;

TEST_CASE("cpu.stat gives usage, user and system microseconds", "[job_cgroup]") {
  CpuStat stat = parse_cpu_stat(
      "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n"
      "nr_periods 4\nnr_throttled 1\nthrottled_usec 20\n");
  CHECK(stat.usage_usec == 1500000u);
  CHECK(stat.user_usec == 1000000u);
  CHECK(stat.system_usec == 500000u);

  CpuStat partial = parse_cpu_stat("usage_usec 7\n");
  CHECK(partial.usage_usec == 7u);
  CHECK_FALSE(partial.user_usec);
  CHECK_FALSE(parse_cpu_stat("usage_usec lots\n").usage_usec);
  CHECK_FALSE(parse_cpu_stat("").usage_usec);
}

TEST_CASE("io.stat sums reads and writes over devices, missing keys count 0", "[job_cgroup]") {
  auto io = parse_io_stat(
      "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "254:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n"
      "259:1 rbytes=1 rios=1\n");
  REQUIRE(io);
  CHECK(io->read_bytes == 4197u);
  CHECK(io->write_bytes == 8392u);
  CHECK(io->read_ops == 5u);
  CHECK(io->write_ops == 6u);

  // A cgroup that did no I/O yet has an empty io.stat.
  auto none = parse_io_stat("");
  REQUIRE(none);
  CHECK(none->read_ops == 0u);
  CHECK(none->write_bytes == 0u);

  CHECK_FALSE(parse_io_stat("sda rbytes=1\n"));
  CHECK_FALSE(parse_io_stat("8:0 rbytes=x\n"));
  CHECK_FALSE(parse_io_stat("8:0 rbytes\n"));
}

TEST_CASE("memory.events gives oom_kill", "[job_cgroup]") {
  std::string_view events = "low 0\nhigh 12\nmax 40\noom 3\noom_kill 2\noom_group_kill 1\n";
  CHECK(flat_keyed_value(events, "oom_kill") == 2u);
  CHECK(flat_keyed_value(events, "oom") == 3u);
  CHECK_FALSE(flat_keyed_value(events, "oom_killer"));
  CHECK_FALSE(flat_keyed_value("low 0\n", "oom_kill"));
}

TEST_CASE("blkio io_serviced and io_service_bytes sum Read and Write", "[job_cgroup]") {
  auto ops = parse_blkio_read_write(
      "8:0 Read 10\n8:0 Write 5\n8:0 Sync 15\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 15\n"
      "254:0 Read 1\n254:0 Write 2\n254:0 Sync 3\n254:0 Async 0\n254:0 Discard 0\n"
      "254:0 Total 3\nTotal 18\n");
  REQUIRE(ops);
  CHECK(ops->read == 11u);
  CHECK(ops->write == 7u);

  // What a cgroup without throttle rules (or without I/O) shows.
  auto nothing = parse_blkio_read_write("Total 0\n");
  REQUIRE(nothing);
  CHECK(nothing->read == 0u);
  CHECK(nothing->write == 0u);

  CHECK_FALSE(parse_blkio_read_write(""));
  CHECK_FALSE(parse_blkio_read_write("8:0 Read many\n"));
  CHECK_FALSE(parse_blkio_read_write("sda Read 1\n"));
}

TEST_CASE("memory.oom_control with and without oom_kill", "[job_cgroup]") {
  auto modern = parse_oom_control("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
  REQUIRE(modern);
  CHECK(modern->oom_kill == 4u);
  CHECK_FALSE(modern->under_oom);

  auto old = parse_oom_control("oom_kill_disable 0\nunder_oom 1\n");
  REQUIRE(old);
  CHECK_FALSE(old->oom_kill);
  CHECK(old->under_oom);

  CHECK_FALSE(parse_oom_control("garbage\n"));
}

TEST_CASE("cpuacct.stat gives user and system ticks", "[job_cgroup]") {
  auto stat = parse_cpuacct_stat("user 150\nsystem 50\n");
  REQUIRE(stat);
  CHECK(stat->user_ticks == 150u);
  CHECK(stat->system_ticks == 50u);
  CHECK_FALSE(parse_cpuacct_stat("user 150\n"));
}

TEST_CASE("the start time is field 22 of /proc/<pid>/stat", "[job_cgroup]") {
  // A command name with blanks and parentheses must not shift the fields.
  CHECK(parse_stat_start_time("27085 (a) b (c) R 27077 27077 25811 0 -1 4194304 99 0 0 0 0 0 0 0 "
                              "20 0 1 0 896035 3133440 381 18446744073709551615") == 896035u);
  CHECK_FALSE(parse_stat_start_time("27085 (cat) R 1 2 3"));
  CHECK_FALSE(parse_stat_start_time("no parenthesis"));
}

TEST_CASE("run directory names", "[job_cgroup]") {
  CHECK(format_run_name(123, 456) == "wp-123-456");
  auto run = parse_run_name("wp-123-456");
  REQUIRE(run);
  CHECK(run->pid == 123);
  CHECK(run->start_time == 456u);
  for (std::string_view bad : {"wp-123", "wp--1", "wp-1-", "wp-0-5", "wp-1-2-3", "wp- 1-2",
                               "xp-1-2", "wp-1-2~1", "wp-99999999999-1"}) {
    INFO(bad);
    CHECK_FALSE(parse_run_name(bad));
  }
}

TEST_CASE("job names are sanitised to a directory name", "[job_cgroup]") {
  CHECK(sanitise_job_name("build-1") == "build-1");
  CHECK(sanitise_job_name("my job/1") == "my_job_1");
  CHECK(sanitise_job_name("a.b_c-D9") == "a.b_c-D9");
  CHECK(sanitise_job_name("ü") == "__");
  CHECK(sanitise_job_name("") == "job");
  CHECK(sanitise_job_name(".") == "_");
  CHECK(sanitise_job_name("..") == "__");
  CHECK(sanitise_job_name(std::string(300, 'x')).size() == kMaxJobName);
}

TEST_CASE("device numbers", "[job_cgroup]") {
  auto device = parse_device_number("254:0\n");
  REQUIRE(device);
  CHECK(device->major == 254u);
  CHECK(device->minor == 0u);
  CHECK_FALSE(parse_device_number("254"));
  CHECK_FALSE(parse_device_number("a:b"));
  CHECK_FALSE(parse_device_number("5000:0"));
}

TEST_CASE("cpuacct.usage_all sums user and system nanoseconds over CPUs", "[job_cgroup]") {
  auto split = parse_cpuacct_usage_all("cpu user system\n0 100 20\n1 300 40\n");
  REQUIRE(split);
  CHECK(split->user_ns == 400u);
  CHECK(split->system_ns == 60u);
  CHECK_FALSE(parse_cpuacct_usage_all(""));
  CHECK_FALSE(parse_cpuacct_usage_all("cpu user system\n"));
  CHECK_FALSE(parse_cpuacct_usage_all("cpu user system\n0 100\n"));
  CHECK_FALSE(parse_cpuacct_usage_all("0 100 20\n"));
}
