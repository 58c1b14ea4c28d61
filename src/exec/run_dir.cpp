#include "exec/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <numeric>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "util/unique_fd.h"

namespace wp::exec {

std::string make_run_id(std::chrono::system_clock::time_point now, int pid) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return fmt::format("{}-{}", stamp, pid);
}

std::filesystem::path default_run_dir(const std::filesystem::path& manifest,
                                      const std::string& run_id) {
  std::filesystem::path dir = std::filesystem::absolute(manifest).parent_path();
  return dir / ".wp" / "runs" / run_id;
}

namespace {

constexpr const char* kMarker = ".wp-run";

// Claims the directory for one run: created exclusively, so neither a
// second wp at the same time nor a later run can mix its logs with ours.
Status claim(const std::filesystem::path& dir, const std::string& run_id) {
  std::filesystem::path marker = dir / kMarker;
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd && errno == EEXIST) {
    return make_error(
        "run directory '{}' already holds another run's logs; give a new --run-dir or remove it",
        dir.string());
  }
  if (!fd)
    return make_error("cannot write in run directory '{}': {}", dir.string(), std::strerror(errno));
  std::string line = run_id + "\n";
  if (::write(fd.get(), line.data(), line.size()) < 0) {
    return make_error("cannot write in run directory '{}': {}", dir.string(), std::strerror(errno));
  }
  return Ok{};
}

// Bytes of multi-byte UTF-8 characters are kept: Linux file names take
// them, and "日本" must not become the same stem as "中国".
std::string safe_stem(const std::string& name) {
  std::string stem = name;
  for (char& c : stem) {
    auto byte = static_cast<unsigned char>(c);
    bool plain = byte >= 0x80 || std::isalnum(byte) || c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  if (stem.empty() || stem[0] == '.') stem.insert(stem.begin(), '_');
  return stem;
}

}  // namespace

Result<RunDir> RunDir::create(const std::filesystem::path& path, const std::string& run_id) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return make_error("run directory '{}': {}", path.string(), ec.message());
  std::filesystem::create_directories(absolute, ec);
  if (ec) return make_error("cannot create run directory '{}': {}", path.string(), ec.message());
  if (Status claimed = claim(absolute, run_id); !claimed) return claimed.error();
  // Keep run logs out of version control when they live in the project.
  std::filesystem::path runs = absolute.parent_path();
  if (runs.filename() == "runs" && runs.parent_path().filename() == ".wp") {
    std::filesystem::path ignore = runs.parent_path() / ".gitignore";
    if (!std::filesystem::exists(ignore, ec)) std::ofstream(ignore) << "*\n";
  }
  return RunDir(absolute);
}

std::vector<std::string> RunDir::assign_stems(const std::vector<std::string>& job_names) const {
  std::unordered_map<size_t, std::string> other =
      other_stems(job_names.size(), [&](size_t i) -> const std::string& { return job_names[i]; });
  std::vector<std::string> stems;
  stems.reserve(job_names.size());
  for (size_t i = 0; i < job_names.size(); ++i) {
    auto found = other.find(i);
    stems.push_back(found != other.end() ? found->second : job_names[i]);
  }
  return stems;
}

// '~' never survives safe_stem(), so a stem with a suffix cannot be another
// job's stem: the k-th job of a safe stem, in manifest order, gets "~k".
std::unordered_map<size_t, std::string> RunDir::other_stems(size_t count,
                                                            const NameOf& name_of) const {
  std::unordered_map<size_t, std::string> other;
  for (size_t i = 0; i < count; ++i) {
    std::string safe = safe_stem(name_of(i));
    if (safe != name_of(i)) other.emplace(i, std::move(safe));
  }
  // Views into the names and into `other`, whose nodes never move.
  std::vector<std::string_view> safe(count);
  for (size_t i = 0; i < count; ++i) {
    auto found = other.find(i);
    safe[i] = found != other.end() ? std::string_view(found->second) : name_of(i);
  }
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return safe[a] < safe[b]; });
  for (size_t first = 0, end = 0; first < count; first = end) {
    for (end = first + 1; end < count && safe[order[end]] == safe[order[first]]; ++end) {
      other[order[end]] = fmt::format("{}~{}", safe[order[first]], end - first + 1);
    }
  }
  return other;
}

std::filesystem::path RunDir::log_path(const std::string& stem, int attempt,
                                       const char* stream) const {
  return path_ / fmt::format("{}.{}.{}", stem, attempt, stream);
}

}  // namespace wp::exec
