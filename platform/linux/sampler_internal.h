// Parsers for the files the sampler reads, shared between
// platform/linux/sampler.cpp and the unit tests. Each returns nothing for
// garbage; none throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "platform/sampler.h"
#include "resources/quantity.h"

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

// A cgroup memory limit file: v2 memory.max ("max" for no limit) or v1
// memory.limit_in_bytes (no limit is LONG_MAX rounded down to a page; anything
// at or above 2^62 is taken as that).
struct MemoryLimit {
  bool unlimited = false;
  Bytes bytes = 0;  // when limited
};
std::optional<MemoryLimit> parse_memory_max(std::string_view text);
std::optional<MemoryLimit> parse_memory_limit_in_bytes(std::string_view text);

// A field of a cgroup's memory.stat ("inactive_file 1234"), in bytes.
std::optional<Bytes> parse_memory_stat(std::string_view text, std::string_view field);

// What a cgroup may still take before its limit: the limit minus its usage
// less the inactive page cache the kernel drops before it would OOM (the
// "working set" of kubelet and docker stats). Zero when over the limit.
Bytes memory_headroom(Bytes limit, Bytes usage, Bytes inactive_file);

}  // namespace wp::platform::detail
