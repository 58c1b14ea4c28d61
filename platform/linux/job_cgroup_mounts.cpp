// Where wp's own cgroups are, per hierarchy: the mounts of
// /proc/self/mountinfo and the paths of /proc/self/cgroup, re-rooted under
// HostRoots so that fixture trees stand in for the machine.
#include <fmt/format.h>

#include "platform/linux/job_cgroup_internal.h"

namespace wp::platform::detail {
namespace {

namespace fs = std::filesystem;

fs::path reroot(const HostRoots& roots, const std::string& mount_point) {
  if (mount_point == "/sys") return roots.sys;
  if (mount_point.rfind("/sys/", 0) == 0) return roots.sys / mount_point.substr(5);
  return roots.root / fs::path(mount_point).relative_path();
}

// The parts of `process_path` below the mount's root; nothing when the path
// is the root or lies outside it.
std::vector<std::string> parts_below(const std::string& mount_root,
                                     const std::string& process_path) {
  std::string_view rel;
  if (mount_root == "/") {
    rel = process_path;
  } else if (process_path.rfind(mount_root + "/", 0) == 0) {
    rel = std::string_view(process_path).substr(mount_root.size());
  }
  std::vector<std::string> parts;
  for (std::string_view part : split(rel, '/')) {
    if (part == "..") return {};
    if (!part.empty() && part != ".") parts.emplace_back(part);
  }
  return parts;
}

}  // namespace

OwnCgroup own_cgroup(const HostRoots& roots, const Mount& mount, const std::string& process_path) {
  std::vector<std::string> parts = parts_below(mount.root, process_path);
  OwnCgroup own;
  own.dir = reroot(roots, mount.mount_point);
  own.path = mount.root == "/" ? "" : mount.root;
  for (const std::string& part : parts) {
    own.dir /= part;
    own.path += "/" + part;
  }
  // push_back, not = "/": GCC 12 -Wrestrict misfires on the literal here.
  if (own.path.empty()) own.path.push_back('/');
  own.is_mount_root = parts.empty();
  return own;
}

std::vector<Mount> read_mounts(const HostRoots& roots) {
  return parse_mountinfo(read_text(roots.proc / "self/mountinfo").value_or(""));
}

std::vector<ProcCgroup> read_proc_cgroups(const HostRoots& roots) {
  return parse_proc_cgroup(read_text(roots.proc / "self/cgroup").value_or(""));
}

bool v1_memory_mounted(const HostRoots& roots) {
  for (const Mount& mount : read_mounts(roots)) {
    for (const std::string& option : mount.super_options) {
      if (mount.fs_type == "cgroup" && option == "memory") return true;
    }
  }
  return false;
}

std::string join_controllers(const std::vector<std::string>& controllers) {
  if (controllers.empty()) return "no controllers";
  return fmt::format("{}", fmt::join(controllers, ", "));
}

Status join_errors(const std::vector<std::string>& errors) {
  if (errors.empty()) return Ok{};
  return make_error("{}", fmt::join(errors, "; "));
}

}  // namespace wp::platform::detail
