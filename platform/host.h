// What the machine offers, as the platform sees it. Implemented per platform
// (platform/linux/host.cpp); the core never reads /proc or /sys itself.
#pragma once

#include <filesystem>
#include <string>

#include "resources/quantity.h"

namespace wp::platform {

struct HostCapacity {
  Cores cpu;
  std::string cpu_source;  // "affinity mask (2 of 2 online CPUs)"
  Bytes memory = 0;
  std::string memory_source;  // "MemAvailable in /proc/meminfo (MemTotal 23.5 GiB)"
};

// Reads the host's CPU and memory. `proc_root` is injectable so fixture trees
// can stand in for /proc in tests.
HostCapacity probe_host(const std::filesystem::path& proc_root = "/proc");

}  // namespace wp::platform
