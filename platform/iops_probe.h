// A short measurement of what the filesystem holding a directory does with
// random 4 KiB I/O, for `wp calibrate`. The kernel keeps no IOPS capacity, so
// the only honest figure is one we measure.
//
// Queue depth 1: one operation in flight, each waiting for the last. That is
// what a single sequential-minded job sees, and a floor for the device, not a
// ceiling: an NVMe drive serving many jobs at once does far more. wp packs
// against the floor so that it never oversubscribes I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "util/result.h"

namespace wp::platform {

struct IopsProbeOptions {
  std::filesystem::path dir = ".";
  std::chrono::duration<double> duration{3.0};  // total: half reading, half writing
  uint64_t file_size = 64ull << 20;             // the temporary file probed, in bytes
  std::filesystem::path proc = "/proc";         // where to find self/mountinfo
};

struct IopsMeasurement {
  double read_iops = 0;
  double write_iops = 0;
  std::string filesystem;   // "ext4", "xfs", "overlay"; from mountinfo, else statfs
  std::string mount_point;  // "/", "/work"; empty when mountinfo has no entry
  std::string device;       // "8:0", the st_dev of the directory
  bool direct_io = false;   // false: O_DIRECT refused, O_DSYNC writes and cached reads
  std::string note;         // why the figure may be less meaningful, or empty
  double seconds = 0;       // time spent reading and writing
};

// Creates a temporary file in options.dir (removed before returning), fills
// it, then times random aligned 4 KiB preads and pwrites at queue depth 1.
Result<IopsMeasurement> probe_iops(const IopsProbeOptions& options);

// "major:minor" of the filesystem holding `path`, for matching stored figures.
std::optional<std::string> filesystem_device(const std::filesystem::path& path);

}  // namespace wp::platform
