// The run directory: one per run, holding every attempt's stdout and stderr
// and the summary.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/result.h"

namespace wp::exec {

// "20261124-055012-4242": sortable by time, unique per process.
std::string make_run_id(std::chrono::system_clock::time_point now, int pid);

// The default place: .wp/runs/<run-id>/ in the manifest's directory.
std::filesystem::path default_run_dir(const std::filesystem::path& manifest,
                                      const std::string& run_id);

class RunDir {
 public:
  // Creates `path` (and, for the default layout, a .gitignore in .wp/) and
  // claims it for `run_id`: a directory another run has used is refused.
  static Result<RunDir> create(const std::filesystem::path& path, const std::string& run_id);

  const std::filesystem::path& path() const { return path_; }

  // A file-name stem per job: the name with ASCII characters outside
  // [A-Za-z0-9._-] replaced by '_', made unique with "~2", "~3"...
  std::vector<std::string> assign_stems(const std::vector<std::string>& job_names) const;
  // The same for `count` jobs named name_of(i), but only the stems that
  // differ from their job's name, by job: what a run keeps, with no copy of
  // 100,000 names.
  using NameOf = std::function<const std::string&(size_t)>;
  std::unordered_map<size_t, std::string> other_stems(size_t count, const NameOf& name_of) const;

  // <dir>/<stem>.<attempt>.out and .err
  std::filesystem::path log_path(const std::string& stem, int attempt, const char* stream) const;

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace wp::exec
