// What the machine offers, as the platform sees it: CPU, memory and GPUs with
// where each figure came from, the cgroup layout and any container around us.
// Implemented per platform (platform/linux/); the core never reads /proc or
// /sys itself.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "resources/quantity.h"

namespace wp::platform {

// Where the platform reads from; every root is injectable so fixture trees stand in for the
// machine.
struct HostRoots {
  std::filesystem::path proc = "/proc";
  std::filesystem::path sys = "/sys";  // cgroup mounts are found via proc/self/mountinfo, then read
                                       // under the mount points re-rooted here when they start
                                       // with /sys
  std::filesystem::path dev = "/dev";
  std::filesystem::path root = "/";        // for /.dockerenv
  std::map<std::string, std::string> env;  // empty: the process environment (CUDA_VISIBLE_DEVICES,
                                           // KUBERNETES_SERVICE_HOST)
  bool use_environ = true;                 // false in fixture tests: only `env` is consulted
};

struct GpuDevice {
  int index = 0;
  std::string name;
  std::optional<Bytes> memory;
};

struct CgroupInfo {
  int version = 0;     // 0 none found, 1 (v1 or hybrid: v1 controllers), 2 (unified)
  std::string path;    // this process's cgroup path, e.g. "/user.slice/..." (memory controller's
                       // on v1)
  std::string layout;  // "cgroup v2 (unified)", "cgroup v1", "hybrid (v1 controllers, cgroup2 at
                       // /sys/fs/cgroup/unified)", "none"
  // A cgroup hierarchy is mounted with favordynmods (Linux 6.0; the kernel
  // command line's cgroup_favordynmods=true shows there too): moving a
  // process into a cgroup then takes no lock that every fork and exit of the
  // machine takes. That is how every job enters its cgroups on v1.
  bool favordynmods = false;
};

struct HostCapacity {
  // Each figure with where it came from, e.g.
  // "cgroup v2 cpu.max 150000/100000 at /kubepods/x (host has 8 CPUs)",
  // "cgroup v1 memory.limit_in_bytes at /docker/abc (host has 23.5 GiB)".
  Cores cpu;
  std::string cpu_source;
  Bytes memory = 0;
  std::string memory_source;
  Cores host_cpus;        // online CPUs of the machine
  Bytes host_memory = 0;  // MemTotal
  // "2 NVIDIA GPUs in /proc/driver/nvidia/gpus", "none detected", "CUDA_VISIBLE_DEVICES=1 (of 2)"
  std::vector<GpuDevice> gpus;
  std::string gpu_source;
  CgroupInfo cgroup;
  std::string container;  // "docker", "kubernetes", "" (none detected)
  // "/.dockerenv exists", "KUBERNETES_SERVICE_HOST is set", "cgroup path /docker/<id>"
  std::string container_evidence;
};

HostCapacity probe_host(const HostRoots& roots = {});

}  // namespace wp::platform
