// The text of the cgroup files a job's counters come from, and the names wp
// gives its directories. Pure functions: the unit tests feed them strings.
#include <fmt/format.h>

#include "platform/linux/host_internal.h"
#include "platform/linux/job_cgroup_internal.h"

namespace wp::platform::detail {
namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  for (std::string_view word : split(line, ' ')) {
    word = trim(word);
    if (!word.empty()) out.push_back(word);
  }
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.size() == 2 && fields[0] == key) return parse_u64(fields[1]);
  }
  return std::nullopt;
}

CpuStat parse_cpu_stat(std::string_view text) {
  return {flat_keyed_value(text, "usage_usec"), flat_keyed_value(text, "user_usec"),
          flat_keyed_value(text, "system_usec")};
}

std::optional<IoCounters> parse_io_stat(std::string_view text) {
  IoCounters counters;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.empty()) continue;
    if (!parse_device_number(fields[0])) return std::nullopt;
    for (size_t i = 1; i < fields.size(); ++i) {
      size_t equals = fields[i].find('=');
      if (equals == std::string_view::npos) return std::nullopt;
      std::string_view key = fields[i].substr(0, equals);
      auto value = parse_u64(fields[i].substr(equals + 1));
      if (!value) return std::nullopt;
      if (key == "rios") counters.read_ops += *value;
      if (key == "wios") counters.write_ops += *value;
      if (key == "rbytes") counters.read_bytes += *value;
      if (key == "wbytes") counters.write_bytes += *value;
    }
  }
  return counters;
}

std::optional<ReadWrite> parse_blkio_read_write(std::string_view text) {
  ReadWrite sums;
  bool any_line = false;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.empty()) continue;
    any_line = true;
    // The closing "Total N" line sums every device and direction: skip it.
    if (fields.size() == 2 && fields[0] == "Total" && parse_u64(fields[1])) continue;
    if (fields.size() != 3 || !parse_device_number(fields[0])) return std::nullopt;
    auto value = parse_u64(fields[2]);
    if (!value) return std::nullopt;
    if (fields[1] == "Read") sums.read += *value;
    if (fields[1] == "Write") sums.write += *value;
  }
  if (!any_line) return std::nullopt;
  return sums;
}

std::optional<OomControl> parse_oom_control(std::string_view text) {
  auto under_oom = flat_keyed_value(text, "under_oom");
  if (!under_oom) return std::nullopt;
  return OomControl{flat_keyed_value(text, "oom_kill"), *under_oom != 0};
}

std::optional<CpuacctStat> parse_cpuacct_stat(std::string_view text) {
  auto user = flat_keyed_value(text, "user");
  auto system = flat_keyed_value(text, "system");
  if (!user || !system) return std::nullopt;
  return CpuacctStat{*user, *system};
}

std::optional<CpuacctSplit> parse_cpuacct_usage_all(std::string_view text) {
  CpuacctSplit sum;
  bool header = false;
  size_t cpus = 0;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = words(line);
    if (fields.empty()) continue;
    if (!header) {
      if (fields.size() != 3 || fields[0] != "cpu" || fields[1] != "user" ||
          fields[2] != "system") {
        return std::nullopt;
      }
      header = true;
      continue;
    }
    auto user = fields.size() == 3 ? parse_u64(fields[1]) : std::nullopt;
    auto system = fields.size() == 3 ? parse_u64(fields[2]) : std::nullopt;
    if (!user || !system) return std::nullopt;
    sum.user_ns += *user;
    sum.system_ns += *system;
    ++cpus;
  }
  if (cpus == 0) return std::nullopt;
  return sum;
}

std::optional<uint64_t> parse_stat_start_time(std::string_view text) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  // Field 3 (state) is the first after ')', so field 22 is the 20th.
  std::vector<std::string_view> fields = words(trim(text.substr(paren + 1)));
  constexpr size_t kStartTime = 22 - 3;
  if (fields.size() <= kStartTime) return std::nullopt;
  return parse_u64(fields[kStartTime]);
}

std::string format_run_name(pid_t pid, uint64_t start_time) {
  return fmt::format("wp-{}-{}", pid, start_time);
}

std::optional<RunName> parse_run_name(std::string_view name) {
  constexpr std::string_view kPrefix = "wp-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view pid_text = name.substr(0, dash);
  std::string_view start_text = name.substr(dash + 1);
  // parse_u64 allows blanks around the digits; a directory name must not have them.
  for (std::string_view digits : {pid_text, start_text}) {
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
  }
  auto pid = parse_u64(pid_text);
  auto start = parse_u64(start_text);
  if (!pid || !start || *pid == 0 || *pid > 0x3fffffff) return std::nullopt;  // PID_MAX_LIMIT
  return RunName{static_cast<pid_t>(*pid), *start};
}

std::string sanitise_job_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxJobName)) {
    out += is_name_char(c) ? c : '_';
  }
  if (out.empty()) return "job";
  if (out == "." || out == "..") return std::string(out.size(), '_');
  return out;
}

std::optional<DeviceNumber> parse_device_number(std::string_view text) {
  text = trim(text);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto major = parse_u64(text.substr(0, colon));
  auto minor = parse_u64(text.substr(colon + 1));
  // The kernel's dev_t has 12 bits of major and 20 of minor.
  if (!major || !minor || *major >= (1u << 12) || *minor >= (1u << 20)) return std::nullopt;
  return DeviceNumber{static_cast<unsigned>(*major), static_cast<unsigned>(*minor)};
}

}  // namespace wp::platform::detail
