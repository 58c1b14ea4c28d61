#include "exec/run_dir.h"

#include <cctype>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

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

Result<RunDir> RunDir::create(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return make_error("run directory '{}': {}", path.string(), ec.message());
  std::filesystem::create_directories(absolute, ec);
  if (ec) return make_error("cannot create run directory '{}': {}", path.string(), ec.message());
  // Keep run logs out of version control when they live in the project.
  std::filesystem::path runs = absolute.parent_path();
  if (runs.filename() == "runs" && runs.parent_path().filename() == ".wp") {
    std::filesystem::path ignore = runs.parent_path() / ".gitignore";
    if (!std::filesystem::exists(ignore, ec)) std::ofstream(ignore) << "*\n";
  }
  return RunDir(absolute);
}

std::vector<std::string> RunDir::assign_stems(const std::vector<std::string>& job_names) const {
  std::vector<std::string> stems;
  std::set<std::string> taken;
  stems.reserve(job_names.size());
  for (const std::string& name : job_names) {
    std::string stem = name;
    for (char& c : stem) {
      bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      if (!plain) c = '_';
    }
    if (stem.empty() || stem[0] == '.') stem.insert(0, "_");
    std::string unique = stem;
    for (int n = 2; taken.count(unique) != 0; ++n)
      unique = fmt::format("{}-{}", stem, n);
    taken.insert(unique);
    stems.push_back(std::move(unique));
  }
  return stems;
}

std::filesystem::path RunDir::log_path(const std::string& stem, int attempt,
                                       const char* stream) const {
  return path_ / fmt::format("{}.{}.{}", stem, attempt, stream);
}

}  // namespace wp::exec
