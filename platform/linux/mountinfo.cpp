// /proc/self/mountinfo and /proc/self/cgroup: where the cgroup hierarchies
// are mounted and where in them this process sits.
#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

// mountinfo escapes blanks and backslashes in paths as octal ("\040").
std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3') {
      int value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = text[i + k];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (std::string_view field : split(line, ' ')) {
    if (!field.empty()) out.push_back(field);
  }
  return out;
}

}  // namespace

// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue":
// root and mount point are fields 4 and 5; after the "-" come type, source, super options.
std::vector<Mount> parse_mountinfo(std::string_view text) {
  std::vector<Mount> mounts;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> parts = fields(line);
    size_t dash = 6;
    while (dash < parts.size() && parts[dash] != "-")
      ++dash;
    if (dash + 1 >= parts.size()) continue;  // no "-" or no filesystem type
    Mount mount;
    mount.root = unescape(parts[3]);
    mount.mount_point = unescape(parts[4]);
    mount.fs_type = std::string(parts[dash + 1]);
    mount.device = std::string(parts[2]);
    if (dash + 3 < parts.size()) {
      for (std::string_view option : split(parts[dash + 3], ',')) {
        mount.super_options.emplace_back(option);
      }
    }
    if (mount.root.empty() || mount.root[0] != '/' || mount.mount_point.empty()) continue;
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

// "0::/user.slice/x" (cgroup2) or "4:memory:/docker/abc" / "2:cpu,cpuacct:/" (v1).
std::vector<ProcCgroup> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroup> entries;
  for (std::string_view line : split(text, '\n')) {
    size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    auto hierarchy = parse_u64(line.substr(0, first));
    std::string_view path = trim(line.substr(second + 1));
    if (!hierarchy || *hierarchy > 1'000'000 || path.empty() || path[0] != '/') continue;
    ProcCgroup entry;
    entry.hierarchy = static_cast<int>(*hierarchy);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) {
      for (std::string_view controller : split(controllers, ',')) {
        entry.controllers.emplace_back(controller);
      }
    }
    entry.path = std::string(path);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace wp::platform::detail
