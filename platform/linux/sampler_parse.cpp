// Parsing /proc/stat, PSI files, /proc/diskstats, /proc/net/dev and cgroup
// memory files for the sampler. Garbage yields nothing: the sampler reports
// it as unknown.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

#include "platform/linux/host_internal.h"
#include "platform/linux/sampler_internal.h"

namespace wp::platform::detail {
namespace {

// The blank-separated words of a line; /proc pads columns with runs of spaces.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t begin = line.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) return out;
    size_t end = line.find_first_of(" \t", begin);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(begin, end - begin));
    pos = end;
  }
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// The avg10 of a PSI line: "some avg10=1.23 avg60=0.50 avg300=0.10 total=12345".
std::optional<double> psi_avg10(std::string_view line) {
  for (std::string_view word : words(line)) {
    if (starts_with(word, "avg10=")) return parse_double(word.substr(6));
  }
  return std::nullopt;
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.empty() || fields[0] != "cpu") continue;
    // user nice system idle iowait irq softirq steal; guest and guest_nice
    // that follow are already counted in user and nice. Old kernels stop
    // after idle.
    if (fields.size() < 5) return std::nullopt;
    std::array<uint64_t, 8> ticks{};
    for (size_t i = 0; i < ticks.size() && i + 1 < fields.size(); ++i) {
      auto value = parse_u64(fields[i + 1]);
      if (!value) return std::nullopt;
      ticks[i] = *value;
    }
    uint64_t idle = ticks[3] + ticks[4];  // idle + iowait: waiting is not working
    uint64_t busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
    return CpuTimes{busy, busy + idle};
  }
  return std::nullopt;
}

std::optional<Pressure> parse_pressure(std::string_view text) {
  std::optional<double> some;
  std::optional<double> full;
  for (std::string_view line : split(text, '\n')) {
    if (starts_with(line, "some ")) some = psi_avg10(line);
    if (starts_with(line, "full ")) full = psi_avg10(line);
  }
  if (!some) return std::nullopt;
  return Pressure{*some, full.value_or(0)};
}

// Whole disks only, decided by name so that no second file is read:
// - partitions would count their disk's operations twice: "sda1", "vdb2",
//   "xvda1", "hda3" (sd/vd/xvd/hd followed by a trailing digit) and
//   "nvme0n1p2", "mmcblk0p1" (a digit, "p", digits);
// - device-mapper ("dm-0": LVM, dm-crypt) and software RAID ("md0") sit on
//   top of disks already counted;
// - "loop", "ram", "zram" and optical "sr"/floppy "fd" are not disks the jobs
//   wait on (a loop device's I/O reaches its backing disk anyway).
bool is_whole_disk(std::string_view name) {
  if (name.empty()) return false;
  for (std::string_view skip : {"loop", "ram", "zram", "dm-", "md", "sr", "fd"}) {
    if (starts_with(name, skip)) return false;
  }
  bool trailing_digit = is_digit(name.back());
  for (std::string_view classic : {"sd", "hd", "vd", "xvd"}) {
    if (starts_with(name, classic)) return !trailing_digit;
  }
  size_t digits = name.size();
  while (digits > 0 && is_digit(name[digits - 1]))
    --digits;
  bool p_suffix =
      digits < name.size() && digits >= 2 && name[digits - 1] == 'p' && is_digit(name[digits - 2]);
  return !p_suffix;
}

std::optional<uint64_t> parse_diskstats(std::string_view text) {
  uint64_t ops = 0;
  bool any_line = false;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.empty()) continue;
    // major minor name reads reads_merged sectors_read ms_reading writes ...
    if (fields.size() < 8) return std::nullopt;
    auto reads = parse_u64(fields[3]);
    auto writes = parse_u64(fields[7]);
    if (!reads || !writes) return std::nullopt;
    any_line = true;
    if (is_whole_disk(fields[2])) ops += *reads + *writes;
  }
  if (!any_line) return std::nullopt;
  return ops;
}

std::optional<uint64_t> parse_net_dev(std::string_view text) {
  uint64_t bytes = 0;
  bool any_interface = false;
  for (std::string_view line : split(text, '\n')) {
    // Two header lines, then "  eth0: rx_bytes rx_packets ... (8 receive
    // columns) tx_bytes ...". The header's "Inter-|   Receive" has no colon.
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    std::vector<std::string_view> fields = words(line.substr(colon + 1));
    if (name.empty() || fields.size() < 9) return std::nullopt;
    auto received = parse_u64(fields[0]);
    auto sent = parse_u64(fields[8]);
    if (!received || !sent) return std::nullopt;
    any_interface = true;
    if (name != "lo") bytes += *received + *sent;
  }
  if (!any_interface) return std::nullopt;
  return bytes;
}

std::optional<MemoryLimit> parse_memory_max(std::string_view text) {
  if (trim(text) == "max") return MemoryLimit{true, 0};
  std::optional<uint64_t> bytes = parse_u64(text);
  if (!bytes) return std::nullopt;
  return MemoryLimit{false, *bytes};
}

std::optional<MemoryLimit> parse_memory_limit_in_bytes(std::string_view text) {
  std::optional<uint64_t> bytes = parse_u64(text);
  if (!bytes) return std::nullopt;
  if (*bytes >= (uint64_t{1} << 62)) return MemoryLimit{true, 0};
  return MemoryLimit{false, *bytes};
}

std::optional<Bytes> parse_memory_stat(std::string_view text, std::string_view field) {
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.size() == 2 && fields[0] == field) return parse_u64(fields[1]);
  }
  return std::nullopt;
}

Bytes memory_headroom(Bytes limit, Bytes usage, Bytes inactive_file) {
  Bytes working_set = usage - std::min(usage, inactive_file);
  return limit > working_set ? limit - working_set : 0;
}

}  // namespace wp::platform::detail
