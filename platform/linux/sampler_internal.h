// Parsers for the files the sampler reads, shared between
// platform/linux/sampler.cpp and the unit tests. Each returns nothing for
// garbage; none throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "platform/sampler.h"

namespace wp::platform::detail {

// Jiffies from the aggregate "cpu" line of /proc/stat.
struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};
std::optional<CpuTimes> parse_proc_stat(std::string_view text);

// "some avg10=..." and "full avg10=..." of a PSI file (/proc/pressure/memory
// or a cgroup's memory.pressure). Kernels before 5.13 have no "full" line for
// cpu, but memory always has both; a file without "some" is garbage.
std::optional<Pressure> parse_pressure(std::string_view text);

// Reads plus writes completed, summed over whole disks in /proc/diskstats.
std::optional<uint64_t> parse_diskstats(std::string_view text);
// True for the devices parse_diskstats counts: see the rule in
// sampler_parse.cpp.
bool is_whole_disk(std::string_view name);

// Bytes received plus sent, summed over every interface but "lo" in
// /proc/net/dev.
std::optional<uint64_t> parse_net_dev(std::string_view text);

}  // namespace wp::platform::detail
