// The text of the cgroup files a job's counters come from, and the names wp
// gives its directories. Pure functions: the unit tests feed them strings.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "platform/linux/host_internal.h"
#include "platform/linux/job_cgroup_internal.h"

namespace wp::platform::detail {
namespace {

// The counters' files are parsed for every job: the text is walked in
// place, no vector of lines or words is made.
constexpr std::string_view kBlanks = " \t\r\n";

// Takes the next line off the front of `rest`.
std::string_view next_line(std::string_view& rest) {
  size_t end = rest.find('\n');
  std::string_view line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

// Takes the next blank-separated word off the front of `rest`; "" at the end.
std::string_view next_word(std::string_view& rest) {
  size_t begin = rest.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(begin);
  size_t end = std::min(rest.find_first_of(kBlanks), rest.size());
  std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end);
  return word;
}

// The first N words of a line, and whether it has more.
template <size_t N>
struct Words {
  std::array<std::string_view, N> at;
  size_t size = 0;
  bool more = false;
};

template <size_t N>
Words<N> words(std::string_view line) {
  Words<N> out;
  for (std::string_view word = next_word(line); !word.empty(); word = next_word(line)) {
    if (out.size == N) {
      out.more = true;
      break;
    }
    out.at[out.size++] = word;
  }
  return out;
}

std::vector<std::string_view> all_words(std::string_view line) {
  std::vector<std::string_view> out;
  for (std::string_view word = next_word(line); !word.empty(); word = next_word(line))
    out.push_back(word);
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    Words<2> fields = words<2>(next_line(text));
    if (fields.size == 2 && !fields.more && fields.at[0] == key) return parse_u64(fields.at[1]);
  }
  return std::nullopt;
}

CpuStat parse_cpu_stat(std::string_view text) {
  return {flat_keyed_value(text, "usage_usec"), flat_keyed_value(text, "user_usec"),
          flat_keyed_value(text, "system_usec")};
}

std::optional<IoCounters> parse_io_stat(std::string_view text) {
  IoCounters counters;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    std::string_view device = next_word(line);
    if (device.empty()) continue;
    if (!parse_device_number(device)) return std::nullopt;
    for (std::string_view field = next_word(line); !field.empty(); field = next_word(line)) {
      size_t equals = field.find('=');
      if (equals == std::string_view::npos) return std::nullopt;
      std::string_view key = field.substr(0, equals);
      auto value = parse_u64(field.substr(equals + 1));
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
  while (!text.empty()) {
    Words<3> fields = words<3>(next_line(text));
    if (fields.size == 0) continue;
    any_line = true;
    // The closing "Total N" line sums every device and direction: skip it.
    if (fields.size == 2 && fields.at[0] == "Total" && parse_u64(fields.at[1])) continue;
    if (fields.size != 3 || fields.more || !parse_device_number(fields.at[0])) return std::nullopt;
    auto value = parse_u64(fields.at[2]);
    if (!value) return std::nullopt;
    if (fields.at[1] == "Read") sums.read += *value;
    if (fields.at[1] == "Write") sums.write += *value;
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
  while (!text.empty()) {
    Words<3> fields = words<3>(next_line(text));
    if (fields.size == 0) continue;
    bool three = fields.size == 3 && !fields.more;
    if (!header) {
      if (!three || fields.at[0] != "cpu" || fields.at[1] != "user" || fields.at[2] != "system") {
        return std::nullopt;
      }
      header = true;
      continue;
    }
    auto user = three ? parse_u64(fields.at[1]) : std::nullopt;
    auto system = three ? parse_u64(fields.at[2]) : std::nullopt;
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
  std::vector<std::string_view> fields = all_words(text.substr(paren + 1));
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
