// Reading and parsing the small text files of /proc and /sys. Garbage yields
// nothing rather than an exception: a figure we cannot read is a figure we do
// not use.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "platform/linux/host_internal.h"
#include "util/unique_fd.h"

namespace wp::platform::detail {

// open, fstat, read, close: the fewest system calls, since the /proc scans
// and cgroup reads of a run call this for every process and every job. A
// process that exits while its file is read fails the read (ESRCH): that
// is nothing, like a file that is gone.
std::optional<std::string> read_text(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a fifo must not wait for a writer.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return std::nullopt;
  // Reading a directory fails, and a device or fifo could block; only
  // regular files (and /proc's zero-sized ones, which are regular too)
  // carry figures.
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return text;
    } else if (errno != EINTR) {
      return std::nullopt;
    }
  }
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  size_t begin = text.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kBlanks);
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

namespace {

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<uint64_t> parse_u64(std::string_view text) {
  return parse_number<uint64_t>(text);
}
std::optional<int64_t> parse_i64(std::string_view text) {
  return parse_number<int64_t>(text);
}

std::optional<int> count_cpu_list(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  int count = 0;
  for (std::string_view range : split(text, ',')) {
    std::vector<std::string_view> ends = split(range, '-');
    auto first = parse_u64(ends[0]);
    auto last = ends.size() == 2 ? parse_u64(ends[1]) : first;
    // 4096 is the kernel's largest NR_CPUS; anything beyond is garbage.
    if (ends.size() > 2 || !first || !last || *last < *first || *last >= 4096) return std::nullopt;
    count += static_cast<int>(*last - *first + 1);
  }
  return count;
}

std::optional<std::string> key_value(std::string_view text, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return std::string(trim(line.substr(key.size() + 1)));
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> meminfo_bytes(std::string_view text, std::string_view field) {
  auto value = key_value(text, field);
  if (!value) return std::nullopt;
  std::string_view number = *value;
  if (number.size() > 2 && number.substr(number.size() - 2) == "kB") {
    number.remove_suffix(2);
  }
  auto kib = parse_u64(number);
  if (!kib || *kib > UINT64_MAX / 1024) return std::nullopt;
  return *kib * 1024;
}

std::optional<std::string> env_value(const HostRoots& roots, const std::string& name) {
  if (auto it = roots.env.find(name); it != roots.env.end()) return it->second;
  if (!roots.use_environ) return std::nullopt;
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

bool is_real_machine(const HostRoots& roots) {
  HostRoots real;
  return roots.proc == real.proc && roots.sys == real.sys && roots.dev == real.dev &&
         roots.root == real.root && roots.use_environ;
}

}  // namespace wp::platform::detail
