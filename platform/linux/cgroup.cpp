// Where this process sits in the cgroup hierarchies, as directories to read
// limits from. Limits nest: a parent's limit binds every child, so callers
// walk the whole chain from the process's cgroup up to the mount's root.
#include <algorithm>

#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

// The v1 controllers whose files wp reads.
constexpr std::string_view kV1Controllers[] = {"cpu", "cpuset", "memory"};

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Mount points under /sys are read under roots.sys so that fixture trees work;
// anything else (rare: a cgroup mounted elsewhere) under roots.root.
std::filesystem::path reroot(const HostRoots& roots, const std::string& mount_point) {
  if (mount_point == "/sys") return roots.sys;
  if (mount_point.rfind("/sys/", 0) == 0) return roots.sys / mount_point.substr(5);
  return roots.root / std::filesystem::path(mount_point).relative_path();
}

std::string join_cgroup_path(const std::string& root, const std::vector<std::string_view>& parts,
                             size_t count) {
  std::string path = root == "/" ? "" : root;
  for (size_t i = 0; i < count; ++i) {
    path += '/';
    path += parts[i];
  }
  return path.empty() ? "/" : path;
}

// The process's cgroup relative to what the mount exposes. Inside a container
// without a cgroup namespace of its own, the mount's root may be the
// container's cgroup while /proc/self/cgroup says "/" (or a path outside the
// mount): the mount's root is then our cgroup.
std::vector<std::string_view> relative_parts(const std::string& mount_root,
                                             const std::string& process_path) {
  std::string_view rel;
  if (mount_root == "/") {
    rel = process_path;
  } else if (process_path == mount_root) {
    rel = {};
  } else if (process_path.rfind(mount_root + "/", 0) == 0) {
    rel = std::string_view(process_path).substr(mount_root.size());
  } else {
    return {};
  }
  std::vector<std::string_view> parts;
  for (std::string_view part : split(rel, '/')) {
    if (part == "..") return {};
    if (!part.empty() && part != ".") parts.push_back(part);
  }
  return parts;
}

std::vector<CgroupDir> chain(const HostRoots& roots, const Mount& mount,
                             const std::string& process_path) {
  std::vector<std::string_view> parts = relative_parts(mount.root, process_path);
  std::filesystem::path base = reroot(roots, mount.mount_point);
  std::vector<CgroupDir> dirs;
  for (size_t depth = parts.size() + 1; depth-- > 0;) {
    std::filesystem::path dir = base;
    for (size_t i = 0; i < depth; ++i)
      dir /= std::string(parts[i]);
    dirs.push_back({dir, join_cgroup_path(mount.root, parts, depth)});
  }
  return dirs;
}

const ProcCgroup* find_entry(const std::vector<ProcCgroup>& entries, std::string_view controller) {
  for (const ProcCgroup& entry : entries) {
    bool unified = entry.hierarchy == 0 && entry.controllers.empty();
    if (controller.empty() ? unified : contains(entry.controllers, controller)) return &entry;
  }
  return nullptr;
}

std::string layout(bool has_v1, const Mount* v2) {
  if (has_v1 && v2) return "hybrid (v1 controllers, cgroup2 at " + v2->mount_point + ")";
  if (has_v1) return "cgroup v1";
  if (v2) return "cgroup v2 (unified)";
  return "none";
}

}  // namespace

CgroupView read_cgroups(const HostRoots& roots) {
  std::vector<Mount> mounts =
      parse_mountinfo(read_text(roots.proc / "self/mountinfo").value_or(""));
  std::vector<ProcCgroup> entries =
      parse_proc_cgroup(read_text(roots.proc / "self/cgroup").value_or(""));

  CgroupView view;
  const Mount* v2 = nullptr;
  bool has_v1 = false;
  for (const Mount& mount : mounts) {
    if (mount.fs_type == "cgroup2" && !v2) v2 = &mount;
    if ((mount.fs_type == "cgroup2" || mount.fs_type == "cgroup") &&
        contains(mount.super_options, "favordynmods")) {
      view.info.favordynmods = true;
    }
    if (mount.fs_type != "cgroup") continue;
    view.paths.push_back(mount.root);
    for (std::string_view controller : kV1Controllers) {
      if (!contains(mount.super_options, controller) || view.v1.contains(controller)) continue;
      has_v1 = true;
      const ProcCgroup* entry = find_entry(entries, controller);
      view.v1.emplace(std::string(controller), chain(roots, mount, entry ? entry->path : "/"));
    }
  }
  const ProcCgroup* unified_entry = find_entry(entries, "");
  if (v2) {
    view.paths.push_back(v2->root);
    view.unified = chain(roots, *v2, unified_entry ? unified_entry->path : "/");
  }
  for (const ProcCgroup& entry : entries)
    view.paths.push_back(entry.path);

  view.info.layout = layout(has_v1, v2);
  view.info.version = has_v1 ? 1 : v2 ? 2 : 0;
  const ProcCgroup* own = has_v1 ? find_entry(entries, "memory") : unified_entry;
  if (!own && !entries.empty()) own = &entries.front();
  if (view.info.version != 0 && own) view.info.path = own->path;
  return view;
}

}  // namespace wp::platform::detail
