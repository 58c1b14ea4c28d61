#include "cgroup_fixture.h"

#include <unistd.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace wpit {
namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> cgroups_in(const std::string& proc_cgroup) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(proc_cgroup);
  for (std::string line; std::getline(lines, line);) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      out.emplace_back("", path);
      continue;
    }
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      out.emplace_back(c, path);
  }
  return out;
}

namespace {

bool write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// This process's cgroup path per v1 controller, and on the unified
// hierarchy (key ""), from /proc/self/cgroup.
std::vector<std::pair<std::string, std::string>> own_cgroups() {
  std::ifstream in("/proc/self/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  return cgroups_in(text.str());
}

std::optional<std::string> own_path(const std::string& controller) {
  for (const auto& [c, path] : own_cgroups()) {
    if (c == controller) return path;
  }
  return std::nullopt;
}

struct Placement {
  fs::path dir;
  std::string limit_file;
  std::string value;
};

std::optional<Placement> placement_for(const Limit& limit, std::string& why) {
  std::optional<std::string> v1_path = own_path(limit.controller);
  std::optional<std::string> v2_path = own_path("");
  fs::path v1_mount = fs::path("/sys/fs/cgroup") / limit.controller;
  if (v1_path && fs::exists(v1_mount / limit.v1_file)) {
    return Placement{v1_mount / fs::path(*v1_path).relative_path(), limit.v1_file, limit.v1_value};
  }
  if (v2_path && fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    fs::path dir = fs::path("/sys/fs/cgroup") / fs::path(*v2_path).relative_path();
    // The child needs the controller enabled in our cgroup.
    if (!write_text(dir / "cgroup.subtree_control", "+" + limit.controller)) {
      why = "cannot enable the " + limit.controller + " controller in " + dir.string();
      return std::nullopt;
    }
    return Placement{dir, limit.v2_file, limit.v2_value};
  }
  why = "no writable " + limit.controller + " cgroup (v1 or v2) found";
  return std::nullopt;
}

bool is_run_dir_name(const std::string& name) {
  return name.rfind("wp-", 0) == 0 && name.find('-', 3) != std::string::npos;
}

// Where each hierarchy is mounted and this process's place in it.
std::vector<fs::path> own_dirs() {
  std::vector<fs::path> dirs;
  std::set<std::string> seen;
  for (const auto& [controller, path] : own_cgroups()) {
    fs::path mount = controller.empty() ? fs::path("/sys/fs/cgroup/unified")
                                        : fs::path("/sys/fs/cgroup") / controller;
    if (controller.empty() && !fs::exists(mount / "cgroup.procs")) mount = "/sys/fs/cgroup";
    if (controller.rfind("name=", 0) == 0 || !fs::exists(mount / "cgroup.procs")) continue;
    fs::path dir = mount / fs::path(path).relative_path();
    if (seen.insert(dir.string()).second) dirs.push_back(dir);
  }
  return dirs;
}

}  // namespace

Limit memory_limit(unsigned long long bytes) {
  std::string value = std::to_string(bytes);
  return {"memory", "memory.limit_in_bytes", "memory.max", value, value};
}

Limit cpu_quota_millis(int millis) {
  std::string quota = std::to_string(millis * 100);
  return {"cpu", "cpu.cfs_quota_us", "cpu.max", quota, quota + " 100000"};
}

LimitedCgroup::LimitedCgroup(const Limit& limit) {
  if (::geteuid() != 0) {
    why_ = "not root";
    return;
  }
  auto placement = placement_for(limit, why_);
  if (!placement) return;
  home_ = placement->dir;
  dir_ = home_ / ("wp-test-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directory(dir_, ec)) {
    why_ = "cannot create " + dir_.string() + ": " + ec.message();
    return;
  }
  if (!write_text(dir_ / placement->limit_file, placement->value) ||
      !write_text(dir_ / "cgroup.procs", std::to_string(::getpid()))) {
    why_ = "cannot limit or enter " + dir_.string();
    return;
  }
  entered_ = true;
}

LimitedCgroup::~LimitedCgroup() {
  if (entered_) write_text(home_ / "cgroup.procs", std::to_string(::getpid()));
  std::error_code ec;
  if (!dir_.empty()) fs::remove(dir_, ec);  // rmdir: cgroup files go with it
}

std::string job_cgroups_unavailable() {
  if (::geteuid() != 0) return "not root";
  if (!fs::exists("/sys/fs/cgroup/memory/cgroup.procs") &&
      !fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    return "no cgroup v1 memory hierarchy or cgroup v2 mounted";
  }
  return "";
}

std::vector<fs::path> wp_cgroup_dirs() {
  std::vector<fs::path> found;
  std::set<std::string> seen;
  for (const fs::path& own : own_dirs()) {
    for (const fs::path& parent : {own, own.parent_path()}) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(parent, ec)) {
        std::string name = entry.path().filename().string();
        if (entry.is_directory() && is_run_dir_name(name) && name.rfind("wp-test-", 0) != 0 &&
            seen.insert(entry.path().string()).second) {
          found.push_back(entry.path());
        }
      }
    }
  }
  return found;
}

std::vector<fs::path> wp_cgroup_dirs_of(int pid) {
  std::vector<fs::path> mine;
  std::string prefix = "wp-" + std::to_string(pid) + "-";
  for (const fs::path& dir : wp_cgroup_dirs()) {
    if (dir.filename().string().rfind(prefix, 0) == 0) mine.push_back(dir);
  }
  return mine;
}

}  // namespace wpit
