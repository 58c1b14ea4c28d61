// probe_host against fixture trees in tests/data/hosts/<case>/ (proc, sys,
// dev and root of a machine), then once against the real machine for sanity.
#include <string>

#include <catch2/catch.hpp>

#include "platform/host.h"
#include "platform/linux/host_internal.h"
#include "resources/capacity.h"

using namespace wp;
using namespace wp::platform;

namespace {

constexpr Bytes kGiB = Bytes{1} << 30;

HostRoots fixture(const std::string& name, std::map<std::string, std::string> env = {}) {
  std::filesystem::path base = std::filesystem::path(WP_TEST_DATA_DIR) / "hosts" / name;
  HostRoots roots;
  roots.proc = base / "proc";
  roots.sys = base / "sys";
  roots.dev = base / "dev";
  roots.root = base / "root";
  roots.env = std::move(env);
  roots.use_environ = false;
  return roots;
}

Cores cores(double value) {
  return Cores::from_double(value);
}

}  // namespace

TEST_CASE("cgroup v2 cpu.max and memory.max bind below the host", "[host]") {
  HostCapacity host = probe_host(fixture("v2_limits"));
  CHECK(host.cpu == cores(1.5));
  CHECK(host.cpu_source == "cgroup v2 cpu.max 150000/100000 at /kubepods/x (host has 8 CPUs)");
  CHECK(host.memory == 6 * kGiB);
  CHECK(host.memory_source == "cgroup v2 memory.max at /kubepods/x (host has 16 GiB)");
  CHECK(host.host_cpus == cores(8));
  CHECK(host.host_memory == 16 * kGiB);
  CHECK(host.cgroup.version == 2);
  CHECK(host.cgroup.layout == "cgroup v2 (unified)");
  CHECK(host.cgroup.path == "/kubepods/x");
  CHECK_FALSE(host.cgroup.favordynmods);
  CHECK(host.container == "kubernetes");
  CHECK(host.container_evidence == "cgroup path /kubepods/x");
  CHECK(host.gpus.empty());
  CHECK(host.gpu_source == "none detected");
}

TEST_CASE("a parent cgroup tighter than the child binds", "[host]") {
  HostCapacity host = probe_host(fixture("v2_parent_tighter"));
  CHECK(host.cpu == cores(1));
  CHECK(host.cpu_source == "cgroup v2 cpu.max 100000/100000 at /a (host has 8 CPUs)");
  CHECK(host.memory == 2 * kGiB);
  CHECK(host.memory_source == "cgroup v2 memory.max at /a (host has 16 GiB)");
  CHECK(host.container.empty());
  CHECK(host.container_evidence.empty());
}

TEST_CASE("a child cgroup tighter than the parent binds, memory.high included", "[host]") {
  HostCapacity host = probe_host(fixture("v2_child_tighter"));
  CHECK(host.cpu == cores(0.5));
  CHECK(host.cpu_source == "cgroup v2 cpu.max 50000/100000 at /a/b (host has 8 CPUs)");
  CHECK(host.memory == 1 * kGiB);
  CHECK(host.memory_source == "cgroup v2 memory.high at /a/b (host has 16 GiB)");
  CHECK(host.cgroup.path == "/a/b");
}

TEST_CASE("cgroup v2 \"max\" everywhere leaves the host's figures", "[host]") {
  HostCapacity host = probe_host(fixture("v2_unlimited"));
  CHECK(host.cpu == cores(4));
  CHECK(host.cpu_source == "4 CPUs in /proc/cpuinfo");
  CHECK(host.host_cpus == cores(4));
  CHECK(host.memory == 12 * kGiB);
  CHECK(host.memory_source == "MemAvailable in /proc/meminfo (MemTotal 16 GiB)");
  CHECK(host.cgroup.path == "/user.slice/user-1000.slice/session-2.scope");
  CHECK(host.cgroup.favordynmods);  // among the cgroup2 mount's options
}

TEST_CASE("cgroup v1 CFS quota and memory.limit_in_bytes, with the unlimited sentinel", "[host]") {
  HostCapacity host = probe_host(fixture("v1_limits"));
  CHECK(host.cpu == cores(2.5));
  CHECK(host.cpu_source ==
        "cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us 250000/100000 at /batch/job (host has 8 "
        "CPUs)");
  // The leaf and the root say 9223372036854771712 (no limit); the parent's 3 GiB binds.
  CHECK(host.memory == 3 * kGiB);
  CHECK(host.memory_source == "cgroup v1 memory.limit_in_bytes at /batch (host has 16 GiB)");
  CHECK(host.cgroup.version == 1);
  CHECK(host.cgroup.layout == "cgroup v1");
  CHECK(host.cgroup.path == "/batch/job");
  // The memory hierarchy is mounted with it (cgroup_favordynmods=true on
  // the kernel command line shows that way).
  CHECK(host.cgroup.favordynmods);
}

TEST_CASE("hybrid layout: v1 controllers with cgroup2 at /sys/fs/cgroup/unified", "[host]") {
  HostCapacity host = probe_host(fixture("hybrid"));
  CHECK(host.cgroup.version == 1);
  CHECK(host.cgroup.layout == "hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)");
  CHECK(host.cgroup.path == "/process_api/413ab8c4");
  CHECK_FALSE(host.cgroup.favordynmods);
  CHECK(host.cpu == cores(2));
  CHECK(host.cpu_source == "2 online CPUs in /sys/devices/system/cpu/online");
  CHECK(host.memory == 4 * kGiB);
  CHECK(host.memory_source ==
        "cgroup v1 memory.limit_in_bytes at /process_api/413ab8c4 (host has 23.5 GiB)");
  CHECK(host.host_memory == 24641536 * Bytes{1024});
}

TEST_CASE("no cgroup at all: the affinity mask narrows the online CPUs", "[host]") {
  HostCapacity host = probe_host(fixture("no_cgroup"));
  CHECK(host.cgroup.version == 0);
  CHECK(host.cgroup.layout == "none");
  CHECK(host.cgroup.path.empty());
  CHECK(host.cpu == cores(4));
  CHECK(host.cpu_source == "affinity mask Cpus_allowed_list 0-3 (host has 8 CPUs)");
  CHECK(host.host_cpus == cores(8));
  CHECK(host.memory == 5 * kGiB);
  CHECK(host.memory_source == "MemAvailable in /proc/meminfo (MemTotal 8 GiB)");
}

TEST_CASE("unreadable and missing files give no figure from there", "[host]") {
  HostCapacity host = probe_host(fixture("unreadable"));
  CHECK(host.cpu == cores(3));
  CHECK(host.cpu_source == "3 CPUs in /proc/cpuinfo");
  CHECK(host.memory == 2 * kGiB);
  CHECK(host.memory_source == "cgroup v2 memory.high at /x (host has unknown)");
  CHECK(host.host_memory == 0);
  CHECK(host.cgroup.version == 2);
}

TEST_CASE("garbage content is ignored, never fatal", "[host]") {
  HostCapacity host = probe_host(fixture("garbage"));
  CHECK(host.cpu == cores(2));
  CHECK(host.cpu_source == "2 CPUs in /proc/cpuinfo");
  CHECK(host.memory == 1 * kGiB);
  CHECK(host.memory_source == "MemAvailable in /proc/meminfo (MemTotal unknown)");
  CHECK(host.cgroup.version == 2);
  CHECK(host.cgroup.path == "/x");
}

TEST_CASE("a tree with nothing in it degrades to safe guesses", "[host]") {
  HostCapacity host = probe_host(fixture("does_not_exist"));
  CHECK(host.cpu == cores(1));
  CHECK(host.cpu_source == "unknown (no CPU count readable; assuming 1)");
  CHECK(host.memory == 0);
  CHECK(host.memory_source == "unknown (/proc/meminfo unreadable)");
  CHECK(host.cgroup.layout == "none");
  CHECK(host.gpu_source == "none detected");
  CHECK(host.container.empty());
}

TEST_CASE("a cpuset narrower than the affinity mask binds", "[host]") {
  HostCapacity host = probe_host(fixture("cpuset_narrow"));
  CHECK(host.cpu == cores(2));
  CHECK(host.cpu_source == "cgroup v2 cpuset.cpus.effective 2-3 at /x (host has 8 CPUs)");
}

TEST_CASE("inside Docker the mount's root is the container's cgroup", "[host]") {
  HostCapacity host = probe_host(fixture("docker_v1"));
  CHECK(host.cpu == cores(2));
  CHECK(host.cpu_source ==
        "cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us 200000/100000 at /docker/abc123 (host has 8 "
        "CPUs)");
  CHECK(host.memory == 3 * kGiB);
  CHECK(host.memory_source ==
        "cgroup v1 memory.limit_in_bytes at /docker/abc123 (host has 23.5 GiB)");
  CHECK(host.cgroup.path == "/");
  CHECK(host.container == "docker");
  CHECK(host.container_evidence == "/.dockerenv exists; cgroup path /docker/abc123");
}

TEST_CASE("KUBERNETES_SERVICE_HOST marks a Kubernetes pod", "[host]") {
  HostCapacity host = probe_host(fixture("v2_limits", {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}));
  CHECK(host.container == "kubernetes");
  CHECK(host.container_evidence == "KUBERNETES_SERVICE_HOST is set; cgroup path /kubepods/x");

  HostCapacity plain = probe_host(fixture("no_cgroup", {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}));
  CHECK(plain.container == "kubernetes");
  CHECK(plain.container_evidence == "KUBERNETES_SERVICE_HOST is set");
}

TEST_CASE("NVIDIA GPUs from /proc/driver/nvidia, narrowed by CUDA_VISIBLE_DEVICES", "[host]") {
  SECTION("all devices") {
    HostCapacity host = probe_host(fixture("two_gpus"));
    REQUIRE(host.gpus.size() == 2);
    CHECK(host.gpus[0].index == 0);
    CHECK(host.gpus[1].index == 1);
    CHECK(host.gpus[1].name == "NVIDIA A100-SXM4-40GB");
    CHECK_FALSE(host.gpus[1].memory);  // nvidia-smi is never run against a fixture
    CHECK(host.gpu_source == "2 NVIDIA GPUs in /proc/driver/nvidia/gpus");
  }
  SECTION("CUDA_VISIBLE_DEVICES=1") {
    HostCapacity host = probe_host(fixture("two_gpus", {{"CUDA_VISIBLE_DEVICES", "1"}}));
    REQUIRE(host.gpus.size() == 1);
    CHECK(host.gpus[0].index == 1);
    CHECK(host.gpu_source == "CUDA_VISIBLE_DEVICES=1 (of 2)");
  }
  SECTION("an empty CUDA_VISIBLE_DEVICES hides every device") {
    HostCapacity host = probe_host(fixture("two_gpus", {{"CUDA_VISIBLE_DEVICES", ""}}));
    CHECK(host.gpus.empty());
    CHECK(host.gpu_source == "CUDA_VISIBLE_DEVICES= (of 2)");
  }
  SECTION("indices that do not exist are dropped") {
    HostCapacity host = probe_host(fixture("two_gpus", {{"CUDA_VISIBLE_DEVICES", "1,7,0"}}));
    REQUIRE(host.gpus.size() == 2);
    CHECK(host.gpus[0].index == 1);
    CHECK(host.gpus[1].index == 0);
  }
  SECTION("UUIDs cannot be matched without nvidia-smi: devices kept, noted") {
    HostCapacity host = probe_host(fixture("two_gpus", {{"CUDA_VISIBLE_DEVICES", "GPU-0000-1"}}));
    CHECK(host.gpus.size() == 2);
    CHECK(host.gpu_source ==
          "CUDA_VISIBLE_DEVICES=GPU-0000-1 names devices by UUID; not applied (2 found)");
  }
}

TEST_CASE("a /dev/nvidia0 node alone is one GPU", "[host]") {
  HostCapacity host = probe_host(fixture("dev_nvidia0"));
  REQUIRE(host.gpus.size() == 1);
  CHECK(host.gpus[0].index == 0);
  CHECK(host.gpus[0].name == "NVIDIA GPU (/dev/nvidia0)");
  CHECK(host.gpu_source == "1 NVIDIA GPU in /dev");
}

TEST_CASE("resolve_capacity counts the host's GPUs", "[host]") {
  HostCapacity host = probe_host(fixture("two_gpus", {{"CUDA_VISIBLE_DEVICES", "1"}}));
  Capacity capacity = resolve_capacity(host, {}, {});
  CHECK(capacity.total.gpu == 1);
  CHECK(capacity.gpu_source == "CUDA_VISIBLE_DEVICES=1 (of 2)");
}

TEST_CASE("the real machine gives sane figures", "[host][real]") {
  HostCapacity host = probe_host();
  INFO("cpu " << format_cores(host.cpu) << " (" << host.cpu_source << "), memory "
              << format_bytes(host.memory) << " (" << host.memory_source << "), cgroup "
              << host.cgroup.layout << " " << host.cgroup.path);
  CHECK(host.cpu > Cores());
  CHECK(host.cpu <= host.host_cpus);
  CHECK(host.memory > 0);
  CHECK(host.host_memory >= host.memory);
  CHECK_FALSE(host.cgroup.layout.empty());
}

// The parsers behind probe_host, on inputs the fixture trees do not cover.

TEST_CASE("kernel CPU lists", "[host]") {
  using platform::detail::count_cpu_list;
  CHECK(count_cpu_list("0-3,8,10-11\n") == 7);
  CHECK(count_cpu_list("5") == 1);
  CHECK_FALSE(count_cpu_list(""));
  CHECK_FALSE(count_cpu_list("3-1"));
  CHECK_FALSE(count_cpu_list("0-3,x"));
  CHECK_FALSE(count_cpu_list("0-99999"));
}

TEST_CASE("mountinfo: escaped paths and optional fields", "[host]") {
  auto mounts = platform::detail::parse_mountinfo(
      "40 31 0:37 /a\\040b /sys/fs/cgroup/my\\040mount rw shared:1 master:2 - cgroup cgroup "
      "rw,memory\n");
  REQUIRE(mounts.size() == 1);
  CHECK(mounts[0].root == "/a b");
  CHECK(mounts[0].mount_point == "/sys/fs/cgroup/my mount");
  CHECK(mounts[0].fs_type == "cgroup");
  CHECK(mounts[0].super_options == std::vector<std::string>{"rw", "memory"});
}

TEST_CASE("nvidia-smi memory CSV", "[host]") {
  auto memory = platform::detail::parse_nvidia_smi_memory("0, 40960\n1, 81920\nbad line\n2, N/A\n");
  REQUIRE(memory.size() == 2);
  CHECK(memory[0] == std::pair<int, uint64_t>{0, 40960 * (uint64_t{1} << 20)});
  CHECK(memory[1].first == 1);
}
